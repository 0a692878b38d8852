/**
 * Idling per vehicle: the long-idle events the agent's idle detector sent (engine running at a
 * standstill past its threshold; details.durationS and details.fuelL, the litres burnt at idle
 * from the engine's fuel rate), their hours, litres, and cost at the average price paid per
 * litre over the period (fuel-price.ts). With a drivers filter, only the idles of those drivers:
 * the vehicle's own driver id where it saw one, else who was assigned (assigned_driver()).
 */
import type pg from 'pg';
import {
  LITRES_PER_US_GALLON,
  listOrNull,
  type ReportFilters,
  type ReportTable,
  round,
  type Units,
  vehicleFilterSql,
} from '../builder/report-table.ts';
import { averageFuelPrice } from './fuel-price.ts';

export async function idlingReport(
  db: Pick<pg.PoolClient, 'query'>,
  q: { tenantId: string; from: number; to: number; filters: ReportFilters; units: Units },
): Promise<ReportTable> {
  const { rows } = await db.query<{
    vehicle_id: string;
    name: string;
    events: number;
    seconds: number;
    litres: number;
  }>(
    `SELECT v.id AS vehicle_id, coalesce(v.plate, v.id) AS name, count(*)::int AS events,
            coalesce(sum(CASE WHEN jsonb_typeof(e.details -> 'durationS') = 'number'
                              THEN (e.details ->> 'durationS')::float8 END), 0)::float8 AS seconds,
            coalesce(sum(CASE WHEN jsonb_typeof(e.details -> 'fuelL') = 'number'
                              THEN (e.details ->> 'fuelL')::float8 END), 0)::float8 AS litres
       FROM vehicle_events e JOIN vehicles v ON v.id = e.vehicle_id AND v.tenant_id = e.tenant_id
      WHERE e.tenant_id = $1 AND e.type = 'long_idle'
        AND e.start_ts >= to_timestamp($2 / 1000.0) AND e.start_ts < to_timestamp($3 / 1000.0)
        AND ${vehicleFilterSql(4, 5)}
        AND ($6::text[] IS NULL OR coalesce(e.driver_id, assigned_driver(e.vehicle_id, e.start_ts)) = ANY($6::text[]))
      GROUP BY 1, 2 ORDER BY 4 DESC, 2`,
    [
      q.tenantId,
      q.from,
      q.to,
      listOrNull(q.filters.groupIds),
      listOrNull(q.filters.vehicleIds),
      listOrNull(q.filters.driverIds),
    ],
  );
  const price = await averageFuelPrice(db, q);
  const us = q.units === 'us';
  const cur = price?.currency ?? '';
  return {
    kind: 'idling',
    title: 'Idling per vehicle: hours, fuel and cost',
    from: q.from,
    to: q.to,
    columns: [
      { key: 'vehicle', label: 'Vehicle', numeric: false },
      { key: 'idles', label: 'Idle episodes', numeric: true },
      { key: 'hours', label: 'Idle hours', numeric: true },
      { key: 'fuel', label: us ? 'Idle fuel (US gal)' : 'Idle fuel (L)', numeric: true },
      { key: 'cost', label: `Idle cost ${cur}`.trim(), numeric: true },
    ],
    rows: rows.map((r) => ({
      vehicle: r.name,
      vehicleId: r.vehicle_id,
      idles: r.events,
      hours: round(r.seconds / 3600, 2),
      fuel: round(us ? r.litres / LITRES_PER_US_GALLON : r.litres, 1),
      cost: price === null ? null : round(r.litres * price.perLitre, 2),
    })),
    chart: {
      title: 'Idle hours per vehicle',
      labelKeys: ['vehicle'],
      series: [{ key: 'hours', label: 'Idle hours' }],
      unit: 'h',
    },
    notes: [
      "Idle episodes: the agent's long-idle events (engine on at a standstill past the threshold).",
      price === null
        ? 'No priced purchase: no cost.'
        : `Cost at the average price paid, ${round(price.perLitre, 3)} ${price.currency}/L.`,
    ],
  };
}
