import type pg from 'pg';

export const GROUP_KINDS = ['depot', 'class', 'other'] as const;
export type GroupKind = (typeof GROUP_KINDS)[number];

export interface VehicleGroup {
  id: number;
  name: string;
  kind: GroupKind;
  /** Vehicles in service in it. */
  vehicles: number;
  /** Drivers who may check in to its vehicles. */
  drivers: number;
}

/** The tenant's groups by name (a tenant has tens, not thousands: no pages). */
export async function listVehicleGroups(db: pg.PoolClient, tenantId: string): Promise<VehicleGroup[]> {
  const { rows } = await db.query<{
    id: string;
    name: string;
    kind: GroupKind;
    vehicles: number;
    drivers: number;
  }>(
    `SELECT g.id, g.name, g.kind,
            (SELECT count(*)::int FROM vehicles v WHERE v.group_id = g.id AND v.retired_at IS NULL) AS vehicles,
            (SELECT count(*)::int FROM driver_groups d WHERE d.group_id = g.id) AS drivers
       FROM vehicle_groups g
      WHERE g.tenant_id = $1
      ORDER BY g.name, g.id`,
    [tenantId],
  );
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}
