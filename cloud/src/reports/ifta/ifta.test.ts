/**
 * The IFTA rules on borders that are exact lines of latitude or longitude (CO/WY 41°N, CO/UT
 * 109.05°W, KS/CO 102.05°W; reports/fixtures/straight-borders.geojson), so every split is known
 * in closed form; the odometer allocation; a worked return to the cent; the rate matrix import.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { EARTH_RADIUS_M, haversineM } from '@fleet/shared';
import { describe, expect, it } from 'vitest';
import { isCloudError } from '../../errors.ts';
import { allocateByShare } from '../distance/allocate.ts';
import { summariseTrack, type TrackSample } from '../distance/track.ts';
import { IFTA_JURISDICTIONS } from '../jurisdictions/default-map.ts';
import { JurisdictionMap } from '../jurisdictions/jurisdiction-map.ts';
import type { IftaQuarter } from '../quarter.ts';
import { computeIftaReturn, type IftaVehicle } from './ifta-return.ts';
import { parseRateMatrix } from './rate-matrix.ts';

const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures');
const map = JurisdictionMap.fromGeoJson(
  JSON.parse(readFileSync(path.join(FIXTURES, 'straight-borders.geojson'), 'utf8')),
  IFTA_JURISDICTIONS,
  'straight-borders fixture',
);
const RAD = Math.PI / 180;
const Q3: IftaQuarter = { year: 2026, quarter: 3 };
const T0 = Date.UTC(2026, 6, 14, 8);

/** A straight drive from a to b, a fix every `stepMs`, engine on, the odometer in 0.1 km. */
function drive(
  a: [number, number],
  b: [number, number],
  steps: number,
  startKm = 0,
  t0 = T0,
  stepMs = 10_000,
): TrackSample[] {
  const out: TrackSample[] = [];
  let km = 0;
  for (let i = 0; i <= steps; i++) {
    const lat = a[0] + ((b[0] - a[0]) * i) / steps;
    const lon = a[1] + ((b[1] - a[1]) * i) / steps;
    if (i > 0) {
      const p = out[i - 1]!;
      const dLat = (lat - p.lat!) * RAD;
      const dLon = (lon - p.lon!) * RAD * Math.cos(((lat + p.lat!) / 2) * RAD);
      km += (EARTH_RADIUS_M * Math.hypot(dLat, dLon)) / 1000;
    }
    out.push({
      ts: t0 + i * stepMs,
      lat,
      lon,
      speedKmh: 40,
      rpm: 1400,
      odometerKm: Math.round((startKm + km) * 10) / 10,
    });
  }
  return out;
}

const metresIn = (s: ReturnType<typeof summariseTrack>, code: string) =>
  s.days.reduce((sum, d) => sum + (d.byJurisdiction.get(code) ?? 0), 0);

