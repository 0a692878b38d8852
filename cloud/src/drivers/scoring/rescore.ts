/**
 * The stored daily scores (driver_day_scores, migration 000027): `rescoreDay` computes every
 * driver of a tenant for the window ending with a UTC day and replaces that day's rows;
 * `scoresForDay` reads them back (for the leaderboard, the driver app, and the points ledger's
 * score bands). Both take a connection inside inTenant() (the API's, or the sweep's).
 */
import type pg from 'pg';
import { CloudError, CloudErrorCode } from '../../errors.ts';
import {
  type DriverWindow,
  type Metric,
  type MetricResult,
  median,
  peerPercentiles,
  scoreDriver,
} from './score.ts';
import { readScoreInputs } from './score-inputs.ts';
import { readScoreSettings } from './settings.ts';

const DAY_MS = 86_400_000;
const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;

/** 'YYYY-MM-DD' of a UTC day, checked (a CloudError for anything else). */
export function parseDay(day: string): Date {
  const d = new Date(`${day}T00:00:00Z`);
  if (!DAY_RE.test(day) || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== day)
    throw new CloudError(CloudErrorCode.ScoreDayInvalid, `not a day (YYYY-MM-DD): ${day}`);
  return d;
}
export const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
export const addDays = (day: string, n: number) => dayOf(parseDay(day).getTime() + n * DAY_MS);

export interface StoredScore {
  userId: string;
  day: string;
  km: number;
  score: number | null;
  percentile: number | null;
  peerGroup: string;
  metrics: Record<Metric, MetricResult | null>;
}

/** Computes and stores every driver's score for the window ending with `day`; returns them. */
export async function rescoreDay(db: pg.ClientBase, tenantId: string, day: string): Promise<StoredScore[]> {
  const settings = await readScoreSettings(db, tenantId);
  const to = new Date(parseDay(day).getTime() + DAY_MS);
  const from = new Date(to.getTime() - settings.windowDays * DAY_MS);
  const periods = await readScoreInputs(db, {
    tenantId,
    from,
    to,
    rpmLow: settings.rpmLow,
    rpmHigh: settings.rpmHigh,
    peerGroupBy: settings.peerGroupBy,
  });

  // One window per driver, summed over their vehicles; their peer group and vehicle class are
  // those of the vehicle they drove furthest.
  const drivers = new Map<
    string,
    { w: DriverWindow; fuelLitres: number; fuelKm: number; main: { km: number; group: string; cls: string } }
  >();
  for (const p of periods) {
    let d = drivers.get(p.userId);
    if (!d) {
      d = {
        w: {
          km: 0,
          movingS: 0,
          harsh: { accel: 0, brake: 0, corner: 0 },
          speeding: [],
          idleS: 0,
          rpm: null,
          fuel: null,
        },
        fuelLitres: 0,
        fuelKm: 0,
        main: { km: -1, group: p.peerGroup, cls: p.vehicleClass ?? '' },
      };
      drivers.set(p.userId, d);
    }
    const w = d.w;
    w.km += p.km;
    w.movingS += p.movingS;
    w.harsh.accel += p.accel;
    w.harsh.brake += p.brake;
    w.harsh.corner += p.corner;
    (w.speeding as DriverWindow['speeding'][number][]).push(...p.speeding);
    w.idleS += p.idleS;
    if (p.rpmReportedS > 0)
      w.rpm = {
        reportedS: (w.rpm?.reportedS ?? 0) + p.rpmReportedS,
        inBandS: (w.rpm?.inBandS ?? 0) + p.rpmInBandS,
      };
    if (p.litres !== null && p.litres > 0 && p.km > 0) {
      d.fuelLitres += p.litres;
      d.fuelKm += p.km;
      w.fuel = { litres: d.fuelLitres, km: d.fuelKm };
    }
    if (p.km > d.main.km) d.main = { km: p.km, group: p.peerGroup, cls: p.vehicleClass ?? '' };
  }

  // Fuel economy is judged against the median of the drivers of the same vehicle class.
  const byClass = new Map<string, number[]>();
  for (const d of drivers.values())
    if (d.w.fuel && d.w.km >= settings.minKm)
      byClass.set(d.main.cls, [...(byClass.get(d.main.cls) ?? []), (d.w.fuel.litres * 100) / d.w.fuel.km]);

  const scored = [...drivers].map(([userId, d]) => ({
    userId,
    group: d.main.group,
    result: scoreDriver(d.w, settings, median(byClass.get(d.main.cls) ?? [])),
  }));
  const pct = peerPercentiles(scored.map((s) => ({ id: s.userId, group: s.group, score: s.result.score })));
  const out: StoredScore[] = scored.map((s) => ({
    userId: s.userId,
    day,
    km: s.result.km,
    score: s.result.score,
    percentile: pct.get(s.userId) ?? null,
    peerGroup: s.group,
    metrics: s.result.metrics,
  }));

  await db.query('DELETE FROM driver_day_scores WHERE tenant_id = $1 AND day = $2', [tenantId, day]);
  if (out.length > 0)
    await db.query(
      `INSERT INTO driver_day_scores (tenant_id, user_id, day, window_days, km, score, percentile, peer_group, metrics)
       SELECT $1, u, $2::date, $3, k, s, p, g, m
         FROM unnest($4::text[], $5::float8[], $6::float8[], $7::float8[], $8::text[], $9::jsonb[]) AS t(u, k, s, p, g, m)`,
      [
        tenantId,
        day,
        settings.windowDays,
        out.map((o) => o.userId),
        out.map((o) => o.km),
        out.map((o) => o.score),
        out.map((o) => o.percentile),
        out.map((o) => o.peerGroup),
        out.map((o) => JSON.stringify(o.metrics)),
      ],
    );
  return out;
}

