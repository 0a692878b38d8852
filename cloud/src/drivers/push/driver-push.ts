/**
 * Drivers' push notifications (issue 19 §4) through the alerts' Web Push channel: low range,
 * service due, challenge results.
 *
 *   programme sweep ──▶ low range (per vehicle with a driver)  ──┐
 *                   ──▶ service due (maintenance/due.ts listDue) ─┼─▶ the driver's setting on? a push
 *   finalizeChallenge (same transaction) ──▶ challenge results  ──┘   subscription? ──▶ outbox
 *                                                                     (enqueueNotifications, push)
 *
 * Exactly once per occurrence by the idempotency key, not by remembering what was sent: a low-range
 * episode's id (low_range_episodes), a due service's (program, vehicle, service it counts from), a
 * challenge's id, each with the driver. Every sweep enqueues again what is still current and the
 * outbox's unique key drops the repeat, so a restart, a second sweep or two cloud processes never
 * send twice, and a driver who turns a kind on (or subscribes) during an episode still hears of it.
 * Quiet hours and the throttle are the worker's (worker.ts policy: non-critical user deliveries).
 */
import { createHash } from 'node:crypto';
import type { Logger } from '@fleet/shared/log';
import type pg from 'pg';
import { bucketFor, fuelLevelSeries } from '../../db/queries/fuel-level-series.ts';
import { inTenant } from '../../db/tenant.ts';
import { listDue } from '../../maintenance/due.ts';
import { enqueueNotifications } from '../../notifications/enqueue.ts';
import type { Standing } from '../challenges/challenges.ts';
import {
  challengeResultText,
  type DistanceUnit,
  lowRangeText,
  type PushLocale,
  type PushText,
  serviceDueText,
} from './messages.ts';

export const DRIVER_PUSH_KINDS = ['low_range', 'service_due', 'challenge_results'] as const;
export type DriverPushKind = (typeof DRIVER_PUSH_KINDS)[number];

/** user_preferences' column per kind (migration 000032); no row or no column value: on. */
const SETTING_COLUMN: Record<DriverPushKind, string> = {
  low_range: 'push_low_range',
  service_due: 'push_service_due',
  challenge_results: 'push_challenge_results',
};

/** Below this estimated range a low-range episode opens (about half an hour of driving). */
export const LOW_RANGE_KM = 50;
/**
 * The episode closes only once the range is back above threshold × this (a refuel): an estimate
 * that wobbles around 50 km as the consumption average moves stays one episode, one push.
 */
export const LOW_RANGE_CLEAR_FACTOR = 1.5;
/** The history the range is estimated from, as on the driver page (web/app/driver/estimate.ts). */
const RANGE_HISTORY_MS = 30 * 86_400_000;
/** Less driving or less fuel burned than this gives a range nobody should be woken for. */
const MIN_KM = 20;
const MIN_BURNED_PCT = 3;

export interface DriverPushResult {
  queued: number;
  lowRangeOpened: number;
  lowRangeClosed: number;
  failed: number;
}

/** One key per (kind, occurrence, driver); the hash keeps tenant and user ids out of it. */
export function driverPushKey(
  kind: DriverPushKind,
  occurrence: string,
  tenantId: string,
  userId: string,
): string {
  const h = createHash('sha256').update(`${tenantId}\n${userId}\n${kind}\n${occurrence}`).digest('hex');
  return `driver.${kind}.${h.slice(0, 32)}`;
}

interface Recipient {
  userId: string;
  locale: PushLocale;
  distanceUnit: DistanceUnit;
}

/** The driver, when they want this kind and have a browser subscribed; else null (nothing to do). */
async function recipientFor(
  db: pg.ClientBase,
  tenantId: string,
  userId: string,
  kind: DriverPushKind,
): Promise<Recipient | null> {
  const { rows } = await db.query<{
    locale: PushLocale | null;
    distance_unit: DistanceUnit | null;
    on: boolean;
  }>(
    `SELECT p.locale, p.distance_unit, coalesce(p.${SETTING_COLUMN[kind]}, true) AS on
       FROM users u LEFT JOIN user_preferences p ON p.tenant_id = u.tenant_id AND p.user_id = u.id
      WHERE u.tenant_id = $1 AND u.id = $2
        AND EXISTS (SELECT 1 FROM push_subscriptions s WHERE s.tenant_id = u.tenant_id AND s.user_id = u.id)`,
    [tenantId, userId],
  );
  const r = rows[0];
  if (!r?.on) return null;
  return { userId, locale: r.locale ?? 'en', distanceUnit: r.distance_unit ?? 'km' };
}

