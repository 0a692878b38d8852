import type pg from 'pg';

/**
 * The ids of the named groups, creating the missing ones (kind depot): a spreadsheet names depots,
 * and importing it twice finds the groups the first import made. Keys are the names as given.
 */
export async function ensureVehicleGroups(
  db: pg.PoolClient,
  tenantId: string,
  names: readonly string[],
): Promise<Map<string, number>> {
  const unique = [...new Set(names)];
  if (unique.length === 0) return new Map();
  await db.query(
    `INSERT INTO vehicle_groups (tenant_id, name) SELECT $1, n FROM unnest($2::text[]) AS n
     ON CONFLICT (tenant_id, name) DO NOTHING`,
    [tenantId, unique],
  );
  const { rows } = await db.query<{ id: string; name: string }>(
    'SELECT id, name FROM vehicle_groups WHERE tenant_id = $1 AND name = ANY ($2)',
    [tenantId, unique],
  );
  return new Map(rows.map((r) => [r.name, Number(r.id)]));
}
