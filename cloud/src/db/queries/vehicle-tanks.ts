import type { CalibrationPoint } from '@fleet/shared';
import type pg from 'pg';

/** What turns a vehicle's fuel level % into litres (shared/src/tank-calibration.ts litresAtLevel). */
export interface VehicleTank {
  tankLitres: number | null;
  calibration: CalibrationPoint[] | null;
}

/** The tank capacity and calibration table of the tenant's vehicles (or of those listed). */
export async function loadVehicleTanks(
  db: pg.PoolClient,
  tenantId: string,
  vehicleIds: readonly string[] | null = null,
): Promise<Map<string, VehicleTank>> {
  const { rows } = await db.query<{
    id: string;
    tank_litres: number | null;
    tank_calibration: CalibrationPoint[] | null;
  }>(
    `SELECT id, tank_litres, tank_calibration FROM vehicles
      WHERE tenant_id = $1 AND ($2::text[] IS NULL OR id = ANY ($2))`,
    [tenantId, vehicleIds],
  );
  return new Map(rows.map((r) => [r.id, { tankLitres: r.tank_litres, calibration: r.tank_calibration }]));
}
