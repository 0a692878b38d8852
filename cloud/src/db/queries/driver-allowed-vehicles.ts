import type pg from 'pg';

export interface AllowedVehicle {
  id: string;
  plate: string | null;
  make: string | null;
  model: string | null;
  groupName: string | null;
  /** Someone else drives it now (checking in takes it over). */
  takenBy: string | null;
  /** The driver asking is assigned to it now. */
  mine: boolean;
}

/**
 * The vehicles a driver may check in to: those in service in the groups they belong to
 * (driver_groups), plus the one they are assigned to now. One rule on purpose: a dispatcher
 * manages groups, not per-driver vehicle lists.
 */
export async function driverAllowedVehicles(
  db: pg.PoolClient,
  tenantId: string,
  userId: string,
): Promise<AllowedVehicle[]> {
  const { rows } = await db.query<{
    id: string;
    plate: string | null;
    make: string | null;
    model: string | null;
    group_name: string | null;
    taken_by: string | null;
    mine: boolean;
  }>(
    `SELECT v.id, v.plate, v.make, v.model, g.name AS group_name,
            CASE WHEN a.user_id <> $2 THEN u.name END AS taken_by, coalesce(a.user_id = $2, false) AS mine
       FROM vehicles v
       LEFT JOIN vehicle_groups g ON g.id = v.group_id
       LEFT JOIN vehicle_assignments a ON a.vehicle_id = v.id AND a.ends_at IS NULL AND a.starts_at <= now()
       LEFT JOIN users u ON u.id = a.user_id
      WHERE v.tenant_id = $1 AND v.retired_at IS NULL
        AND (EXISTS (SELECT 1 FROM driver_groups d WHERE d.user_id = $2 AND d.group_id = v.group_id)
             OR a.user_id = $2)
      ORDER BY coalesce(v.plate, v.id), v.id`,
    [tenantId, userId],
  );
  return rows.map((r) => ({
    id: r.id,
    plate: r.plate,
    make: r.make,
    model: r.model,
    groupName: r.group_name,
    takenBy: r.taken_by,
    mine: r.mine,
  }));
}
