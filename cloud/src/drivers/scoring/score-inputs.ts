/**
 * What each driver of a tenant did over a window, read from the database in one statement:
 * per (driver, vehicle, assignment period) the distance and time from the minute rollups, the
 * fuel balance, and the events credited to them.
 *
 * Attribution (the same as db/queries/driver-scores.ts): an event belongs to the driver whose
 * assignment period (vehicle_assignments) contains its start, unless the vehicle itself named
 * another driver (its driver_id, e.g. a driver key). Reassigning a vehicle adds a period and
 * never moves past events. Events under review (a pending or accepted dispute) are left out.
 */
import type pg from 'pg';
import type { PeerGroupBy, SpeedingEpisode } from './score.ts';

/** Assignment periods clipped to [$2, $3) of tenant $1 (drivers only). */
export const PERIODS_SQL = `
  SELECT a.user_id, a.vehicle_id,
         greatest(a.starts_at, $2::timestamptz) AS s,
         least(coalesce(a.ends_at, 'infinity'), $3::timestamptz) AS e
    FROM vehicle_assignments a JOIN users u ON u.id = a.user_id AND u.role = 'driver'
   WHERE a.tenant_id = $1 AND a.starts_at < $3::timestamptz AND coalesce(a.ends_at, 'infinity') > $2::timestamptz`;

/** The credit condition for `ev` in period `p` (see the module comment). */
export const CREDITED_SQL = `
  ev.tenant_id = $1 AND ev.vehicle_id = p.vehicle_id AND ev.start_ts >= p.s AND ev.start_ts < p.e
  AND (ev.driver_id IS NULL OR ev.driver_id = p.user_id)`;

/** Not under review: no pending or accepted dispute. */
export const NOT_DISPUTED_SQL = `
  NOT EXISTS (SELECT 1 FROM event_disputes d
               WHERE d.tenant_id = ev.tenant_id AND d.vehicle_id = ev.vehicle_id AND d.event_id = ev.event_id
                 AND d.status IN ('pending', 'accepted'))`;

/** Minutes averaging under this speed count as standing still. */
export const MOVING_KMH = 3;

export interface PeriodInputs {
  userId: string;
  vehicleId: string;
  vehicleClass: string | null;
  peerGroup: string;
  km: number;
  movingS: number;
  rpmReportedS: number;
  rpmInBandS: number;
  /** Litres used (fuel balance: level drop × tank + refuels); null: no tank or no fuel data. */
  litres: number | null;
  accel: number;
  brake: number;
  corner: number;
  idleS: number;
  speeding: SpeedingEpisode[];
}

