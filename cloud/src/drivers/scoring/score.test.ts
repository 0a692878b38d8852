/**
 * Property tests of the fair score (issue 19 must-show 1), with fast-check over arbitrary drivers:
 *   - the same per-kilometre behaviour over twice the distance gives the same score;
 *   - a metric the vehicle does not report changes nothing, whatever its weight (left out, not 0);
 *   - below the minimum distance there is no score;
 *   - raising a metric's weight moves the score toward that metric's sub-score.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SETTINGS,
  type DriverWindow,
  METRICS,
  type Metric,
  median,
  metricValues,
  peerPercentiles,
  scoreDriver,
} from './score.ts';

const weights = fc.record(
  Object.fromEntries(METRICS.map((m) => [m, fc.double({ min: 0.05, max: 10, noNaN: true })])) as Record<
    Metric,
    fc.Arbitrary<number>
  >,
);

/** A driver over at least the minimum distance, with or without rpm and fuel data. */
const driver = (minKm = 100): fc.Arbitrary<DriverWindow> =>
  fc
    .record({
      km: fc.double({ min: minKm, max: 5000, noNaN: true }),
      kmh: fc.double({ min: 20, max: 100, noNaN: true }),
      accel: fc.nat(60),
      brake: fc.nat(60),
      corner: fc.nat(60),
      speeding: fc.array(
        fc.record({
          durationS: fc.double({ min: 1, max: 600, noNaN: true }),
          excessKmh: fc.option(fc.double({ min: 0.1, max: 60, noNaN: true })),
        }),
        { maxLength: 20 },
      ),
      idleS: fc.double({ min: 0, max: 20_000, noNaN: true }),
      rpm: fc.option(fc.double({ min: 0, max: 1, noNaN: true })),
      lPer100: fc.option(fc.double({ min: 3, max: 40, noNaN: true })),
    })
    .map((r) => {
      const movingS = (r.km / r.kmh) * 3600;
      return {
        km: r.km,
        movingS,
        harsh: { accel: r.accel, brake: r.brake, corner: r.corner },
        speeding: r.speeding,
        idleS: r.idleS,
        rpm: r.rpm === null ? null : { reportedS: movingS, inBandS: movingS * r.rpm },
        fuel: r.lPer100 === null ? null : { litres: (r.lPer100 * r.km) / 100, km: r.km },
      };
    });

/** The same habits over k times the distance: every count, duration and litre times k. */
const scaled = (w: DriverWindow, k: number): DriverWindow => ({
  km: w.km * k,
  movingS: w.movingS * k,
  harsh: { accel: w.harsh.accel * k, brake: w.harsh.brake * k, corner: w.harsh.corner * k },
  speeding: [
    ...w.speeding,
    ...Array.from({ length: (k - 1) * w.speeding.length }, (_, i) => w.speeding[i % w.speeding.length]!),
  ],
  idleS: w.idleS * k,
  rpm: w.rpm && { reportedS: w.rpm.reportedS * k, inBandS: w.rpm.inBandS * k },
  fuel: w.fuel && { litres: w.fuel.litres * k, km: w.fuel.km * k },
});

const medianArb = fc.option(fc.double({ min: 3, max: 40, noNaN: true }));

