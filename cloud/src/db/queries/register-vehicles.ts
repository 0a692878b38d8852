import type pg from 'pg';

/**
 * Bulk form of registerVehicle for a group commit: makes sure every (tenant, vehicle) exists,
 * the first claim of an unknown vehicle id winning, and returns each vehicle's owning tenant.
 * Ids are inserted in sorted order so concurrent ingest processes lock in the same order.
 */
export async function registerVehicles(
  db: pg.PoolClient,
  claims: readonly { tenantId: string; vehicleId: string }[],
): Promise<Map<string, string>> {
  const tenants = [...new Set(claims.map((c) => c.tenantId))].sort();
  await db.query(
    `INSERT INTO tenants (id, name) SELECT t, t FROM unnest($1::text[]) AS t ORDER BY t
     ON CONFLICT (id) DO NOTHING`,
    [tenants],
  );
  const { rows } = await db.query<{ id: string; tenant_id: string }>(
    `WITH c AS (
       SELECT DISTINCT ON (id) id, tenant_id
         FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS c(id, tenant_id, ord)
        ORDER BY id, ord),
     ins AS (
       INSERT INTO vehicles (id, tenant_id) SELECT id, tenant_id FROM c ORDER BY id
       ON CONFLICT (id) DO NOTHING RETURNING id, tenant_id)
     SELECT id, tenant_id FROM ins
     UNION ALL
     SELECT v.id, v.tenant_id FROM vehicles v JOIN c USING (id)`,
    [claims.map((c) => c.vehicleId), claims.map((c) => c.tenantId)],
  );
  const owners = new Map(rows.map((r) => [r.id, r.tenant_id]));
  // A vehicle registered by a concurrent transaction is invisible to the statement above: its
  // INSERT waited for that transaction and did nothing, but the SELECT arm still read the
  // statement's snapshot from before. A new statement sees the committed row.
  const missing = [...new Set(claims.map((c) => c.vehicleId))].filter((id) => !owners.has(id));
  if (missing.length > 0) {
    for (const [id, tenant] of await findVehicleTenants(db, missing)) owners.set(id, tenant);
  }
  return owners;
}

/** Owners of the vehicles that exist (no registration). */
export async function findVehicleTenants(
  db: pg.PoolClient,
  vehicleIds: readonly string[],
): Promise<Map<string, string>> {
  const { rows } = await db.query<{ id: string; tenant_id: string }>(
    'SELECT id, tenant_id FROM vehicles WHERE id = ANY($1::text[])',
    [[...new Set(vehicleIds)]],
  );
  return new Map(rows.map((r) => [r.id, r.tenant_id]));
}