describe('tracks split at straight borders', () => {
  it('CO/WY at 41°N: due north from 40.95°N to 41.15°N is 1/4 Colorado, 3/4 Wyoming', () => {
    const s = summariseTrack(drive([40.95, -105], [41.15, -105], 200), map);
    const arc = (deg: number) => EARTH_RADIUS_M * deg * RAD; // a meridian arc
    expect(metresIn(s, 'CO')).toBeCloseTo(arc(0.05), 3);
    expect(metresIn(s, 'WY')).toBeCloseTo(arc(0.15), 3);
    const crossing = s.records.filter((r) => r.kind === 'crossing');
    expect(crossing).toHaveLength(1);
    expect(crossing[0]!.lat).toBeCloseTo(41, 10);
    expect(crossing[0]!.jurisdiction).toBe('WY');
  });

  it('CO/UT at 109.05°W: due west along 39°N from 109.00°W to 109.20°W splits 1 : 3 exactly', () => {
    const s = summariseTrack(drive([39, -109.0], [39, -109.2], 200), map);
    const co = metresIn(s, 'CO');
    const ut = metresIn(s, 'UT');
    expect(co / (co + ut)).toBeCloseTo(0.25, 9);
    expect(co).toBeCloseTo(EARTH_RADIUS_M * Math.cos(39 * RAD) * 0.05 * RAD, 1);
  });

  it('KS/CO at 102.05°W: a diagonal is cut at its interpolated crossing, with time and odometer', () => {
    // From (38.5, -102.2) to (38.7, -101.9): the 102.05°W line is crossed halfway, at 38.6°N.
    const samples = drive([38.5, -102.2], [38.7, -101.9], 3, 1000, T0, 360_000); // 6-minute steps
    const s = summariseTrack(samples, map);
    const c = s.records.find((r) => r.kind === 'crossing')!;
    expect([c.lat.toFixed(4), c.lon.toFixed(4), c.jurisdiction]).toEqual(['38.6000', '-102.0500', 'KS']);
    // Halfway through the second step (fixes at 0, 6, 12, 18 min; the line at 9 min).
    expect(c.ts).toBe(T0 + 9 * 60_000);
    expect(c.odometerKm).toBeCloseTo((samples[1]!.odometerKm! + samples[2]!.odometerKm!) / 2, 9);
    // Colorado's distance: the first step and the second up to the crossing, great-circle metres.
    const [p0, p1] = samples as [TrackSample, TrackSample];
    expect(metresIn(s, 'CO')).toBeCloseTo(
      haversineM(p0.lat!, p0.lon!, p1.lat!, p1.lon!) + haversineM(p1.lat!, p1.lon!, 38.6, -102.05),
      6,
    );
  });

  it('trip detail records are never more than 10 minutes apart while driving', () => {
    const s = summariseTrack(drive([38, -106], [38, -104], 600), map); // 100 minutes
    const gaps = s.records.slice(1).map((r, i) => r.ts - s.records[i]!.ts);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(10 * 60_000);
    expect(s.records.length).toBeGreaterThanOrEqual(10);
  });

  it('a 30-minute silence with the engine on, across the CO/WY border, is flagged and still split', () => {
    const before = drive([40.8, -105], [40.9, -105], 20, 5000);
    const after = drive([41.1, -105], [41.2, -105], 20, 5000 + 33.4, before.at(-1)!.ts + 30 * 60_000);
    const s = summariseTrack([...before, ...after], map);
    expect(s.gaps).toHaveLength(1);
    expect(s.gaps[0]).toMatchObject({ fromJurisdiction: 'CO', toJurisdiction: 'WY', to: after[0]!.ts });
    expect(s.gaps[0]!.to - s.gaps[0]!.from).toBe(30 * 60_000);
    // The straight line across the gap is split at 41°N too (CO 0.1°, WY 0.1° of it).
    expect(metresIn(s, 'CO')).toBeCloseTo(EARTH_RADIUS_M * 0.2 * RAD, 2);
    expect(metresIn(s, 'WY')).toBeCloseTo(EARTH_RADIUS_M * 0.2 * RAD, 2);
    const r = computeIftaReturn({
      quarter: Q3,
      jurisdictions: IFTA_JURISDICTIONS,
      vehicles: [],
      purchases: [],
      rates: [],
      gaps: s.gaps.map((g) => ({ ...g, vehicleId: 'truck-1' })),
      boundariesSource: map.source,
    });
    expect(r.dataQuality.gaps).toEqual([
      expect.objectContaining({
        vehicleId: 'truck-1',
        minutes: 30,
        fromJurisdiction: 'CO',
        toJurisdiction: 'WY',
      }),
    ]);
  });

  it('a drive across midnight, summarised a day at a time, loses no step and finds the gap', () => {
    const t0 = Date.UTC(2026, 6, 14, 23, 55);
    const all = drive([40.8, -105], [41.2, -105], 60, 0, t0); // 23:55 to 00:05, across 41°N
    const whole = summariseTrack(all, map);
    const cut = all.findIndex((x) => x.ts >= Date.UTC(2026, 6, 15));
    const day1 = summariseTrack(all.slice(0, cut), map);
    const day2 = summariseTrack(all.slice(cut), map, {}, null, all[cut - 1]!);
    const total = (s: ReturnType<typeof summariseTrack>) => s.days.reduce((x, d) => x + d.gpsMetres, 0);
    expect(total(day1) + total(day2)).toBeCloseTo(total(whole), 6);
    expect(day2.days.map((d) => d.day)).toEqual(['2026-07-15']);
    // Twenty minutes of silence from 23:50 to 00:10 with the engine on: seen from the second day.
    const quiet = [all[0]!, { ...all[0]!, ts: all[0]!.ts + 20 * 60_000, lat: 40.81 }];
    const gap = summariseTrack([quiet[1]!], map, {}, null, { ...quiet[0]!, ts: quiet[0]!.ts - 5 * 60_000 });
    expect(gap.gaps).toHaveLength(1);
  });

  it('a parked vehicle wandering across a border adds no distance and no crossing', () => {
    const wander: TrackSample[] = Array.from({ length: 100 }, (_, i) => ({
      ts: T0 + i * 1000,
      lat: 41 + (i % 2 ? 0.00005 : -0.00005), // ±5.5 m around the 41°N line
      lon: -105,
      speedKmh: 0,
      rpm: 700,
      odometerKm: 1234.5,
    }));
    const s = summariseTrack(wander, map);
    expect(s.days[0]!.gpsMetres).toBe(0);
    expect(s.records.filter((r) => r.kind === 'crossing')).toHaveLength(0);
  });
});

