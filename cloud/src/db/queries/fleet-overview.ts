import type pg from 'pg';

/** A vehicle whose newest sample is older than this is shown offline, whatever its status topic says. */
export const STALE_AFTER_MS = 10 * 60_000;
/** Faster than this counts as moving (GPS jitter reads a parked vehicle at 1-2 km/h). */
export const MOVING_KMH = 3;

export const VEHICLE_STATUSES = ['moving', 'idle', 'parked', 'offline', 'no_data'] as const;
export type VehicleStatus = (typeof VEHICLE_STATUSES)[number];

export interface FleetVehicle {
  vehicleId: string;
  status: VehicleStatus;
  /** Epoch ms of the newest sample (last seen); null before the first one. */
  lastSeen: number | null;
  lat: number | null;
  lon: number | null;
  speedKmh: number | null;
  fuelLevelPct: number | null;
  online: boolean | null;
}

/**
 * status, from the newest sample and the status topic:
 *   no_data  never sent a sample        offline  status topic says offline, or silent > 10 min
 *   moving   speed > 3 km/h             idle     engine turning (rpm > 0), not moving
 *   parked   otherwise
 */
export const STATUS_SQL = `CASE WHEN l.vehicle_id IS NULL THEN 'no_data'
            WHEN v.online IS FALSE OR l.ts < now() - make_interval(secs => ${STALE_AFTER_MS / 1000}) THEN 'offline'
            WHEN l.speed_kmh > ${MOVING_KMH} THEN 'moving'
            WHEN l.rpm > 0 THEN 'idle'
            ELSE 'parked' END`;

interface Row {
  vehicle_id: string;
  status: VehicleStatus;
  ts: Date | null;
  lat: number | null;
  lon: number | null;
  speed_kmh: number | null;
  fuel_level_pct: number | null;
  online: boolean | null;
}

/**
 * One page of the fleet in vehicle id order (after `afterVehicleId`; at most `limit` rows), and the
 * count per status of the whole visible fleet. `vehicleId` narrows to one vehicle (a driver's
 * own). When the first page holds the whole fleet (the dashboard's map asks for all of it) the
 * counts come from its rows, without a second pass over the fleet.
 */
export async function fleetOverview(
  db: pg.PoolClient,
  scope: { tenantId: string; vehicleId: string | null },
  limit: number,
  afterVehicleId: string | null,
): Promise<{ counts: Record<VehicleStatus, number>; rows: FleetVehicle[] }> {
  const from = `FROM vehicles v LEFT JOIN vehicle_latest l ON l.vehicle_id = v.id
      WHERE v.tenant_id = $1 AND ($2::text IS NULL OR v.id = $2)`;
  // Not a named prepared statement: the embedded database (PGlite) keeps one session across
  // client connections, so a second connection preparing the same name failed with "prepared
  // statement already exists" (every other overview of the one-command stack). The answer is
  // shared for a second per tenant anyway (shared-answers.ts): planning it is not the cost.
  const { rows } = await db.query<Row>(
    `SELECT v.id AS vehicle_id, ${STATUS_SQL} AS status, l.ts, l.lat, l.lon, l.speed_kmh, l.fuel_level_pct, v.online
       ${from} AND ($3::text IS NULL OR v.id > $3)
      ORDER BY v.id LIMIT $4`,
    [scope.tenantId, scope.vehicleId, afterVehicleId, limit],
  );
  const counts = Object.fromEntries(VEHICLE_STATUSES.map((s) => [s, 0])) as Record<VehicleStatus, number>;
  if (afterVehicleId === null && rows.length < limit) {
    for (const r of rows) counts[r.status]++;
  } else {
    const { rows: byStatus } = await db.query<{ status: VehicleStatus; n: number }>(
      `SELECT ${STATUS_SQL} AS status, count(*)::int AS n ${from} GROUP BY 1`,
      [scope.tenantId, scope.vehicleId],
    );
    for (const r of byStatus) counts[r.status] = r.n;
  }
  return {
    counts,
    rows: rows.map((r) => ({
      vehicleId: r.vehicle_id,
      status: r.status,
      lastSeen: r.ts ? r.ts.getTime() : null,
      lat: r.lat,
      lon: r.lon,
      speedKmh: r.speed_kmh,
      fuelLevelPct: r.fuel_level_pct,
      online: r.online,
    })),
  };
}

/**
 * Vehicles whose latest state was stored after `since` minus a 5 s margin (a transaction that
 * began before `since` may commit after it; the caller drops what it already sent), for the
 * live feed. `since` null: the last 5 s.
 */
export async function positionsStoredSince(
  db: pg.PoolClient,
  tenantId: string,
  since: number | null,
): Promise<(FleetVehicle & { receivedAt: number })[]> {
  const { rows } = await db.query<Row & { received_at: Date }>(
    `SELECT v.id AS vehicle_id, ${STATUS_SQL} AS status, l.ts, l.lat, l.lon, l.speed_kmh, l.fuel_level_pct,
            v.online, l.received_at
       FROM vehicle_latest l JOIN vehicles v ON v.id = l.vehicle_id
      WHERE v.tenant_id = $1
        AND l.received_at > coalesce(to_timestamp($2 / 1000.0), now()) - interval '5 seconds'`,
    [tenantId, since],
  );
  return rows.map((r) => ({
    vehicleId: r.vehicle_id,
    status: r.status,
    lastSeen: r.ts ? r.ts.getTime() : null,
    lat: r.lat,
    lon: r.lon,
    speedKmh: r.speed_kmh,
    fuelLevelPct: r.fuel_level_pct,
    online: r.online,
    receivedAt: r.received_at.getTime(),
  }));
}
