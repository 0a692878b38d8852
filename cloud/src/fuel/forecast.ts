/**
 * Fuel consumption and spend for the next N weeks, per vehicle and for the fleet, for budgets.
 *
 *   daily litres per vehicle ──▶ weekday profile x recent level ──▶ next N weeks (litres, spend)
 *     telemetry_minute levels       (the model)                     next to the seasonal naive
 *     + refuels - drains/leaks                                      baseline, both scored on a
 *     (or card purchases)                                           held-out tail (MAE, MAPE)
 *
 * Daily litres: where the vehicle's tank capacity is known and it reports levels, consumption of
 * a day = level at its first reading - level at its last + refuels - drains and leaks (Wialon's
 * formula; stolen fuel is a loss, not consumption). Otherwise the card purchases of the day: lumpy
 * day by day, right over weeks. A day without data counts as 0 (a parked vehicle's agent sends
 * nothing), which is right for a parked vehicle and wrong for a broken link: the held-out error
 * shows which it is.
 *
 * The model, deliberately small: forecast(day) = level x factor(weekday), level = mean of the last
 * 4 whole weeks, factor = that weekday's mean over the last 8 weeks / the mean of the 7 weekday
 * means. Fleets run on weekly rhythms (weekend, depot days), and this is the least that captures
 * one. Baselines: seasonal naive weekly (the same weekday of the last observed week) and, with over
 * a year of history, the same day 52 weeks earlier. The held-out tail (the last 28 days, at most a
 * quarter of the history) is forecast from the data before it by the model and the baselines
 * alike; MAE in litres/day, MAPE over days with consumption (0-litre days have no percentage
 * error). When the baseline wins, the output says so: use it.
 */
import { litresAtLevel } from '@fleet/shared';
import type pg from 'pg';
import { loadVehicleTanks } from '../db/queries/vehicle-tanks.ts';
import { inTenant } from '../db/tenant.ts';

const DAY_MS = 86_400_000;

export interface ErrorScore {
  /** Mean absolute error, litres per day. */
  mae: number;
  /** Mean absolute percentage error over days with actual > 0, %; null when there are none. */
  mape: number | null;
}

export interface SeriesForecast {
  /** Next `horizon` days, litres. */
  forecast: number[];
  /** The seasonal naive weekly baseline for the same days. */
  baseline: number[];
  holdout: {
    days: number;
    model: ErrorScore;
    naiveWeek: ErrorScore;
    /** Same day 52 weeks before; null with under a year of history. */
    naiveYear: ErrorScore | null;
    better: 'model' | 'naive-week' | 'naive-year';
  } | null;
}

function score(actual: number[], predicted: number[]): ErrorScore {
  let abs = 0;
  let pct = 0;
  let pctN = 0;
  actual.forEach((a, i) => {
    const e = Math.abs(a - predicted[i]!);
    abs += e;
    if (a > 0) {
      pct += e / a;
      pctN++;
    }
  });
  return { mae: abs / actual.length, mape: pctN ? (100 * pct) / pctN : null };
}

/** Weekday of a UTC day number (days since the epoch); 1970-01-01 was a Thursday. */
const weekday = (day: number) => (((day + 4) % 7) + 7) % 7;

/** The model: level x weekday factor, from `history` whose first value is day `firstDay`. */
export function weekdayProfileForecast(history: number[], firstDay: number, horizon: number): number[] {
  const n = history.length;
  if (n === 0) return new Array(horizon).fill(0);
  // Whole weeks only, so no weekday counts twice in the level.
  const levelDays = n >= 7 ? 7 * Math.floor(Math.min(n, 28) / 7) : n;
  const recent = history.slice(n - levelDays);
  const level = recent.reduce((a, b) => a + b, 0) / recent.length;
  const from = Math.max(0, n - 56);
  const sums = new Array(7).fill(0);
  const counts = new Array(7).fill(0);
  for (let i = from; i < n; i++) {
    const w = weekday(firstDay + i);
    sums[w] += history[i]!;
    counts[w]++;
  }
  // Factor = weekday mean / mean of the weekday means (not of the days: a partial week would tilt it).
  const means = sums.map((sum, w) => (counts[w] > 0 ? sum / counts[w] : null));
  const known = means.filter((m): m is number => m !== null);
  const mean = known.reduce((a, b) => a + b, 0) / known.length;
  return Array.from({ length: horizon }, (_, h) => {
    const w = weekday(firstDay + n + h);
    const factor = mean > 0 && means[w] !== null ? means[w]! / mean : 1;
    return level * factor;
  });
}

/** The last observed week repeated. */
export function naiveWeekForecast(history: number[], horizon: number): number[] {
  const n = history.length;
  return Array.from({ length: horizon }, (_, h) =>
    n >= 7 ? history[n - 7 + (h % 7)]! : (history.at(-1) ?? 0),
  );
}