describe('odometer distance allocated by GPS share', () => {
  it('largest remainder: parts sum exactly to the total, ties go to the first key', () => {
    const w = new Map([
      ['CO', 1],
      ['WY', 1],
      ['UT', 1],
    ]);
    expect([...allocateByShare(100, w)]).toEqual([
      ['CO', 34],
      ['WY', 33],
      ['UT', 33],
    ]);
    for (let total = 0; total < 500; total += 37) {
      const parts = allocateByShare(
        total,
        new Map([
          ['a', Math.PI],
          ['b', Math.E],
          ['c', 0.001],
          ['d', 0],
        ]),
      );
      expect([...parts.values()].reduce((s, x) => s + x, 0)).toBe(total);
    }
  });

  it('per-jurisdiction miles of a three-state, three-day quarter sum exactly to the odometer delta', () => {
    // Day 1 UT → CO, day 2 CO → KS, day 3 CO → WY; the odometer reads 0.1 km steps.
    const days = [
      drive([39, -110], [39, -108], 400, 20_000.0, T0),
      drive([38.5, -103], [38.5, -101], 400, 20_190.3, T0 + 86_400_000),
      drive([40.5, -106], [41.5, -106], 300, 20_364.9, T0 + 2 * 86_400_000),
    ];
    const s = summariseTrack(days.flat(), map);
    const vehicle: IftaVehicle = {
      vehicleId: 'truck-1',
      fuelType: 'diesel',
      days: s.days.map((d) => ({
        day: d.day,
        odometerMetres: Math.round((d.odometerEndKm! - d.odometerStartKm!) * 1000),
        gpsMetres: d.byJurisdiction,
      })),
    };
    const odometerMetres = Math.round((days[2]!.at(-1)!.odometerKm! - 20_000) * 1000);
    const odometerMiles = Math.round(odometerMetres / 1609.344);
    const r = computeIftaReturn({
      quarter: Q3,
      jurisdictions: IFTA_JURISDICTIONS,
      vehicles: [vehicle],
      purchases: [
        {
          id: 'p',
          vehicleId: 'truck-1',
          ts: T0,
          litres: 200,
          fuelType: 'diesel',
          jurisdiction: 'CO',
          station: null,
        },
      ],
      rates: [],
      gaps: [],
      boundariesSource: map.source,
    });
    expect(r.lines.map((l) => l.jurisdiction)).toEqual(['CO', 'KS', 'UT', 'WY']);
    expect(r.lines.reduce((sum, l) => sum + l.totalMiles, 0)).toBe(odometerMiles);
    expect(r.fuels[0]!.totalMiles).toBe(odometerMiles);
    // Day-level: the metres given to each jurisdiction sum to that day's odometer metres.
    for (const d of vehicle.days) {
      const parts = allocateByShare(d.odometerMetres!, d.gpsMetres);
      expect([...parts.values()].reduce((a, b) => a + b, 0)).toBe(d.odometerMetres);
    }
  });
});

