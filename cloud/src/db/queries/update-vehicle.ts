import type pg from 'pg';
import { VEHICLE_COLUMNS, type VehicleFields } from '../../register/vehicle-fields.ts';

/**
 * Changes the given fields of one vehicle of the tenant (a field left out stays as it is, a null
 * clears it); `retired` sets or clears the retirement. Returns false when there is no such vehicle.
 */
export async function updateVehicle(
  db: pg.PoolClient,
  tenantId: string,
  vehicleId: string,
  change: VehicleFields & { retired?: boolean },
): Promise<boolean> {
  const sets: string[] = [];
  const values: unknown[] = [vehicleId, tenantId];
  for (const [field, column] of Object.entries(VEHICLE_COLUMNS) as [keyof VehicleFields, string][]) {
    if (!(field in change) || change[field] === undefined) continue;
    const value = change[field];
    values.push(field === 'calibration' && value !== null ? JSON.stringify(value) : value);
    sets.push(`${column} = $${values.length}`);
  }
  if (change.retired !== undefined) sets.push(change.retired ? 'retired_at = now()' : 'retired_at = NULL');
  if (sets.length === 0) {
    const { rowCount } = await db.query('SELECT 1 FROM vehicles WHERE id = $1 AND tenant_id = $2', values);
    return rowCount === 1;
  }
  const { rowCount } = await db.query(
    `UPDATE vehicles SET ${sets.join(', ')} WHERE id = $1 AND tenant_id = $2`,
    values,
  );
  return rowCount === 1;
}
