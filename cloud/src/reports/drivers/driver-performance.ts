/**
 * The driver performance table: per driver, what their vehicles did while they were assigned to
 * them (vehicle_assignments, migration 000013: a reassignment adds a period, so the past keeps its
 * driver), as db/queries/driver-scores.ts credits it:
 *   distance    the minute rollups of the vehicle within the driver's periods
 *   fuel        litres bought for the vehicle within them (fuel_transactions), L/100 km from it
 *   idling      long-idle events within them: hours and litres
 *   harsh       harsh braking, acceleration and cornering events, also per 100 km; speeding
 * An event the vehicle tied to another driver (its own driver id, e.g. a driver key) is not
 * credited to the assigned one: the vehicle saw who drove.
 */
import type pg from 'pg';
import {
  KM_PER_MILE,
  LITRES_PER_US_GALLON,
  listOrNull,
  type ReportFilters,
  type ReportTable,
  round,
  type Units,
} from '../builder/report-table.ts';
import { mpgOf } from '../consumption/weekly-consumption.ts';

export async function driverPerformance(
  db: Pick<pg.PoolClient, 'query'>,
  q: { tenantId: string; from: number; to: number; filters: ReportFilters; units: Units },
): Promise<ReportTable> {
  const { rows } = await db.query<{
    id: string;
    name: string;
    km: number;
    litres: number;
    idle_s: number;
    idle_l: number;
    harsh: number;
    speeding: number;
  }>(
    `WITH p AS (
       SELECT a.user_id, a.vehicle_id,
              greatest(a.starts_at, to_timestamp($2 / 1000.0)) AS s,
              least(coalesce(a.ends_at, 'infinity'), to_timestamp($3 / 1000.0)) AS e
         FROM vehicle_assignments a JOIN vehicles v ON v.id = a.vehicle_id AND v.tenant_id = a.tenant_id
        WHERE a.tenant_id = $1 AND a.starts_at < to_timestamp($3 / 1000.0)
          AND coalesce(a.ends_at, 'infinity') > to_timestamp($2 / 1000.0)
          AND ($4::bigint[] IS NULL OR v.group_id = ANY($4::bigint[]))
          AND ($5::text[] IS NULL OR v.id = ANY($5::text[]))
          AND ($6::text[] IS NULL OR a.user_id = ANY($6::text[]))),
     d AS (SELECT u.id, u.name FROM users u WHERE u.tenant_id = $1 AND u.id IN (SELECT user_id FROM p))
     SELECT d.id, d.name,
            coalesce((SELECT sum(m.speed_avg) / 60.0 FROM p JOIN telemetry_minute m
                        ON m.tenant_id = $1 AND m.vehicle_id = p.vehicle_id AND m.minute >= p.s AND m.minute < p.e
                       WHERE p.user_id = d.id), 0)::float8 AS km,
            coalesce((SELECT sum(t.litres) FROM p JOIN fuel_transactions t
                        ON t.tenant_id = $1 AND t.vehicle_id = p.vehicle_id AND t.ts >= p.s AND t.ts < p.e
                       WHERE p.user_id = d.id), 0)::float8 AS litres,
            ev.idle_s, ev.idle_l, ev.harsh, ev.speeding
       FROM d
       CROSS JOIN LATERAL (
         SELECT coalesce(sum(CASE WHEN e.type = 'long_idle' AND jsonb_typeof(e.details -> 'durationS') = 'number'
                                  THEN (e.details ->> 'durationS')::float8 END), 0)::float8 AS idle_s,
                coalesce(sum(CASE WHEN e.type = 'long_idle' AND jsonb_typeof(e.details -> 'fuelL') = 'number'
                                  THEN (e.details ->> 'fuelL')::float8 END), 0)::float8 AS idle_l,
                count(*) FILTER (WHERE e.type IN ('harsh_brake', 'harsh_accel', 'harsh_corner'))::int AS harsh,
                count(*) FILTER (WHERE e.type = 'speeding')::int AS speeding
           FROM p JOIN vehicle_events e
             ON e.tenant_id = $1 AND e.vehicle_id = p.vehicle_id AND e.start_ts >= p.s AND e.start_ts < p.e
          WHERE p.user_id = d.id AND (e.driver_id IS NULL OR e.driver_id = d.id)) ev
      ORDER BY d.name, d.id`,
    [
      q.tenantId,
      q.from,
      q.to,
      listOrNull(q.filters.groupIds),
      listOrNull(q.filters.vehicleIds),
      listOrNull(q.filters.driverIds),
    ],
  );
  const us = q.units === 'us';
  const unit = us ? 'mpg' : 'L/100 km';
  return {
    kind: 'drivers',
    title: 'Driver performance while assigned',
    from: q.from,
    to: q.to,
    columns: [
      { key: 'driver', label: 'Driver', numeric: false },
      { key: 'distance', label: us ? 'Distance (mi)' : 'Distance (km)', numeric: true },
      { key: 'fuel', label: us ? 'Fuel bought (US gal)' : 'Fuel bought (L)', numeric: true },
      { key: 'consumption', label: unit, numeric: true },
      { key: 'idleHours', label: 'Idle hours', numeric: true },
      { key: 'idleFuel', label: us ? 'Idle fuel (US gal)' : 'Idle fuel (L)', numeric: true },
      { key: 'harshEvents', label: 'Harsh events', numeric: true },
      { key: 'harshPer100', label: us ? 'Harsh per 100 mi' : 'Harsh per 100 km', numeric: true },
      { key: 'speeding', label: 'Speeding episodes', numeric: true },
    ],
    rows: rows.map((r) => {
      const l100 = r.km >= 1 && r.litres > 0 ? (r.litres / r.km) * 100 : null;
      const dist = us ? r.km / KM_PER_MILE : r.km;
      return {
        driver: r.name,
        driverId: r.id,
        distance: round(dist, 1),
        fuel: round(us ? r.litres / LITRES_PER_US_GALLON : r.litres, 1),
        consumption: l100 === null ? null : round(us ? mpgOf(l100) : l100, 2),
        idleHours: round(r.idle_s / 3600, 2),
        idleFuel: round(us ? r.idle_l / LITRES_PER_US_GALLON : r.idle_l, 1),
        harshEvents: r.harsh,
        harshPer100: dist >= 1 ? round((r.harsh * 100) / dist, 2) : null,
        speeding: r.speeding,
      };
    }),
    chart: {
      title: `Harsh events per 100 ${us ? 'mi' : 'km'} per driver`,
      labelKeys: ['driver'],
      series: [{ key: 'harshPer100', label: `Harsh per 100 ${us ? 'mi' : 'km'}` }],
      unit: 'events',
    },
    notes: [
      'Everything is credited through the assignment history: a reassignment never moves past events to the new driver.',
    ],
  };
}