export async function readScoreInputs(
  db: pg.ClientBase,
  q: { tenantId: string; from: Date; to: Date; rpmLow: number; rpmHigh: number; peerGroupBy: PeerGroupBy },
): Promise<PeriodInputs[]> {
  const { rows } = await db.query<{
    user_id: string;
    vehicle_id: string;
    vehicle_class: string | null;
    group_name: string | null;
    km: number;
    moving_s: number;
    rpm_s: number;
    rpm_band_s: number;
    tank_litres: number | null;
    first_fuel: number | null;
    last_fuel: number | null;
    accel: number;
    brake: number;
    corner: number;
    idle_s: number;
    refuel_l: number;
    speeding: [number, number | null][] | null;
  }>(
    `WITH p AS (${PERIODS_SQL})
     SELECT p.user_id, p.vehicle_id, v.vehicle_class, g.name AS group_name, v.tank_litres,
            m.km, m.moving_s, m.rpm_s, m.rpm_band_s, f.first_fuel, f.last_fuel,
            ev.accel, ev.brake, ev.corner, ev.idle_s, ev.refuel_l, ev.speeding
       FROM p
       JOIN vehicles v ON v.id = p.vehicle_id
       LEFT JOIN vehicle_groups g ON g.id = v.group_id
       CROSS JOIN LATERAL (
         SELECT coalesce(sum(m.speed_avg), 0)::float8 / 60 AS km,
                (60 * count(*) FILTER (WHERE m.speed_avg >= $6))::float8 AS moving_s,
                (60 * count(*) FILTER (WHERE m.speed_avg >= $6 AND m.rpm_n > 0))::float8 AS rpm_s,
                (60 * count(*) FILTER (WHERE m.speed_avg >= $6 AND m.rpm_avg BETWEEN $4 AND $5))::float8 AS rpm_band_s
           FROM telemetry_minute m
          WHERE m.tenant_id = $1 AND m.vehicle_id = p.vehicle_id AND m.minute >= p.s AND m.minute < p.e) m
       CROSS JOIN LATERAL (
         SELECT (SELECT (m.fuel_min + m.fuel_max) / 2 FROM telemetry_minute m
                  WHERE m.tenant_id = $1 AND m.vehicle_id = p.vehicle_id AND m.minute >= p.s AND m.minute < p.e
                    AND m.fuel_min IS NOT NULL ORDER BY m.minute LIMIT 1)::float8 AS first_fuel,
                (SELECT (m.fuel_min + m.fuel_max) / 2 FROM telemetry_minute m
                  WHERE m.tenant_id = $1 AND m.vehicle_id = p.vehicle_id AND m.minute >= p.s AND m.minute < p.e
                    AND m.fuel_min IS NOT NULL ORDER BY m.minute DESC LIMIT 1)::float8 AS last_fuel) f
       CROSS JOIN LATERAL (
         SELECT count(*) FILTER (WHERE ev.type = 'harsh_accel')::int AS accel,
                count(*) FILTER (WHERE ev.type = 'harsh_brake')::int AS brake,
                count(*) FILTER (WHERE ev.type = 'harsh_corner')::int AS corner,
                coalesce(sum(CASE WHEN ev.type = 'long_idle' THEN
                  CASE WHEN jsonb_typeof(ev.details -> 'durationS') = 'number' THEN (ev.details ->> 'durationS')::float8
                       ELSE extract(epoch FROM ev.end_ts - ev.start_ts) END END), 0)::float8 AS idle_s,
                coalesce(sum(ev.volume_l) FILTER (WHERE ev.type = 'refuel'), 0)::float8 AS refuel_l,
                jsonb_agg(jsonb_build_array(
                  greatest(extract(epoch FROM ev.end_ts - ev.start_ts), 1),
                  CASE WHEN jsonb_typeof(ev.details -> 'maxSpeedKmh') = 'number'
                        AND jsonb_typeof(ev.details -> 'limitKmh') = 'number'
                       THEN (ev.details ->> 'maxSpeedKmh')::float8 - (ev.details ->> 'limitKmh')::float8 END))
                  FILTER (WHERE ev.type = 'speeding') AS speeding
           FROM vehicle_events ev
          WHERE ${CREDITED_SQL} AND (ev.type = 'refuel' OR ${NOT_DISPUTED_SQL})) ev
      ORDER BY p.user_id, p.vehicle_id, p.s`,
    [q.tenantId, q.from, q.to, q.rpmLow, q.rpmHigh, MOVING_KMH],
  );
  return rows.map((r) => ({
    userId: r.user_id,
    vehicleId: r.vehicle_id,
    vehicleClass: r.vehicle_class,
    peerGroup:
      q.peerGroupBy === 'tenant'
        ? 'all drivers'
        : q.peerGroupBy === 'group'
          ? (r.group_name ?? 'no group')
          : (r.vehicle_class ?? 'no class'),
    km: r.km,
    movingS: r.moving_s,
    rpmReportedS: r.rpm_s,
    rpmInBandS: r.rpm_band_s,
    litres:
      r.tank_litres !== null && r.first_fuel !== null && r.last_fuel !== null
        ? ((r.first_fuel - r.last_fuel) * r.tank_litres) / 100 + r.refuel_l
        : null,
    accel: r.accel,
    brake: r.brake,
    corner: r.corner,
    idleS: r.idle_s,
    speeding: (r.speeding ?? []).map(([durationS, excessKmh]) => ({ durationS, excessKmh })),
  }));
}
