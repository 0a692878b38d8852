import type pg from 'pg';

export type AssignmentSource = 'admin' | 'check-in' | 'import';

/**
 * Records that a driver drives a vehicle over [from, to) (from null: from now; to null: until
 * further notice). The database refuses a period that overlaps another of the same vehicle or
 * driver (exclusion_violation, 23P01) and a second current one (unique_violation, 23505): callers
 * close the current ones first (close-current-assignments.ts) when the new one starts now.
 */
export async function insertAssignment(
  db: pg.PoolClient,
  a: {
    tenantId: string;
    vehicleId: string;
    userId: string;
    from: number | null;
    to: number | null;
    source: AssignmentSource;
    createdBy: string;
  },
): Promise<number> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO vehicle_assignments (tenant_id, vehicle_id, user_id, starts_at, ends_at, source, created_by)
     VALUES ($1, $2, $3, coalesce(to_timestamp($4 / 1000.0), now()), to_timestamp($5 / 1000.0), $6, $7)
     RETURNING id`,
    [a.tenantId, a.vehicleId, a.userId, a.from, a.to, a.source, a.createdBy],
  );
  return Number(rows[0]!.id);
}
