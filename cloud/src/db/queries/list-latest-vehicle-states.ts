import type { VehicleState } from '@fleet/shared';
import type pg from 'pg';

interface Row {
  vehicle_id: string;
  tenant_id: string;
  ts: Date;
  lat: number | null;
  lon: number | null;
  speed_kmh: number | null;
  rpm: number | null;
  fuel_level_pct: number | null;
  coolant_c: number | null;
  online: boolean | null;
  received_at: Date;
}

/**
 * Latest states in vehicle id order. `scope.tenantId` is the application's own tenant filter;
 * run inside inTenant() row-level security applies as well, so a query that loses the filter
 * (scope.tenantId null: what cloud/test/tenancy.test.ts does on purpose) still sees one tenant.
 */
export async function listLatestVehicleStates(
  db: pg.Pool | pg.PoolClient,
  limit: number,
  scope: { tenantId: string | null; vehicleId?: string | null } = { tenantId: null },
): Promise<VehicleState[]> {
  const { rows } = await db.query<Row>(
    `SELECT l.vehicle_id, v.tenant_id, l.ts, l.lat, l.lon, l.speed_kmh, l.rpm, l.fuel_level_pct,
            l.coolant_c, v.online, l.received_at
       FROM vehicle_latest l
       JOIN vehicles v ON v.id = l.vehicle_id
      WHERE ($2::text IS NULL OR v.tenant_id = $2) AND ($3::text IS NULL OR l.vehicle_id = $3)
      ORDER BY l.vehicle_id
      LIMIT $1`,
    [limit, scope.tenantId, scope.vehicleId ?? null],
  );
  return rows.map((r) => ({
    vehicleId: r.vehicle_id,
    tenantId: r.tenant_id,
    ts: r.ts.getTime(),
    lat: r.lat,
    lon: r.lon,
    speedKmh: r.speed_kmh,
    rpm: r.rpm,
    fuelLevelPct: r.fuel_level_pct,
    coolantC: r.coolant_c,
    online: r.online,
    receivedAt: r.received_at.getTime(),
  }));
}
