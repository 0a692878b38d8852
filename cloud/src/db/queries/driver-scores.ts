import type pg from 'pg';
import { BADGE_DATASET, badgesEarned } from '../../drivers/badges/dataset.ts';

/**
 * A driver's efficiency score over a period, 0-100, from what their vehicles' detectors reported
 * while they were assigned to them and the distance the rollups show then:
 *
 *   per 100 km:  H = harsh braking/acceleration/cornering events, S = speeding events,
 *                I = minutes of long idling
 *   score = clamp(100 - 5 H - 3 S - 0.5 I, 0, 100), rounded
 *
 * so one harsh event every 100 km costs 5 points, one speeding episode 3, ten idle minutes 5.
 * Under MIN_SCORED_KM there is too little driving to judge: score null.
 * Distance: each minute rollup contributes its mean speed for one minute (speed_avg / 60 km).
 */
export const MIN_SCORED_KM = 10;
export const SCORE_WEIGHTS = { harshPer100Km: 5, speedingPer100Km: 3, idleMinPer100Km: 0.5 } as const;

/**
 * Badges, each earned over the period: thresholds are data (drivers/badges/badges.v1.json, issue 19),
 * judged by drivers/badges/dataset.ts; the programme sweep awards each once (driver_badges).
 */
export const BADGES: Record<string, string> = Object.fromEntries(
  BADGE_DATASET.badges.map((b) => [b.id, b.title]),
);
export type Badge = string;

export interface DriverStats {
  userId: string;
  name: string;
  vehicleId: string | null;
  km: number;
  harshEvents: number;
  speedingEvents: number;
  idleMinutes: number;
  /** Refuels the vehicle detected while this driver was assigned to it, and their litres. */
  refuels: number;
  refuelledL: number;
  score: number | null;
  badges: Badge[];
}

export function scoreOf(s: Pick<DriverStats, 'km' | 'harshEvents' | 'speedingEvents' | 'idleMinutes'>) {
  if (s.km < MIN_SCORED_KM) return null;
  const per100 = (n: number) => (n * 100) / s.km;
  const raw =
    100 -
    SCORE_WEIGHTS.harshPer100Km * per100(s.harshEvents) -
    SCORE_WEIGHTS.speedingPer100Km * per100(s.speedingEvents) -
    SCORE_WEIGHTS.idleMinPer100Km * per100(s.idleMinutes);
  return Math.round(Math.min(100, Math.max(0, raw)));
}

export function badgesOf(
  s: Omit<DriverStats, 'badges' | 'userId' | 'name' | 'vehicleId' | 'refuels' | 'refuelledL'>,
): Badge[] {
  return badgesEarned(s);
}

/**
 * Stats of the tenant's drivers (or one), by name; `after` = the last (name, id) of the previous
 * page. Everything is credited through the assignment history (vehicle_assignments, migration
 * 000013), never through who drives a vehicle now: a driver's distance is their vehicles'
 * rollups while they were assigned, their events and refuels those that started then (the
 * periods of a vehicle never overlap, so each event has exactly the one driver
 * assigned_driver() names), except an event the vehicle itself tied to another driver (its
 * driverId, e.g. from a driver key): the vehicle saw who drove. Reassigning a vehicle adds a
 * period and leaves these as they were.
 */
export async function driverStats(
  db: pg.PoolClient,
  q: {
    tenantId: string;
    userId: string | null;
    from: number;
    to: number;
    limit: number;
    after: { name: string; id: string } | null;
  },
): Promise<DriverStats[]> {
  const { rows } = await db.query<{
    id: string;
    name: string;
    vehicle_id: string | null;
    km: number;
    harsh: number;
    speeding: number;
    idle_min: number;
    refuels: number;
    refuelled_l: number;
  }>(
    `WITH d AS (
       SELECT id, name FROM users
        WHERE tenant_id = $1 AND role = 'driver' AND ($2::text IS NULL OR id = $2)
          AND ($6::text IS NULL OR (name, id) > ($6, $7::text))
        ORDER BY name, id LIMIT $5),
     p AS (
       SELECT a.user_id, a.vehicle_id,
              greatest(a.starts_at, to_timestamp($3 / 1000.0)) AS s,
              least(coalesce(a.ends_at, 'infinity'), to_timestamp($4 / 1000.0)) AS e
         FROM vehicle_assignments a JOIN d ON d.id = a.user_id
        WHERE a.tenant_id = $1 AND a.starts_at < to_timestamp($4 / 1000.0)
          AND coalesce(a.ends_at, 'infinity') > to_timestamp($3 / 1000.0))
     SELECT d.id, d.name,
            (SELECT a.vehicle_id FROM vehicle_assignments a
              WHERE a.user_id = d.id AND a.ends_at IS NULL AND a.starts_at <= now()) AS vehicle_id,
            coalesce((SELECT sum(m.speed_avg) / 60.0 FROM p JOIN telemetry_minute m
                        ON m.tenant_id = $1 AND m.vehicle_id = p.vehicle_id AND m.minute >= p.s AND m.minute < p.e
                       WHERE p.user_id = d.id), 0)::float8 AS km,
            e.harsh, e.speeding, e.idle_min, e.refuels, e.refuelled_l
       FROM d
       CROSS JOIN LATERAL (
         SELECT count(*) FILTER (WHERE ev.type IN ('harsh_brake', 'harsh_accel', 'harsh_corner'))::int AS harsh,
                count(*) FILTER (WHERE ev.type = 'speeding')::int AS speeding,
                coalesce(sum(CASE WHEN ev.type = 'long_idle' AND jsonb_typeof(ev.details -> 'durationS') = 'number'
                                  THEN (ev.details ->> 'durationS')::float8 END), 0) / 60.0 AS idle_min,
                count(*) FILTER (WHERE ev.type = 'refuel')::int AS refuels,
                coalesce(sum(ev.volume_l) FILTER (WHERE ev.type = 'refuel'), 0)::float8 AS refuelled_l
           FROM p JOIN vehicle_events ev
             ON ev.tenant_id = $1 AND ev.vehicle_id = p.vehicle_id AND ev.start_ts >= p.s AND ev.start_ts < p.e
          WHERE p.user_id = d.id AND (ev.driver_id IS NULL OR ev.driver_id = d.id)) e
      ORDER BY d.name, d.id`,
    [q.tenantId, q.userId, q.from, q.to, q.limit, q.after?.name ?? null, q.after?.id ?? null],
  );
  return rows.map((r) => {
    const base = {
      km: Math.round(r.km * 10) / 10,
      harshEvents: r.harsh,
      speedingEvents: r.speeding,
      idleMinutes: Math.round(r.idle_min * 10) / 10,
    };
    const score = scoreOf(base);
    return {
      userId: r.id,
      name: r.name,
      vehicleId: r.vehicle_id,
      ...base,
      refuels: r.refuels,
      refuelledL: Math.round(r.refuelled_l * 10) / 10,
      score,
      badges: badgesOf({ ...base, score }),
    };
  });
}
