import type pg from 'pg';

/**
 * Deletes a group: its vehicles stay, without a group (ON DELETE SET NULL), and its drivers lose
 * the right to check in to them (driver_groups cascade). Returns its name, or null if none.
 */
export async function deleteVehicleGroup(
  db: pg.PoolClient,
  tenantId: string,
  groupId: number,
): Promise<string | null> {
  const { rows } = await db.query<{ name: string }>(
    'DELETE FROM vehicle_groups WHERE id = $1 AND tenant_id = $2 RETURNING name',
    [groupId, tenantId],
  );
  return rows[0]?.name ?? null;
}
