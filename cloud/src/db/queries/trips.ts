import type pg from 'pg';

/** A minute counts as driving when its top speed reached this (GPS jitter at a standstill stays below). */
export const TRIP_MOVING_KMH = 5;
/** A stop longer than this ends a trip (traffic lights and queues do not). */
export const TRIP_GAP_MINUTES = 5;

export interface Trip {
  /** First and last driving minute's start, epoch ms; `end` is the end of that last minute. */
  start: number;
  end: number;
  drivingMinutes: number;
  /** Sum over the driving minutes of their mean speed x one minute: the rollups hold no positions. */
  distanceKm: number;
  maxSpeedKmh: number;
  /** Fuel level at the start and at the end (first minute's max, last minute's min), percent. */
  fuelStartPct: number | null;
  fuelEndPct: number | null;
}

/**
 * A vehicle's trips over [from, to), from the minute rollups (never the raw rows): the driving
 * minutes (top speed >= TRIP_MOVING_KMH) grouped into islands, a gap of more than
 * TRIP_GAP_MINUTES between two of them starting a new trip. Newest first, at most `limit`.
 */
export async function listTrips(
  db: pg.PoolClient,
  q: { tenantId: string; vehicleId: string; from: number; to: number; limit: number },
): Promise<Trip[]> {
  const { rows } = await db.query<{
    start: number;
    end: number;
    minutes: number;
    km: number;
    vmax: number;
    fuel_start: number | null;
    fuel_end: number | null;
  }>(
    `WITH driving AS (
       SELECT minute, speed_max, speed_sum / NULLIF(speed_n, 0) AS speed_avg, fuel_min, fuel_max,
              CASE WHEN minute - lag(minute) OVER (ORDER BY minute) <= make_interval(mins => $6 + 1)
                   THEN 0 ELSE 1 END AS starts_trip
         FROM telemetry_minute
        WHERE tenant_id = $1 AND vehicle_id = $2
          AND minute >= to_timestamp($3 / 1000.0) AND minute < to_timestamp($4 / 1000.0)
          AND speed_max >= $5),
     numbered AS (SELECT *, sum(starts_trip) OVER (ORDER BY minute) AS trip FROM driving)
     SELECT extract(epoch FROM min(minute))::float8 * 1000 AS start,
            extract(epoch FROM max(minute) + interval '1 minute')::float8 * 1000 AS "end",
            count(*)::int AS minutes,
            coalesce(sum(speed_avg), 0)::float8 / 60 AS km,
            max(speed_max)::float8 AS vmax,
            (array_agg(fuel_max ORDER BY minute) FILTER (WHERE fuel_max IS NOT NULL))[1]::float8 AS fuel_start,
            (array_agg(fuel_min ORDER BY minute DESC) FILTER (WHERE fuel_min IS NOT NULL))[1]::float8 AS fuel_end
       FROM numbered
      GROUP BY trip
      ORDER BY start DESC
      LIMIT $7`,
    [q.tenantId, q.vehicleId, q.from, q.to, TRIP_MOVING_KMH, TRIP_GAP_MINUTES, q.limit],
  );
  return rows.map((r) => ({
    start: r.start,
    end: r.end,
    drivingMinutes: r.minutes,
    distanceKm: Math.round(r.km * 10) / 10,
    maxSpeedKmh: r.vmax,
    fuelStartPct: r.fuel_start,
    fuelEndPct: r.fuel_end,
  }));
}
