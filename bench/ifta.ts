/**
 * IFTA distance and export throughput (issue 17 §2-§3), on the default boundaries (us-atlas 1:10M
 * + Natural Earth provinces):
 *
 *   1. summariseTrack over a synthetic 1 Hz drive Denver → Cheyenne → Salt Lake City → Boise
 *      (CO, WY, UT, ID: three border crossings), repeated to fill a day: samples/s, and the share
 *      of one core one vehicle's day costs (target: a 1,000-vehicle fleet's day in under
 *      10 minutes of one core, i.e. under 0.6 s per vehicle-day);
 *   2. the XLSX export (exceljs streaming writer) of N trip detail records: rows/s and peak RSS.
 *
 *   pnpm exec tsx bench/ifta.ts [--records 200000] [--json]
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { summariseTrack, type TrackSample } from '../cloud/src/reports/distance/track.ts';
import { type TripRecordRow, writeIftaXlsx } from '../cloud/src/reports/exports/ifta-exports.ts';
import { computeIftaReturn } from '../cloud/src/reports/ifta/ifta-return.ts';
import {
  defaultJurisdictionMap,
  IFTA_JURISDICTIONS,
} from '../cloud/src/reports/jurisdictions/default-map.ts';
import { haversineM } from '../shared/src/geo.ts';

const { values } = parseArgs({
  options: { records: { type: 'string', default: '200000' }, json: { type: 'boolean' } },
});
const ROUTE: [number, number][] = [
  [39.74, -104.99], // Denver
  [41.14, -104.82], // Cheyenne
  [41.31, -105.59], // Laramie
  [41.59, -109.22], // Rock Springs
  [40.76, -111.89], // Salt Lake City
  [42.87, -112.45], // Pocatello
  [43.62, -116.2], // Boise
];

/** A 1 Hz drive along ROUTE at 90 km/h, back and forth until `n` samples. */
function day(n: number): TrackSample[] {
  const out: TrackSample[] = [];
  const step = 25; // m per second
  let leg = 0;
  let dir = 1;
  let t = 0;
  let odo = 100_000;
  while (out.length < n) {
    const a = ROUTE[leg]!;
    const b = ROUTE[leg + dir]!;
    const len = haversineM(a[0], a[1], b[0], b[1]);
    for (let d = 0; d < len && out.length < n; d += step) {
      const f = d / len;
      odo += step / 1000;
      out.push({
        ts: Date.UTC(2026, 6, 14) + t++ * 1000,
        lat: a[0] + (b[0] - a[0]) * f,
        lon: a[1] + (b[1] - a[1]) * f,
        speedKmh: 90,
        rpm: 1500,
        odometerKm: Math.round(odo * 10) / 10,
      });
    }
    leg += dir;
    if (leg === ROUTE.length - 1 || leg === 0) dir = -dir;
  }
  return out;
}

const map = defaultJurisdictionMap();
const samples = day(86_400);
summariseTrack(samples.slice(0, 5000), map); // warm-up
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const s = summariseTrack(samples, map);
const trackMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const ret = computeIftaReturn({
  quarter: { year: 2026, quarter: 3 },
  jurisdictions: IFTA_JURISDICTIONS,
  vehicles: [
    {
      vehicleId: 'v',
      fuelType: 'diesel',
      days: s.days.map((d) => ({
        day: d.day,
        odometerMetres: Math.round(
          (d.odometerEndKm! - (d.odometerStartKm ?? samples[0]!.odometerKm!)) * 1000,
        ),
        gpsMetres: d.byJurisdiction,
      })),
    },
  ],
  purchases: [],
  rates: [],
  gaps: [],
  boundariesSource: map.source,
});

const n = Number(values.records);
const dir = mkdtempSync(path.join(tmpdir(), 'bench-ifta-'));
const file = path.join(dir, 'ifta.xlsx');
function* records(): Generator<TripRecordRow> {
  for (let i = 0; i < n; i++) {
    const x = samples[i % samples.length]!;
    yield {
      vehicleId: `v${i % 1000}`,
      unit: `UNIT-${i % 1000}`,
      ts: x.ts,
      lat: x.lat!,
      lon: x.lon!,
      odometerKm: x.odometerKm,
      jurisdiction: 'WY',
    };
  }
}
let peakRss = process.memoryUsage().rss;
const timer = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 50);
const t1 = performance.now();
await writeIftaXlsx(ret, records(), file);
const xlsxMs = performance.now() - t1;
clearInterval(timer);
const size = statSync(file).size;
rmSync(dir, { recursive: true, force: true });

const result = {
  track: {
    samples: samples.length,
    ms: Math.round(trackMs),
    samplesPerS: Math.round(samples.length / (trackMs / 1000)),
    cpuSecondsPerVehicleDay: (cpu.user + cpu.system) / 1e6,
    crossings: s.records.filter((r) => r.kind === 'crossing').length,
    jurisdictions: ret.lines.map((l) => `${l.jurisdiction}:${l.totalMiles}`).join(' '),
    targetMet: (cpu.user + cpu.system) / 1e6 < 0.6,
  },
  xlsx: {
    rows: n,
    ms: Math.round(xlsxMs),
    rowsPerS: Math.round(n / (xlsxMs / 1000)),
    bytes: size,
    peakRssMb: Math.round(peakRss / 2 ** 20),
  },
};
if (values.json) console.log(JSON.stringify(result));
else {
  console.log(
    `track: ${result.track.samples} samples (1 Hz day) in ${result.track.ms} ms = ${result.track.samplesPerS} samples/s; ` +
      `${result.track.cpuSecondsPerVehicleDay.toFixed(3)} s CPU per vehicle-day (target < 0.6: ${result.track.targetMet ? 'met' : 'MISSED'}); ` +
      `${result.track.crossings} crossings; miles ${result.track.jurisdictions}`,
  );
  console.log(
    `xlsx: ${n} trip records in ${result.xlsx.ms} ms = ${result.xlsx.rowsPerS} rows/s, ${(size / 1e6).toFixed(1)} MB, peak RSS ${result.xlsx.peakRssMb} MB`,
  );
}
