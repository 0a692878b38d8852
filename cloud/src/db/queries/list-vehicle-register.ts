import type { CalibrationPoint } from '@fleet/shared';
import type pg from 'pg';
import type { VEHICLE_FUEL_TYPES } from '../../register/vehicle-fields.ts';
import { type VinStatus, vinStatus } from '../../register/vin-check.ts';

type FuelType = (typeof VEHICLE_FUEL_TYPES)[number];

/** One vehicle as the register shows it (the dashboard's admin pages, `fleet-cloud vehicles list`). */
export interface VehicleRecord {
  id: string;
  plate: string | null;
  vin: string | null;
  make: string | null;
  model: string | null;
  year: number | null;
  fuelType: FuelType | null;
  vehicleClass: string | null;
  tankLitres: number | null;
  calibration: CalibrationPoint[] | null;
  odometerOffsetKm: number;
  groupId: number | null;
  groupName: string | null;
  costCentre: string | null;
  monthlyFuelBudget: number | null;
  /** The driver assigned now (vehicle_assignments), if any. */
  driverId: string | null;
  driverName: string | null;
  createdAt: number;
  /** Set: retired (kept with its history, out of the fleet). */
  retiredAt: number | null;
  /** The VIN the vehicle's agent last read from it (agent health), null: never reported. */
  reportedVin: string | null;
  /** `vin` against `reportedVin`: a mismatch is flagged on the register. */
  vinStatus: VinStatus;
}

interface Row {
  id: string;
  plate: string | null;
  vin: string | null;
  make: string | null;
  model: string | null;
  model_year: number | null;
  fuel_type: FuelType | null;
  vehicle_class: string | null;
  tank_litres: number | null;
  tank_calibration: CalibrationPoint[] | null;
  odometer_offset_km: number;
  group_id: string | null;
  group_name: string | null;
  cost_centre: string | null;
  monthly_fuel_budget: string | null;
  driver_id: string | null;
  driver_name: string | null;
  created_at: Date;
  retired_at: Date | null;
  reported_vin: string | null;
}

const toRecord = (r: Row): VehicleRecord => ({
  id: r.id,
  plate: r.plate,
  vin: r.vin,
  make: r.make,
  model: r.model,
  year: r.model_year,
  fuelType: r.fuel_type,
  vehicleClass: r.vehicle_class,
  tankLitres: r.tank_litres,
  calibration: r.tank_calibration,
  odometerOffsetKm: r.odometer_offset_km,
  groupId: r.group_id === null ? null : Number(r.group_id),
  groupName: r.group_name,
  costCentre: r.cost_centre,
  monthlyFuelBudget: r.monthly_fuel_budget === null ? null : Number(r.monthly_fuel_budget),
  driverId: r.driver_id,
  driverName: r.driver_name,
  createdAt: r.created_at.getTime(),
  retiredAt: r.retired_at?.getTime() ?? null,
  reportedVin: r.reported_vin,
  vinStatus: vinStatus(r.vin, r.reported_vin),
});

/**
 * The tenant's vehicles by id after `after`, optionally of one group, one vehicle, or matching a
 * text (id, plate, VIN, make, model); retired ones only when asked.
 */
export async function listVehicleRegister(
  db: pg.PoolClient,
  q: {
    tenantId: string;
    vehicleId?: string | null;
    groupId?: number | null;
    text?: string | null;
    includeRetired?: boolean;
    limit: number;
    after?: string | null;
  },
): Promise<VehicleRecord[]> {
  const { rows } = await db.query<Row>(
    `SELECT v.id, v.plate, v.vin, v.make, v.model, v.model_year, v.fuel_type, v.vehicle_class, v.tank_litres,
            v.tank_calibration, v.odometer_offset_km, v.group_id, g.name AS group_name, v.cost_centre,
            v.monthly_fuel_budget, a.user_id AS driver_id, u.name AS driver_name, v.created_at, v.retired_at,
            h.reported_vin
       FROM vehicles v
       LEFT JOIN vehicle_groups g ON g.id = v.group_id
       LEFT JOIN vehicle_agent_health h ON h.vehicle_id = v.id
       LEFT JOIN vehicle_assignments a ON a.vehicle_id = v.id AND a.ends_at IS NULL AND a.starts_at <= now()
       LEFT JOIN users u ON u.id = a.user_id
      WHERE v.tenant_id = $1
        AND ($2::text IS NULL OR v.id = $2)
        AND ($3::bigint IS NULL OR v.group_id = $3)
        AND ($4::text IS NULL OR concat_ws(' ', v.id, v.plate, v.vin, v.make, v.model) ILIKE '%' || $4 || '%')
        AND ($5 OR v.retired_at IS NULL)
        AND ($6::text IS NULL OR v.id > $6)
      ORDER BY v.id
      LIMIT $7`,
    [
      q.tenantId,
      q.vehicleId ?? null,
      q.groupId ?? null,
      q.text ? q.text.replace(/[\\%_]/g, (c) => `\\${c}`) : null,
      q.includeRetired ?? false,
      q.after ?? null,
      q.limit,
    ],
  );
  return rows.map(toRecord);
}
