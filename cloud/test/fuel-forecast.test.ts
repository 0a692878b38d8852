/**
 * The fuel forecast on synthetic series whose seasonality is known (a weekly rhythm, noise of a
 * known size, a yearly swing), then once through the real PostgreSQL as `forecastTenant` reads it.
 */
import { createLogger } from '@fleet/shared/log';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../src/db/migrate.ts';
import { forecastSeries, forecastTenant, weekdayProfileForecast } from '../src/fuel/forecast.ts';
import { openTestPool, requireServices } from './support/services.ts';

const log = createLogger('test').child({}, { level: 'fatal' });
const DAY_MS = 86_400_000;
/** Monday 2025-01-06 as a UTC day number. */
const MONDAY = Date.UTC(2025, 0, 6) / DAY_MS;
/** Litres by weekday, Monday first: a delivery fleet, quiet weekends. */
const PROFILE = [50, 52, 48, 55, 45, 15, 5];
const WEEK_TOTAL = PROFILE.reduce((a, b) => a + b, 0);

/** Deterministic standard normal (mulberry32 + Box-Muller). */
function gaussian(seed: number) {
  let a = seed;
  const uniform = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(uniform() + 1e-12)) * Math.cos(2 * Math.PI * uniform());
}

function series(days: number, noise: number, seed = 1, yearly = 0) {
  const g = gaussian(seed);
  return Array.from({ length: days }, (_, i) => {
    const season = 1 + yearly * Math.sin((2 * Math.PI * i) / 364);
    return Math.max(0, PROFILE[i % 7]! * season + noise * g());
  });
}

describe('forecastSeries on synthetic series', () => {
  it('recovers a noiseless weekly rhythm exactly, as the seasonal naive baseline does', () => {
    const f = forecastSeries(series(16 * 7, 0), MONDAY, 14);
    expect(f.forecast.map((x) => Math.round(x * 1e6) / 1e6)).toEqual([...PROFILE, ...PROFILE]);
    expect(f.baseline).toEqual([...PROFILE, ...PROFILE]);
    expect(f.holdout).toMatchObject({
      days: 28,
      model: { mae: expect.closeTo(0, 6) },
      naiveWeek: { mae: 0 },
    });
  });

  it('beats the seasonal naive baseline under noise, and its weekly total is right', () => {
    // Noise of 8 L/day: the baseline copies one noisy week (error ~ 8 x sqrt 2 x 0.8 = 9 L/day); the
    // model averages 8 weeks per weekday (error ~ 8 x 0.8 = 6.4 L/day).
    const wins: boolean[] = [];
    const errors: number[] = [];
    for (let seed = 1; seed <= 10; seed++) {
      const f = forecastSeries(series(20 * 7, 8, seed), MONDAY, 28);
      expect(f.holdout).not.toBeNull();
      const h = f.holdout!;
      wins.push(h.model.mae < h.naiveWeek.mae);
      expect(h.model.mae).toBeLessThan(9);
      expect(h.model.mape).not.toBeNull();
      // Each forecast week near the true expected week: the level is a 28-day mean, so a week's
      // total has a standard error of 7 x 8 / sqrt(28) = 10.6 L (3.9 %); 3 standard errors allowed.
      for (let w = 0; w < 4; w++) {
        const total = f.forecast.slice(w * 7, w * 7 + 7).reduce((a, b) => a + b, 0);
        errors.push(Math.abs(total - WEEK_TOTAL) / WEEK_TOTAL);
      }
    }
    expect(Math.max(...errors)).toBeLessThan(0.12);
    expect(errors.reduce((a, b) => a + b, 0) / errors.length).toBeLessThan(0.05);
    expect(wins.filter(Boolean).length).toBeGreaterThanOrEqual(9);
  });

  it('scores the same-day-last-year baseline once there is a year of history, and says which wins', () => {
    // A strong yearly swing and no noise: last year's same day is the better guess for the tail.
    const f = forecastSeries(series(420, 0, 1, 0.5), MONDAY, 7);
    expect(f.holdout!.naiveYear).not.toBeNull();
    expect(f.holdout!.naiveYear!.mae).toBeLessThan(f.holdout!.model.mae);
    expect(f.holdout!.better).toBe('naive-year');
    expect(forecastSeries(series(200, 0), MONDAY, 7).holdout!.naiveYear).toBeNull();
  });

  it('is defined on what budgets meet in practice: no history, all zeros, too short to score', () => {
    expect(weekdayProfileForecast([], MONDAY, 3)).toEqual([0, 0, 0]);
    const zeros = forecastSeries(new Array(60).fill(0), MONDAY, 7);
    expect(zeros.forecast).toEqual(new Array(7).fill(0));
    expect(zeros.holdout).toMatchObject({ model: { mae: 0, mape: null } });
    expect(forecastSeries(series(20, 0), MONDAY, 7).holdout).toBeNull();
  });
});