/** Into the outbox in the caller's transaction; true when new (false: that key went before). */
async function enqueueDriverPush(
  db: pg.ClientBase,
  tenantId: string,
  to: Recipient,
  kind: DriverPushKind,
  occurrence: string,
  text: PushText,
  data: Record<string, unknown>,
): Promise<boolean> {
  const r = await enqueueNotifications(db, [
    {
      alertId: null,
      tenantId,
      recipient: { userId: to.userId },
      channel: 'push',
      severity: 'info',
      subject: text.title.slice(0, 200),
      text: text.body,
      data: { kind, ...data },
      idempotencyKey: driverPushKey(kind, occurrence, tenantId, to.userId),
    },
  ]);
  return r.queued.length > 0;
}

/** Kilometres left, the driver page's estimate from the vehicle's own last 30 days; null: can't tell. */
export async function estimateVehicleRangeKm(
  db: pg.PoolClient,
  tenantId: string,
  vehicleId: string,
  levelPct: number | null,
  now: number,
): Promise<number | null> {
  if (levelPct === null || !Number.isFinite(levelPct)) return null;
  const from = now - RANGE_HISTORY_MS;
  // The vehicle's distance (the tank fed it, whoever drove): minute mean speed ÷ 60, like due.ts.
  const { rows } = await db.query<{ km: number }>(
    `SELECT coalesce(sum(speed_avg), 0)::float8 / 60 AS km FROM telemetry_minute
      WHERE tenant_id = $1 AND vehicle_id = $2 AND minute >= to_timestamp($3 / 1000.0) AND minute < to_timestamp($4 / 1000.0)`,
    [tenantId, vehicleId, from, now],
  );
  const km = rows[0]?.km ?? 0;
  const points = await fuelLevelSeries(db, {
    tenantId,
    vehicleId,
    from,
    to: now,
    bucketS: bucketFor(from, now),
  });
  // Every fall between consecutive points; rises (refuels) are not negative consumption.
  let burned = 0;
  for (let i = 1; i < points.length; i++) burned += Math.max(0, points[i - 1]!.pct - points[i]!.pct);
  if (km < MIN_KM || burned < MIN_BURNED_PCT) return null;
  return Math.max(0, levelPct) * (km / burned);
}

interface VehicleRow {
  tenant_id: string;
  vehicle_id: string;
  label: string;
  user_id: string | null;
  level: number | null;
}

/**
 * Low range and service due for every vehicle that has a driver now (or an open episode to
 * close). The finding query runs as the owner across tenants; each vehicle then in its tenant's
 * own transaction, so one failure holds nothing else up.
 */
export async function sweepDriverPushes(
  pool: pg.Pool,
  log: Logger,
  now = Date.now(),
  thresholdKm = LOW_RANGE_KM,
): Promise<DriverPushResult> {
  const result: DriverPushResult = { queued: 0, lowRangeOpened: 0, lowRangeClosed: 0, failed: 0 };
  const { rows: vehicles } = await pool.query<VehicleRow>(
    `SELECT v.tenant_id, v.id AS vehicle_id, coalesce(v.plate, v.id) AS label, a.user_id, l.fuel_level_pct AS level
       FROM vehicles v
       LEFT JOIN vehicle_assignments a ON a.vehicle_id = v.id AND a.ends_at IS NULL
       LEFT JOIN vehicle_latest l ON l.vehicle_id = v.id
      WHERE v.retired_at IS NULL
        AND (a.user_id IS NOT NULL
             OR EXISTS (SELECT 1 FROM low_range_episodes e WHERE e.vehicle_id = v.id AND e.ended_at IS NULL))
      ORDER BY v.tenant_id, v.id`,
  );
  for (const v of vehicles) {
    try {
      await inTenant(pool, v.tenant_id, (db) => lowRange(db, v, now, thresholdKm, result));
    } catch (err) {
      result.failed++;
      log.warn(
        { tenant: v.tenant_id, vehicle: v.vehicle_id, err: (err as Error).message },
        'low range push failed',
      );
    }
  }
  const byTenant = new Map<string, VehicleRow[]>();
  for (const v of vehicles)
    if (v.user_id) byTenant.set(v.tenant_id, [...(byTenant.get(v.tenant_id) ?? []), v]);
  for (const [tenantId, assigned] of byTenant) {
    try {
      result.queued += await inTenant(pool, tenantId, (db) => serviceDue(db, tenantId, assigned, now));
    } catch (err) {
      result.failed++;
      log.warn({ tenant: tenantId, err: (err as Error).message }, 'service due push failed');
    }
  }
  return result;
}