/** The same day 364 days (52 weeks, same weekday) earlier; null without that history. */
export function naiveYearForecast(history: number[], horizon: number): number[] | null {
  const n = history.length;
  if (n < 364) return null;
  return Array.from({ length: horizon }, (_, h) => {
    const i = n + h - 364;
    return i < n ? history[i]! : 0;
  });
}

/** Model and baseline for the next `horizon` days, with both scored on a held-out tail. */
export function forecastSeries(history: number[], firstDay: number, horizon: number): SeriesForecast {
  const n = history.length;
  const forecast = weekdayProfileForecast(history, firstDay, horizon);
  const baseline = naiveWeekForecast(history, horizon);
  const hold = Math.min(28, Math.floor(n / 4));
  if (hold < 7 || n - hold < 14) return { forecast, baseline, holdout: null };
  const train = history.slice(0, n - hold);
  const actual = history.slice(n - hold);
  const model = score(actual, weekdayProfileForecast(train, firstDay, hold));
  const naiveWeek = score(actual, naiveWeekForecast(train, hold));
  const year = naiveYearForecast(train, hold);
  const naiveYear = year ? score(actual, year) : null;
  let better: 'model' | 'naive-week' | 'naive-year' = model.mae <= naiveWeek.mae ? 'model' : 'naive-week';
  if (naiveYear && naiveYear.mae < Math.min(model.mae, naiveWeek.mae)) better = 'naive-year';
  return { forecast, baseline, holdout: { days: hold, model, naiveWeek, naiveYear, better } };
}

export interface WeekForecast {
  /** First day of the week, YYYY-MM-DD (UTC). */
  weekStart: string;
  litres: number;
  baselineLitres: number;
  /** litres x the average price paid over the last 90 days; null without priced purchases. */
  spend: number | null;
}

export interface FuelForecast {
  /** A vehicle id, or `fleet` for the sum over the tenant's vehicles. */
  scope: string;
  source: 'telemetry' | 'purchases' | 'fleet';
  historyDays: number;
  weeks: WeekForecast[];
  holdout: SeriesForecast['holdout'];
}

export interface TenantForecast {
  currency: string | null;
  pricePerLitre: number | null;
  fleet: FuelForecast;
  vehicles: FuelForecast[];
}

const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

function weekly(
  scope: string,
  source: FuelForecast['source'],
  history: number[],
  firstDay: number,
  weeks: number,
  price: number | null,
): FuelForecast {
  const f = forecastSeries(history, firstDay, weeks * 7);
  const startDay = firstDay + history.length;
  return {
    scope,
    source,
    historyDays: history.length,
    holdout: f.holdout,
    weeks: Array.from({ length: weeks }, (_, w) => {
      const litres = f.forecast.slice(w * 7, w * 7 + 7).reduce((a, b) => a + b, 0);
      return {
        weekStart: new Date((startDay + w * 7) * DAY_MS).toISOString().slice(0, 10),
        litres: round(litres),
        baselineLitres: round(f.baseline.slice(w * 7, w * 7 + 7).reduce((a, b) => a + b, 0)),
        spend: price === null ? null : round(litres * price, 2),
      };
    }),
  };
}

/**
 * The tenant's forecast for the next `weeks` weeks from `historyDays` of history ending yesterday
 * (UTC), as that tenant (row-level security). What the API and `fleet-cloud fuel forecast` call.
 */
