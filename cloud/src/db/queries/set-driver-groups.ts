import type pg from 'pg';

/**
 * Makes a driver's groups exactly `groupIds` (the vehicles they may check in to). Ids that are not
 * the tenant's groups are left out; returns the ids kept.
 */
export async function setDriverGroups(
  db: pg.PoolClient,
  tenantId: string,
  userId: string,
  groupIds: readonly number[],
): Promise<number[]> {
  await db.query('DELETE FROM driver_groups WHERE tenant_id = $1 AND user_id = $2', [tenantId, userId]);
  const { rows } = await db.query<{ group_id: string }>(
    `INSERT INTO driver_groups (tenant_id, user_id, group_id)
     SELECT $1, $2, g.id FROM vehicle_groups g WHERE g.tenant_id = $1 AND g.id = ANY ($3::bigint[])
     RETURNING group_id`,
    [tenantId, userId, groupIds],
  );
  return rows.map((r) => Number(r.group_id)).sort((a, b) => a - b);
}