describe('the worked return (fixture rate matrix 2026Q3), to the cent', () => {
  const rates = parseRateMatrix(
    readFileSync(path.join(FIXTURES, 'ifta-rate-matrix-2026Q3.csv'), 'utf8'),
    Q3,
    IFTA_JURISDICTIONS,
  );
  const mi = (miles: number) => Math.round(miles * 1609.344);
  /** One day per jurisdiction, the odometer's metres all in it. */
  const vehicle: IftaVehicle = {
    vehicleId: 'truck-1',
    fuelType: 'diesel',
    days: (
      [
        ['2026-07-01', 'CO', 1203],
        ['2026-07-02', 'WY', 797],
        ['2026-07-03', 'KY', 503],
      ] as const
    ).map(([day, code, miles]) => ({ day, odometerMetres: mi(miles), gpsMetres: new Map([[code, 1000]]) })),
  };
  const gal = (g: number) => g * 3.785411784;
  const purchase = (id: string, jurisdiction: string | null, gallons: number) => ({
    id,
    vehicleId: 'truck-1',
    ts: T0,
    litres: gal(gallons),
    fuelType: 'diesel' as const,
    jurisdiction,
    station: `${jurisdiction} stop`,
  });
  const r = computeIftaReturn({
    quarter: Q3,
    jurisdictions: IFTA_JURISDICTIONS,
    vehicles: [vehicle],
    purchases: [
      purchase('co-1', 'CO', 100),
      purchase('co-2', 'CO', 50),
      purchase('wy-1', 'WY', 250),
      purchase('ky-1', 'KY', 100),
    ],
    rates,
    gaps: [],
    boundariesSource: map.source,
  });

  it('fleet MPG = 2,503 mi ÷ 500 gal = 5.006 → 5.01', () => {
    expect(r.fuels).toEqual([
      { fuelType: 'diesel', totalMiles: 2503, nonIftaMiles: 0, totalGallons: 500, mpg: '5.01' },
    ]);
  });

  it('each line: taxable gallons, tax-paid, net, tax or credit, the KY surcharge', () => {
    const pick = (code: string) => {
      const l = r.lines.find((x) => x.jurisdiction === code)!;
      return [
        l.totalMiles,
        l.taxableGallons,
        l.taxPaidGallons,
        l.netTaxableGallons,
        l.rate,
        l.taxCents,
        l.surchargeCents,
        l.dueCents,
      ];
    };
    // CO: 1203 / 5.01 = 240.12 → 240 gal; 240 − 150 = 90 × $0.2050 = $18.45
    expect(pick('CO')).toEqual([1203, 240, 150, 90, '0.20500', 1845, 0, 1845]);
    // WY: 797 / 5.01 = 159.08 → 159; 159 − 250 = −91 × $0.24 = −$21.84 (a credit)
    expect(pick('WY')).toEqual([797, 159, 250, -91, '0.24000', -2184, 0, -2184]);
    // KY: 503 / 5.01 = 100.40 → 100; net 0 → no tax; surcharge 100 × $0.10215 = $10.215 → $10.22
    expect(pick('KY')).toEqual([503, 100, 100, 0, '0.25000', 0, 1022, 1022]);
    expect(r.lines.find((x) => x.jurisdiction === 'KY')!.surchargeRate).toBe('0.10215');
    expect(r.totalDueCents).toBe(1845 - 2184 + 1022);
  });

  it('data quality: a purchase without a jurisdiction loses its credit and is listed', () => {
    const r2 = computeIftaReturn({
      quarter: Q3,
      jurisdictions: IFTA_JURISDICTIONS,
      vehicles: [
        vehicle,
        {
          vehicleId: 'van-gps-only',
          fuelType: 'diesel',
          days: [{ day: '2026-07-05', odometerMetres: null, gpsMetres: new Map([['CO', 5000]]) }],
        },
      ],
      purchases: [purchase('x', null, 10)],
      rates,
      gaps: [],
      boundariesSource: map.source,
    });
    expect(r2.dataQuality.purchasesWithoutJurisdiction.map((p) => p.id)).toEqual(['x']);
    // truck-1's days have 1,000 GPS metres against hundreds of odometer miles: each is listed.
    expect(r2.dataQuality.odometerGpsMismatch.map((m) => [m.day, m.gpsKm])).toEqual([
      ['2026-07-01', 1],
      ['2026-07-02', 1],
      ['2026-07-03', 1],
    ]);
    expect(r2.dataQuality.vehiclesWithoutOdometer).toEqual(['van-gps-only']);
    expect(r2.lines.every((l) => l.taxPaidGallons === 0)).toBe(true);
  });
});