describe('forecastTenant (real PostgreSQL)', () => {
  let db: Awaited<ReturnType<typeof openTestPool>>;
  beforeAll(async () => {
    await requireServices({ postgres: true });
    db = await openTestPool('t_fuel_fc');
    await migrate(db.pool, log);
    await db.pool.query(`INSERT INTO tenants (id, name) VALUES ('acme', 'acme')`);
    await db.pool.query(
      `INSERT INTO vehicles (id, tenant_id, tank_litres) VALUES ('van-1', 'acme', 80), ('van-2', 'acme', NULL)`,
    );
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('forecasts each vehicle from its telemetry or its purchases, and the fleet from their sum', async () => {
    const now = Date.UTC(2025, 3, 7, 12); // a Monday
    const today = Math.floor(now / DAY_MS);
    // van-1 reports levels: every day the tank falls by that weekday's PROFILE litres (of 80)
    // between 06:00 and 18:00, and is back at 90 % the next morning (refuelled overnight).
    const days = 10 * 7;
    const rows: [string, number, number][] = [];
    for (let d = today - days; d < today; d++) {
      const used = PROFILE[(d - MONDAY + 7 * 1000) % 7]!;
      rows.push(['van-1', d * DAY_MS + 6 * 3600_000, 90]);
      rows.push(['van-1', d * DAY_MS + 18 * 3600_000, 90 - (100 * used) / 80]);
    }
    await db.pool.query(
      `INSERT INTO telemetry_minute (tenant_id, vehicle_id, minute, samples, speed_n, rpm_n, fuel_min, fuel_max)
       SELECT 'acme', v, to_timestamp(ms / 1000.0), 1, 0, 0, pct, pct
         FROM unnest($1::text[], $2::float8[], $3::float8[]) AS r(v, ms, pct)`,
      [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2])],
    );
    // van-2 has no tank size: its card purchases, 60 L every Wednesday at 1.80 EUR/L.
    for (let d = today - days; d < today; d++) {
      if ((d - MONDAY + 7000) % 7 !== 2) continue;
      await db.pool.query(
        `INSERT INTO fuel_transactions (tenant_id, vehicle_id, source, external_id, ts, litres, amount, currency)
         VALUES ('acme', 'van-2', 'csv', $1, to_timestamp($2 / 1000.0), 60, 108, 'EUR')`,
        [`P-${d}`, d * DAY_MS + 9 * 3600_000],
      );
    }

    const f = await forecastTenant(db.pool, 'acme', { weeks: 2, historyDays: 120, now });
    expect(f).toMatchObject({ currency: 'EUR', pricePerLitre: 1.8 });
    const [van1, van2] = f.vehicles;
    expect(van1).toMatchObject({ scope: 'van-1', source: 'telemetry', historyDays: days });
    expect(van2).toMatchObject({ scope: 'van-2', source: 'purchases' });
    for (const w of van1!.weeks) expect(w.litres).toBeCloseTo(WEEK_TOTAL, 0);
    expect(van1!.weeks[0]).toMatchObject({
      weekStart: '2025-04-07',
      spend: expect.closeTo(WEEK_TOTAL * 1.8, 0),
    });
    for (const w of van2!.weeks) expect(w.litres).toBeCloseTo(60, 0);
    for (const [i, w] of f.fleet.weeks.entries()) {
      expect(w.litres).toBeCloseTo(van1!.weeks[i]!.litres + van2!.weeks[i]!.litres, 0);
    }
    // A perfectly weekly history: both the model and the baseline reproduce the held-out weeks.
    expect(f.fleet.holdout).toMatchObject({
      days: 17,
      model: { mae: expect.closeTo(0, 3) },
      naiveWeek: { mae: expect.closeTo(0, 3) },
    });
  });
});
