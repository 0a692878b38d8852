import type pg from 'pg';

/**
 * Ends, now, the current assignment of a vehicle and/or of a driver (handing a vehicle over, a
 * driver moving to another one, a retirement). Only periods that began before now are closed: a
 * period is never cut before its start, and history before now stays as it was. Returns what it
 * closed.
 */
export async function closeCurrentAssignments(
  db: pg.PoolClient,
  q: { tenantId: string; vehicleId?: string | null; userId?: string | null },
): Promise<{ id: number; vehicleId: string; userId: string }[]> {
  const { rows } = await db.query<{ id: string; vehicle_id: string; user_id: string }>(
    `UPDATE vehicle_assignments SET ends_at = now()
      WHERE tenant_id = $1 AND ends_at IS NULL AND starts_at < now()
        AND (vehicle_id = $2 OR user_id = $3)
      RETURNING id, vehicle_id, user_id`,
    [q.tenantId, q.vehicleId ?? null, q.userId ?? null],
  );
  return rows.map((r) => ({ id: Number(r.id), vehicleId: r.vehicle_id, userId: r.user_id }));
}