describe('rate matrix import', () => {
  const text = readFileSync(path.join(FIXTURES, 'ifta-rate-matrix-2026Q3.csv'), 'utf8');

  it('reads U.S. gallon rows, skips Canadian liter rows, attaches the KY surcharge, keeps Oregon diesel empty', () => {
    const rates = parseRateMatrix(text, Q3, IFTA_JURISDICTIONS);
    const get = (j: string, f: string) => rates.find((r) => r.jurisdiction === j && r.fuelType === f);
    expect(get('CO', 'diesel')).toEqual({
      quarter: '2026Q3',
      jurisdiction: 'CO',
      fuelType: 'diesel',
      rate: 20_500,
      surcharge: 0,
    });
    expect(get('KY', 'diesel')).toMatchObject({ rate: 25_000, surcharge: 10_215 });
    expect(get('QC', 'diesel')).toMatchObject({ rate: 55_700 });
    expect(get('OR', 'diesel')).toMatchObject({ rate: null });
    expect(rates.filter((r) => r.fuelType === 'diesel')).toHaveLength(7);
  });

  it('refuses another quarter and bad cells, naming each line', () => {
    const fail = (t: string, q = Q3) => {
      try {
        parseRateMatrix(t, q, IFTA_JURISDICTIONS);
      } catch (err) {
        expect(isCloudError(err)).toBe(true);
        return (err as Error).message;
      }
      throw new Error('accepted');
    };
    expect(fail(text, { year: 2026, quarter: 4 })).toContain('line 1: the matrix is for 2026Q3, not 2026Q4');
    const bad = `${text}Atlantis,U.S. Gallon,0.1,0.1,0.1,0.1,0.1\nNebraska,U.S. Gallon,abc,0.1,,,\nKansas,U.S. Gallon,1,1,1,1,1\n`;
    expect(fail(bad)).toBe(
      'rate matrix: 3 problem(s): line 16: "Atlantis" is not an IFTA jurisdiction; ' +
        'line 17, gasoline: not a number: "abc"; line 18: a second U.S. rate row for KS',
    );
  });
});

describe('boundaries as data', () => {
  it('a bad GeoJSON names each bad feature', () => {
    const doc = {
      type: 'FeatureCollection',
      features: [
        { type: 'Feature', properties: { code: 'CO' }, geometry: { type: 'Point', coordinates: [0, 0] } },
        { type: 'Feature', properties: { code: 'XX' }, geometry: { type: 'Polygon', coordinates: [] } },
        {
          type: 'Feature',
          properties: { code: 'WY' },
          geometry: {
            type: 'Polygon',
            coordinates: [
              [
                [0, 0],
                [1, 1],
                [400, 0],
              ],
            ],
          },
        },
      ],
    };
    expect(() => JurisdictionMap.fromGeoJson(doc, IFTA_JURISDICTIONS, 'upload.geojson')).toThrow(
      /upload\.geojson: 3 bad feature\(s\): feature 0 \(CO\): geometry must be a Polygon or MultiPolygon; feature 1: code "XX" is not an IFTA jurisdiction; feature 2 \(WY\): a ring needs at least 4 positions/,
    );
  });
});
