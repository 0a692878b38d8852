import type pg from 'pg';

/**
 * Makes sure (tenant, vehicle) exists; returns the tenant that owns the vehicle, which differs
 * from `tenantId` when another tenant already registered that vehicle id.
 */
export async function registerVehicle(
  db: pg.PoolClient,
  tenantId: string,
  vehicleId: string,
): Promise<string> {
  await db.query('INSERT INTO tenants (id, name) VALUES ($1, $1) ON CONFLICT (id) DO NOTHING', [tenantId]);
  const { rows } = await db.query<{ tenant_id: string }>(
    `WITH ins AS (
       INSERT INTO vehicles (id, tenant_id) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING RETURNING tenant_id)
     SELECT tenant_id FROM ins UNION ALL SELECT tenant_id FROM vehicles WHERE id = $1 LIMIT 1`,
    [vehicleId, tenantId],
  );
  return rows[0]?.tenant_id ?? tenantId;
}

export async function findVehicleTenant(db: pg.PoolClient, vehicleId: string): Promise<string | null> {
  const { rows } = await db.query<{ tenant_id: string }>('SELECT tenant_id FROM vehicles WHERE id = $1', [
    vehicleId,
  ]);
  return rows[0]?.tenant_id ?? null;
}