/** The stored scores of a day (none stored: an empty list; run rescoreDay first). */
export async function scoresForDay(db: pg.ClientBase, tenantId: string, day: string): Promise<StoredScore[]> {
  parseDay(day);
  const { rows } = await db.query<{
    user_id: string;
    km: number;
    score: number | null;
    percentile: number | null;
    peer_group: string;
    metrics: StoredScore['metrics'];
  }>(
    `SELECT user_id, km, score, percentile, peer_group, metrics FROM driver_day_scores
      WHERE tenant_id = $1 AND day = $2 ORDER BY score DESC NULLS LAST, user_id`,
    [tenantId, day],
  );
  return rows.map((r) => ({
    userId: r.user_id,
    day,
    km: r.km,
    score: r.score,
    percentile: r.percentile,
    peerGroup: r.peer_group,
    metrics: r.metrics,
  }));
}

/**
 * After an event's status changed (disputed, decided): rescore every stored day whose window
 * holds the event's day, and today. Returns the days rescored.
 */
export async function rescoreAfterEventChange(
  db: pg.ClientBase,
  tenantId: string,
  eventMs: number,
  nowMs = Date.now(),
): Promise<string[]> {
  const { windowDays } = await readScoreSettings(db, tenantId);
  const first = dayOf(eventMs);
  const today = dayOf(nowMs);
  const windowEnd = addDays(first, windowDays - 1);
  const last = windowEnd < today ? windowEnd : today; // (ISO days compare as strings)
  const { rows } = await db.query<{ day: string }>(
    `SELECT DISTINCT to_char(day, 'YYYY-MM-DD') AS day FROM driver_day_scores
      WHERE tenant_id = $1 AND day BETWEEN $2 AND $3`,
    [tenantId, first, last],
  );
  const days = new Set(rows.map((r) => r.day));
  if (today <= addDays(first, windowDays - 1)) days.add(today);
  const sorted = [...days].sort();
  for (const d of sorted) await rescoreDay(db, tenantId, d);
  return sorted;
}
