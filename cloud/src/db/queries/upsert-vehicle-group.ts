import type pg from 'pg';
import type { GroupKind } from './list-vehicle-groups.ts';

/**
 * Creates a group, or renames / re-kinds one (`id` given). Returns its id, or null when `id`
 * names no group of the tenant. A name used already is the database's unique violation (23505).
 */
export async function upsertVehicleGroup(
  db: pg.PoolClient,
  tenantId: string,
  g: { id?: number; name?: string; kind?: GroupKind },
): Promise<number | null> {
  if (g.id === undefined) {
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO vehicle_groups (tenant_id, name, kind) VALUES ($1, $2, $3) RETURNING id`,
      [tenantId, g.name, g.kind ?? 'depot'],
    );
    return Number(rows[0]!.id);
  }
  const { rows } = await db.query<{ id: string }>(
    `UPDATE vehicle_groups SET name = coalesce($3, name), kind = coalesce($4, kind)
      WHERE id = $1 AND tenant_id = $2 RETURNING id`,
    [g.id, tenantId, g.name ?? null, g.kind ?? null],
  );
  return rows[0] ? Number(rows[0].id) : null;
}
