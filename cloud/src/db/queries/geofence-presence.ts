import type pg from 'pg';

/** (geofence, vehicle): the vehicle is inside the geofence (since its position at `since`). */
export interface Presence {
  geofenceId: number;
  vehicleId: string;
}

/** Presence rows of these vehicles in these geofences. */
export async function findPresence(
  db: pg.ClientBase,
  vehicleIds: readonly string[],
  geofenceIds: readonly number[],
): Promise<Presence[]> {
  if (vehicleIds.length === 0 || geofenceIds.length === 0) return [];
  const { rows } = await db.query<{ geofence_id: number; vehicle_id: string }>(
    `SELECT geofence_id, vehicle_id FROM geofence_presence
      WHERE vehicle_id = ANY($1::text[]) AND geofence_id = ANY($2::bigint[])`,
    [vehicleIds, geofenceIds],
  );
  return rows.map((r) => ({ geofenceId: r.geofence_id, vehicleId: r.vehicle_id }));
}

export interface PresenceChange extends Presence {
  change: 'enter' | 'exit';
}

/** A change to record: whose tenant, and the time of the position that made it (epoch ms). */
export interface PresenceChangeRow extends PresenceChange {
  tenantId: string;
  ts: number;
}

/**
 * Records entries and removes exits, and returns the changes really made: a concurrent writer
 * (the API recording who is inside a new geofence) may have made one already, and a change made
 * twice must alert once. One statement per kind of change (fleet_app may insert, not delete).
 */
export async function applyPresenceChanges(
  db: pg.ClientBase,
  changes: readonly PresenceChangeRow[],
): Promise<PresenceChange[]> {
  const entered = changes.filter((c) => c.change === 'enter');
  const exited = changes.filter((c) => c.change === 'exit');
  const made: PresenceChange[] = [];
  if (entered.length > 0) {
    const { rows } = await db.query<{ geofence_id: number; vehicle_id: string }>(
      `INSERT INTO geofence_presence (tenant_id, geofence_id, vehicle_id, since)
       SELECT t, g, v, to_timestamp(s / 1000.0)
         FROM unnest($1::text[], $2::bigint[], $3::text[], $4::float8[]) AS e(t, g, v, s)
       ON CONFLICT (geofence_id, vehicle_id) DO NOTHING
       RETURNING geofence_id, vehicle_id`,
      [
        entered.map((e) => e.tenantId),
        entered.map((e) => e.geofenceId),
        entered.map((e) => e.vehicleId),
        entered.map((e) => e.ts),
      ],
    );
    for (const r of rows) made.push({ change: 'enter', geofenceId: r.geofence_id, vehicleId: r.vehicle_id });
  }
  if (exited.length > 0) {
    const { rows } = await db.query<{ geofence_id: number; vehicle_id: string }>(
      `DELETE FROM geofence_presence p
        USING unnest($1::bigint[], $2::text[]) AS x(g, v)
        WHERE p.geofence_id = x.g AND p.vehicle_id = x.v
       RETURNING p.geofence_id, p.vehicle_id`,
      [exited.map((e) => e.geofenceId), exited.map((e) => e.vehicleId)],
    );
    for (const r of rows) made.push({ change: 'exit', geofenceId: r.geofence_id, vehicleId: r.vehicle_id });
  }
  return made;
}

/** The tenant's latest positions within a bounding box (the API's new geofence: who is inside). */
export async function findLatestPositionsIn(
  db: pg.ClientBase,
  tenantId: string,
  box: { minLat: number; maxLat: number; minLon: number; maxLon: number },
): Promise<{ vehicleId: string; ts: number; lat: number; lon: number }[]> {
  const { rows } = await db.query<{ vehicle_id: string; ts: Date; lat: number; lon: number }>(
    `SELECT l.vehicle_id, l.ts, l.lat, l.lon
       FROM vehicle_latest l JOIN vehicles v ON v.id = l.vehicle_id
      WHERE v.tenant_id = $1 AND l.lat BETWEEN $2 AND $3 AND l.lon BETWEEN $4 AND $5`,
    [tenantId, box.minLat, box.maxLat, box.minLon, box.maxLon],
  );
  return rows.map((r) => ({ vehicleId: r.vehicle_id, ts: r.ts.getTime(), lat: r.lat, lon: r.lon }));
}