describe('fair score: properties', () => {
  it('the same per-km behaviour over twice the distance gives the same score', () => {
    fc.assert(
      fc.property(driver(), weights, medianArb, (w, ws, med) => {
        const s = { weights: ws, minKm: 100 };
        const once = scoreDriver(w, s, med);
        const twice = scoreDriver(scaled(w, 2), s, med);
        expect(once.score).not.toBeNull();
        expect(twice.score).toBeCloseTo(once.score!, 9);
        for (const m of METRICS)
          expect(twice.metrics[m]?.pointsLost ?? null).toBeCloseTo(once.metrics[m]?.pointsLost ?? 0, 9);
      }),
      { numRuns: 300 },
    );
  });

  it('a metric the vehicle does not report changes nothing, whatever its weight (and is not a zero)', () => {
    fc.assert(
      fc.property(
        driver(),
        weights,
        fc.double({ min: 0.05, max: 50, noNaN: true }),
        fc.double({ min: 0.05, max: 50, noNaN: true }),
        (w, ws, rpmWeightA, rpmWeightB) => {
          const noRpm = { ...w, rpm: null };
          const a = scoreDriver(noRpm, { weights: { ...ws, rpm_band: rpmWeightA }, minKm: 100 }, 10);
          const b = scoreDriver(noRpm, { weights: { ...ws, rpm_band: rpmWeightB }, minKm: 100 }, 10);
          const without = scoreDriver(noRpm, { weights: { ...ws, rpm_band: 0 }, minKm: 100 }, 10);
          expect(a.metrics.rpm_band).toBeNull();
          expect(a.score).toBeCloseTo(b.score!, 9);
          expect(a.score).toBeCloseTo(without.score!, 9);
          // Counted as zero time in the band instead, it would cost points (unless nothing else did).
          const asZero = scoreDriver(
            { ...w, rpm: { reportedS: w.movingS, inBandS: 0 } },
            { weights: { ...ws, rpm_band: rpmWeightA }, minKm: 100 },
            10,
          );
          if (a.score! > 0) expect(asZero.score!).toBeLessThan(a.score!);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a driver below the minimum distance has no score; at or above it, one in 0-100', () => {
    fc.assert(
      fc.property(driver(0.001), fc.double({ min: 1, max: 1000, noNaN: true }), weights, (w, minKm, ws) => {
        const r = scoreDriver(w, { weights: ws, minKm }, null);
        if (w.km < minKm) {
          expect(r.score).toBeNull();
          expect(METRICS.every((m) => r.metrics[m] === null)).toBe(true);
        } else {
          expect(r.score).toBeGreaterThanOrEqual(0);
          expect(r.score).toBeLessThanOrEqual(100);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("raising a metric's weight moves the score toward that metric's sub-score", () => {
    fc.assert(
      fc.property(
        driver(),
        weights,
        fc.constantFrom(...METRICS),
        fc.double({ min: 1.01, max: 20, noNaN: true }),
        medianArb,
        (w, ws, metric, factor, med) => {
          const before = scoreDriver(w, { weights: ws, minKm: 100 }, med);
          const after = scoreDriver(
            w,
            { weights: { ...ws, [metric]: ws[metric] * factor }, minKm: 100 },
            med,
          );
          const m = before.metrics[metric];
          if (m === null) {
            expect(after.score).toBeCloseTo(before.score!, 9);
            return;
          }
          // The stated direction: down if the metric is worse than the score, up if better.
          if (m.subScore < before.score! - 1e-9) expect(after.score!).toBeLessThan(before.score!);
          else if (m.subScore > before.score! + 1e-9) expect(after.score!).toBeGreaterThan(before.score!);
          else expect(after.score!).toBeCloseTo(before.score!, 6);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('the points lost add up to what the score is short of 100', () => {
    fc.assert(
      fc.property(driver(), weights, medianArb, (w, ws, med) => {
        const r = scoreDriver(w, { weights: ws, minKm: 100 }, med);
        const lost = METRICS.reduce((s, m) => s + (r.metrics[m]?.pointsLost ?? 0), 0);
        expect(100 - lost).toBeCloseTo(r.score!, 9);
      }),
    );
  });
});

describe('fair score: worked examples', () => {
  const base: DriverWindow = {
    km: 200,
    movingS: 4 * 3600,
    harsh: { accel: 2, brake: 4, corner: 0 },
    speeding: [
      { durationS: 60, excessKmh: 5 },
      { durationS: 60, excessKmh: 25 },
    ],
    idleS: 1800,
    rpm: null,
    fuel: null,
  };

  it('harsh events per 100 km, speeding graded by excess, idling share of engine time', () => {
    const v = metricValues(base);
    expect(v.harsh_accel).toBe(1);
    expect(v.harsh_brake).toBe(2);
    expect(v.speeding).toBeCloseTo((60 + 60 * 3) / (4 * 3600), 12);
    expect(v.idling).toBeCloseTo(1800 / (4 * 3600 + 1800), 12);
    expect(v.rpm_band).toBeNull();
  });

  it('fuel economy is judged against the class median, and left out without one', () => {
    const w = { ...base, fuel: { litres: 24, km: 200 } }; // 12 L/100 km
    expect(scoreDriver(w, DEFAULT_SETTINGS, 10).metrics.fuel_economy?.value).toBeCloseTo(1.2, 12);
    expect(scoreDriver(w, DEFAULT_SETTINGS, 10).metrics.fuel_economy?.subScore).toBeCloseTo(60, 9);
    expect(scoreDriver(w, DEFAULT_SETTINGS, null).metrics.fuel_economy).toBeNull();
    expect(scoreDriver(w, DEFAULT_SETTINGS, 12).metrics.fuel_economy?.subScore).toBe(100);
  });

  it('percentiles within each peer group; ties count half; unscored drivers get none', () => {
    const p = peerPercentiles([
      { id: 'a', group: 'van', score: 90 },
      { id: 'b', group: 'van', score: 80 },
      { id: 'c', group: 'van', score: 80 },
      { id: 'd', group: 'van', score: 50 },
      { id: 'e', group: 'truck', score: 10 },
      { id: 'f', group: 'truck', score: null },
    ]);
    expect(p.get('a')).toBe(100);
    expect(p.get('b')).toBeCloseTo(50, 9);
    expect(p.get('c')).toBeCloseTo(50, 9);
    expect(p.get('d')).toBe(0);
    expect(p.get('e')).toBe(100);
    expect(p.has('f')).toBe(false);
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(median([])).toBeNull();
  });
});