export async function forecastTenant(
  pool: pg.Pool,
  tenantId: string,
  opts: { weeks?: number; historyDays?: number; now?: number } = {},
): Promise<TenantForecast> {
  const weeks = opts.weeks ?? 4;
  const today = Math.floor((opts.now ?? Date.now()) / DAY_MS);
  const historyDays = opts.historyDays ?? 400;
  const firstDay = today - historyDays;
  return inTenant(pool, tenantId, async (c) => {
    const { rows: levels } = await c.query<{
      vehicle_id: string;
      day: number;
      first_pct: number;
      last_pct: number;
      refuel_l: number;
      lost_l: number;
    }>(
      // Two index probes per vehicle and day (first and last reading) instead of reading every
      // minute of a year: 100 vehicles x 400 days is 80,000 probes, not 57 million rows.
      `WITH days AS (SELECT generate_series($2::int, $3::int - 1) AS day),
       d AS (
         SELECT v.id AS vehicle_id, days.day, f.pct AS first_pct, l.pct AS last_pct
           FROM vehicles v CROSS JOIN days
          CROSS JOIN LATERAL (
                SELECT (m.fuel_min + m.fuel_max) / 2 AS pct FROM telemetry_minute m
                 WHERE m.vehicle_id = v.id AND m.fuel_min IS NOT NULL
                   AND m.minute >= to_timestamp(days.day * 86400.0)
                   AND m.minute < to_timestamp((days.day + 1) * 86400.0)
                 ORDER BY m.minute LIMIT 1) f
          CROSS JOIN LATERAL (
                SELECT (m.fuel_min + m.fuel_max) / 2 AS pct FROM telemetry_minute m
                 WHERE m.vehicle_id = v.id AND m.fuel_min IS NOT NULL
                   AND m.minute >= to_timestamp(days.day * 86400.0)
                   AND m.minute < to_timestamp((days.day + 1) * 86400.0)
                 ORDER BY m.minute DESC LIMIT 1) l
          WHERE v.tenant_id = $1 AND (v.tank_litres IS NOT NULL OR v.tank_calibration IS NOT NULL)),
       ev AS (
         SELECT vehicle_id, floor(extract(epoch FROM start_ts) / 86400)::int AS day,
                coalesce(sum(volume_l) FILTER (WHERE type = 'refuel'), 0) AS refuel_l,
                coalesce(sum(volume_l) FILTER (WHERE type IN ('fuel_drain', 'fuel_leak')), 0) AS lost_l
           FROM vehicle_events
          WHERE tenant_id = $1 AND start_ts >= to_timestamp($2 * 86400.0) AND start_ts < to_timestamp($3 * 86400.0)
          GROUP BY 1, 2)
       SELECT d.vehicle_id, d.day, d.first_pct::float8 AS first_pct, d.last_pct::float8 AS last_pct,
              coalesce(ev.refuel_l, 0)::float8 AS refuel_l, coalesce(ev.lost_l, 0)::float8 AS lost_l
         FROM d LEFT JOIN ev ON ev.vehicle_id = d.vehicle_id AND ev.day = d.day`,
      [tenantId, firstDay, today],
    );
    // A day's use: its fall in level as litres through the vehicle's tank (its calibration table
    // when it has one: shared/src/tank-calibration.ts), plus refuels, minus losses.
    const tanks = await loadVehicleTanks(c, tenantId, [...new Set(levels.map((r) => r.vehicle_id))]);
    const tele = levels.map((r) => {
      const tank = tanks.get(r.vehicle_id)!;
      const fall = litresAtLevel(r.first_pct, tank)! - litresAtLevel(r.last_pct, tank)!;
      return { vehicle_id: r.vehicle_id, day: r.day, litres: Math.max(0, fall + r.refuel_l - r.lost_l) };
    });
    const { rows: bought } = await c.query<{ vehicle_id: string; day: number; litres: number }>(
      `SELECT vehicle_id, floor(extract(epoch FROM ts) / 86400)::int AS day, sum(litres) AS litres
         FROM fuel_transactions
        WHERE tenant_id = $1 AND vehicle_id IS NOT NULL
          AND ts >= to_timestamp($2 * 86400.0) AND ts < to_timestamp($3 * 86400.0)
        GROUP BY 1, 2`,
      [tenantId, firstDay, today],
    );
    const { rows: priced } = await c.query<{ currency: string; price: number }>(
      `SELECT currency, sum(amount)::float8 / sum(litres) AS price
         FROM fuel_transactions
        WHERE tenant_id = $1 AND amount IS NOT NULL AND currency IS NOT NULL
          AND ts >= to_timestamp(($2 - 90) * 86400.0) AND ts < to_timestamp($2 * 86400.0)
        GROUP BY currency ORDER BY count(*) DESC, currency LIMIT 1`,
      [tenantId, today],
    );
    const price = priced[0] ? priced[0].price : null;

    const series = new Map<string, { source: 'telemetry' | 'purchases'; days: number[] }>();
    const put = (rows: typeof tele, source: 'telemetry' | 'purchases') => {
      for (const r of rows) {
        let s = series.get(r.vehicle_id);
        if (s && s.source !== source) continue; // telemetry wins where both exist
        if (!s) {
          s = { source, days: new Array(historyDays).fill(0) };
          series.set(r.vehicle_id, s);
        }
        const i = r.day - firstDay;
        if (i >= 0 && i < historyDays) s.days[i] = (s.days[i] ?? 0) + Number(r.litres);
      }
    };
    put(tele, 'telemetry');
    put(bought, 'purchases');

    // Each vehicle's history starts at its first day with data: leading zeros would drag the level down.
    const vehicles: FuelForecast[] = [];
    const fleetDays = new Array(historyDays).fill(0);
    let fleetStart = historyDays;
    for (const [vehicleId, s] of [...series].sort(([a], [b]) => a.localeCompare(b))) {
      const start = s.days.findIndex((x) => x > 0);
      if (start < 0) continue;
      fleetStart = Math.min(fleetStart, start);
      s.days.forEach((x, i) => {
        fleetDays[i] += x;
      });
      vehicles.push(weekly(vehicleId, s.source, s.days.slice(start), firstDay + start, weeks, price));
    }
    const start = Math.min(fleetStart, historyDays);
    return {
      currency: priced[0]?.currency ?? null,
      pricePerLitre: price === null ? null : round(price, 3),
      fleet: weekly('fleet', 'fleet', fleetDays.slice(start), firstDay + start, weeks, price),
      vehicles,
    };
  });
}
