import type pg from 'pg';
import { occurrenceOf } from '../../alerts/event-alerts.ts';
import type { Occurrence } from '../../alerts/rules/engine.ts';
import { toStoredVehicleEvent, type VehicleEventDbRow } from './insert-vehicle-events.ts';

/** Start times (epoch ms) of the harsh events of these vehicles in [from, to], by vehicle. */
export async function findHarshTimes(
  db: pg.ClientBase,
  vehicles: readonly { tenantId: string; vehicleId: string }[],
  from: number,
  to: number,
): Promise<Map<string, number[]>> {
  const { rows } = await db.query<{ vehicle_id: string; ts: number }>(
    `SELECT vehicle_id, extract(epoch FROM start_ts) * 1000 AS ts
       FROM vehicle_events
      WHERE (tenant_id, vehicle_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))
        AND type IN ('harsh_brake', 'harsh_accel', 'harsh_corner')
        AND start_ts BETWEEN to_timestamp($3 / 1000.0) AND to_timestamp($4 / 1000.0)`,
    [vehicles.map((v) => v.tenantId), vehicles.map((v) => v.vehicleId), from, to],
  );
  const out = new Map<string, number[]>();
  for (const r of rows) {
    const list = out.get(r.vehicle_id) ?? [];
    list.push(Number(r.ts));
    out.set(r.vehicle_id, list);
  }
  return out;
}

/**
 * The tenant's stored history in [from, to] as the rules engine sees it: vehicle events, and the
 * geofence entries/exits (from their alerts). Capped at 200,000 occurrences (a week of a large
 * fleet's events is far below).
 */
export async function findHistory(
  db: pg.ClientBase,
  tenantId: string,
  from: number,
  to: number,
): Promise<Occurrence[]> {
  const events = await db.query<VehicleEventDbRow>(
    `SELECT tenant_id, vehicle_id, event_id, type, start_ts, end_ts, volume_l, lat, lon, driver_id, confidence, details
       FROM vehicle_events
      WHERE tenant_id = $1 AND start_ts BETWEEN to_timestamp($2 / 1000.0) AND to_timestamp($3 / 1000.0)
      ORDER BY start_ts LIMIT 200000`,
    [tenantId, from, to],
  );
  const fences = await db.query<{
    vehicle_id: string;
    type: string;
    ts: Date;
    lat: number | null;
    lon: number | null;
    geofence_id: number;
    title: string;
    details: Record<string, unknown>;
  }>(
    `SELECT vehicle_id, type, ts, lat, lon, geofence_id, title, details FROM alerts
      WHERE tenant_id = $1 AND type IN ('geofence_enter', 'geofence_exit') AND rule_id IS NULL
        AND ts BETWEEN to_timestamp($2 / 1000.0) AND to_timestamp($3 / 1000.0)
      ORDER BY ts LIMIT 200000`,
    [tenantId, from, to],
  );
  return [
    ...events.rows.map((r) => occurrenceOf({ ...toStoredVehicleEvent(r), tenantId: r.tenant_id })),
    ...fences.rows.map(
      (r): Occurrence => ({
        tenantId,
        vehicleId: r.vehicle_id,
        kind: r.type,
        ts: r.ts.getTime(),
        end: r.ts.getTime(),
        lat: r.lat,
        lon: r.lon,
        volumeL: null,
        confidence: null,
        eventId: null,
        geofenceId: r.geofence_id,
        title: r.title,
        details: r.details,
      }),
    ),
  ];
}

/** The group of each vehicle (a rule's `groups` scope), as the text ids rules name them by. */
export async function findVehicleGroups(
  db: pg.ClientBase,
  vehicleIds: readonly string[],
): Promise<Map<string, string[]>> {
  if (vehicleIds.length === 0) return new Map();
  const { rows } = await db.query<{ id: string; group_id: string }>(
    'SELECT id, group_id::text AS group_id FROM vehicles WHERE id = ANY($1::text[]) AND group_id IS NOT NULL',
    [[...new Set(vehicleIds)]],
  );
  return new Map(rows.map((r) => [r.id, [r.group_id]]));
}
