/**
 * What a challenge measures, computed straight from the raw data (not from a stored score): the
 * vehicles' detector events (vehicle_events) and their minute rollups (telemetry_minute), each row
 * credited to the driver assigned to its vehicle at the row's own time (vehicle_assignments, the
 * same rule as db/queries/driver-scores.ts), clipped to the challenge window.
 *
 *   km          each minute rollup contributes its mean speed for one minute (speed_avg / 60)
 *   driveMin    minutes with a mean speed above 0; engineMin: minutes with a mean rpm above 0
 *   harsh       harsh_brake + harsh_accel + harsh_corner events that started in the window
 *   speedingS   seconds of speeding events (end - start) that started in the window
 *   idleS       seconds of long_idle events (end - start) that started in the window
 *
 * A team's sums are the sums of its eligible members' (driver_groups membership at computation).
 */
import type pg from 'pg';

export const CHALLENGE_METRICS = ['distance_km', 'harsh_per_100km', 'speeding_share', 'idle_share'] as const;
export type ChallengeMetric = (typeof CHALLENGE_METRICS)[number];
export type Direction = 'at_least' | 'at_most';

export const METRIC_LABELS: Record<ChallengeMetric, string> = {
  distance_km: 'Distance (km)',
  harsh_per_100km: 'Harsh events per 100 km',
  speeding_share: 'Share of driving time speeding (%)',
  idle_share: 'Share of engine time idling (%)',
};

export interface RawSums {
  km: number;
  driveMin: number;
  engineMin: number;
  harsh: number;
  speedingS: number;
  idleS: number;
}

export const ZERO_SUMS: RawSums = { km: 0, driveMin: 0, engineMin: 0, harsh: 0, speedingS: 0, idleS: 0 };

export function addSums(a: RawSums, b: RawSums): RawSums {
  return {
    km: a.km + b.km,
    driveMin: a.driveMin + b.driveMin,
    engineMin: a.engineMin + b.engineMin,
    harsh: a.harsh + b.harsh,
    speedingS: a.speedingS + b.speedingS,
    idleS: a.idleS + b.idleS,
  };
}

/** The metric's value, or null when it has no denominator (nothing driven: not a perfect score). */
export function metricValue(metric: ChallengeMetric, s: RawSums): number | null {
  switch (metric) {
    case 'distance_km':
      return s.km;
    case 'harsh_per_100km':
      return s.km > 0 ? (s.harsh * 100) / s.km : null;
    case 'speeding_share':
      return s.driveMin > 0 ? (100 * s.speedingS) / (s.driveMin * 60) : null;
    case 'idle_share':
      return s.engineMin > 0 ? (100 * s.idleS) / (s.engineMin * 60) : null;
  }
}

export function meetsTarget(direction: Direction, target: number, value: number | null): boolean {
  if (value === null) return false;
  return direction === 'at_least' ? value >= target : value <= target;
}

/** Raw sums per driver of the tenant (or of `userIds`) over [from, to). */
export async function driverSums(
  db: pg.PoolClient,
  q: { tenantId: string; from: Date; to: Date; userIds: string[] | null },
): Promise<Map<string, { name: string; sums: RawSums }>> {
  const { rows } = await db.query<{
    id: string;
    name: string;
    km: number;
    drive_min: number;
    engine_min: number;
    harsh: number;
    speeding_s: number;
    idle_s: number;
  }>(
    `WITH d AS (
       SELECT u.id, u.name FROM users u
        WHERE u.tenant_id = $1 AND u.role = 'driver' AND ($4::text[] IS NULL OR u.id = ANY ($4))),
     p AS (
       SELECT a.user_id, a.vehicle_id, greatest(a.starts_at, $2) AS s,
              least(coalesce(a.ends_at, 'infinity'), $3) AS e
         FROM vehicle_assignments a JOIN d ON d.id = a.user_id
        WHERE a.tenant_id = $1 AND a.starts_at < $3 AND coalesce(a.ends_at, 'infinity') > $2),
     m AS (
       SELECT p.user_id, coalesce(sum(m.speed_avg), 0) / 60.0 AS km,
              count(*) FILTER (WHERE m.speed_avg > 0) AS drive_min,
              count(*) FILTER (WHERE m.rpm_avg > 0) AS engine_min
         FROM p JOIN telemetry_minute m
           ON m.tenant_id = $1 AND m.vehicle_id = p.vehicle_id AND m.minute >= p.s AND m.minute < p.e
        GROUP BY p.user_id),
     e AS (
       SELECT p.user_id,
              count(*) FILTER (WHERE ev.type IN ('harsh_brake', 'harsh_accel', 'harsh_corner')) AS harsh,
              coalesce(sum(extract(epoch FROM ev.end_ts - ev.start_ts)) FILTER (WHERE ev.type = 'speeding'), 0) AS speeding_s,
              coalesce(sum(extract(epoch FROM ev.end_ts - ev.start_ts)) FILTER (WHERE ev.type = 'long_idle'), 0) AS idle_s
         FROM p JOIN vehicle_events ev
           ON ev.tenant_id = $1 AND ev.vehicle_id = p.vehicle_id AND ev.start_ts >= p.s AND ev.start_ts < p.e
        WHERE ev.driver_id IS NULL OR ev.driver_id = p.user_id
        GROUP BY p.user_id)
     SELECT d.id, d.name, coalesce(m.km, 0)::float8 AS km, coalesce(m.drive_min, 0)::int AS drive_min,
            coalesce(m.engine_min, 0)::int AS engine_min, coalesce(e.harsh, 0)::int AS harsh,
            coalesce(e.speeding_s, 0)::float8 AS speeding_s, coalesce(e.idle_s, 0)::float8 AS idle_s
       FROM d LEFT JOIN m ON m.user_id = d.id LEFT JOIN e ON e.user_id = d.id
      ORDER BY d.id`,
    [q.tenantId, q.from, q.to, q.userIds],
  );
  return new Map(
    rows.map((r) => [
      r.id,
      {
        name: r.name,
        sums: {
          km: r.km,
          driveMin: r.drive_min,
          engineMin: r.engine_min,
          harsh: r.harsh,
          speedingS: r.speeding_s,
          idleS: r.idle_s,
        },
      },
    ]),
  );
}