async function lowRange(
  db: pg.PoolClient,
  v: VehicleRow,
  now: number,
  thresholdKm: number,
  result: DriverPushResult,
): Promise<void> {
  const rangeKm = await estimateVehicleRangeKm(db, v.tenant_id, v.vehicle_id, v.level, now);
  if (rangeKm === null) return; // unknown: neither opens nor closes an episode
  if (rangeKm >= thresholdKm * LOW_RANGE_CLEAR_FACTOR) {
    const closed = await db.query(
      `UPDATE low_range_episodes SET ended_at = greatest(now(), started_at)
        WHERE tenant_id = $1 AND vehicle_id = $2 AND ended_at IS NULL`,
      [v.tenant_id, v.vehicle_id],
    );
    result.lowRangeClosed += closed.rowCount ?? 0;
    return;
  }
  if (rangeKm >= thresholdKm) return; // between the two: the episode, if any, goes on
  const opened = await db.query<{ id: string }>(
    `INSERT INTO low_range_episodes (tenant_id, vehicle_id, range_km) VALUES ($1, $2, $3)
     ON CONFLICT (tenant_id, vehicle_id) WHERE ended_at IS NULL DO NOTHING RETURNING id`,
    [v.tenant_id, v.vehicle_id, rangeKm],
  );
  if (opened.rows[0]) result.lowRangeOpened++;
  if (!v.user_id) return;
  const to = await recipientFor(db, v.tenant_id, v.user_id, 'low_range');
  if (!to) return;
  const { rows } = await db.query<{ id: string }>(
    'SELECT id FROM low_range_episodes WHERE tenant_id = $1 AND vehicle_id = $2 AND ended_at IS NULL',
    [v.tenant_id, v.vehicle_id],
  );
  const episode = rows[0]!.id;
  const text = lowRangeText(to.locale, to.distanceUnit, { vehicle: v.label, rangeKm });
  if (
    await enqueueDriverPush(db, v.tenant_id, to, 'low_range', `episode:${episode}`, text, {
      vehicleId: v.vehicle_id,
      rangeKm: Math.round(rangeKm),
    })
  )
    result.queued++;
}

async function serviceDue(
  db: pg.PoolClient,
  tenantId: string,
  assigned: readonly VehicleRow[],
  now: number,
): Promise<number> {
  const driverOf = new Map(assigned.map((v) => [v.vehicle_id, v]));
  let queued = 0;
  for (const d of await listDue(db, tenantId, now)) {
    const v = driverOf.get(d.vehicleId);
    if (d.status === 'ok' || !v?.user_id) continue;
    const to = await recipientFor(db, tenantId, v.user_id, 'service_due');
    if (!to) continue;
    // The occurrence is the alerts' service-due episode: this program's interval from this service.
    const occurrence = `${d.programId}:${d.vehicleId}:${d.since}`;
    const text = serviceDueText(to.locale, {
      vehicle: v.label,
      program: d.programName,
      overdue: d.status === 'overdue',
      dueAt: d.forecastDueAt,
    });
    if (
      await enqueueDriverPush(db, tenantId, to, 'service_due', occurrence, text, {
        vehicleId: d.vehicleId,
        programId: d.programId,
        status: d.status,
      })
    )
      queued++;
  }
  return queued;
}

/**
 * Each participant's result of a challenge just frozen, in finalizeChallenge's transaction (so
 * the results and their pushes commit together, once). A team's pushes go to its members.
 */
export async function queueChallengeResults(
  db: pg.PoolClient,
  tenantId: string,
  challenge: { id: number; name: string; kind: 'individual' | 'team' },
  standings: readonly Standing[],
): Promise<number> {
  const ranked = standings.filter((s) => s.rank !== null).length;
  let queued = 0;
  for (const s of standings) {
    for (const userId of s.members) {
      const to = await recipientFor(db, tenantId, userId, 'challenge_results');
      if (!to) continue;
      const text = challengeResultText(to.locale, {
        challenge: challenge.name,
        team: challenge.kind === 'team' ? s.name : null,
        rank: s.rank,
        of: ranked,
        eligible: s.eligible,
        met: s.met,
        points: s.points,
      });
      if (
        await enqueueDriverPush(db, tenantId, to, 'challenge_results', `challenge:${challenge.id}`, text, {
          challengeId: challenge.id,
          rank: s.rank,
          points: s.points,
        })
      )
        queued++;
    }
  }
  return queued;
}
