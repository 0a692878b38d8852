import type pg from 'pg';
import type { NewVehicle } from '../../register/vehicle-fields.ts';

export type VehicleToInsert = NewVehicle & { id: string };

/**
 * Adds vehicles to the tenant's register in one statement (the form adds one, the CSV import a
 * batch); returns the ids stored. A vehicle id taken already (by any tenant: it is the agent's
 * broker login) is skipped, not an error: the caller reports what did not come back.
 */
export async function insertVehicles(
  db: pg.PoolClient,
  tenantId: string,
  vehicles: readonly VehicleToInsert[],
): Promise<Set<string>> {
  if (vehicles.length === 0) return new Set();
  const col = <T>(f: (v: VehicleToInsert) => T) => vehicles.map(f);
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO vehicles (id, tenant_id, plate, vin, make, model, model_year, fuel_type, vehicle_class,
                           tank_litres, tank_calibration, odometer_offset_km, group_id, cost_centre,
                           monthly_fuel_budget)
     SELECT id, $1, plate, vin, make, model, yr, fuel, cls, tank, cal, odo, grp, cc, budget
       FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::smallint[], $8::text[],
                   $9::text[], $10::real[], $11::jsonb[], $12::float8[], $13::bigint[], $14::text[],
                   $15::numeric[])
            AS x(id, plate, vin, make, model, yr, fuel, cls, tank, cal, odo, grp, cc, budget)
     ON CONFLICT (id) DO NOTHING
     RETURNING id`,
    [
      tenantId,
      col((v) => v.id),
      col((v) => v.plate ?? null),
      col((v) => v.vin ?? null),
      col((v) => v.make ?? null),
      col((v) => v.model ?? null),
      col((v) => v.year ?? null),
      col((v) => v.fuelType ?? null),
      col((v) => v.vehicleClass ?? null),
      col((v) => v.tankLitres ?? null),
      col((v) => (v.calibration ? JSON.stringify(v.calibration) : null)),
      col((v) => v.odometerOffsetKm ?? 0),
      col((v) => v.groupId ?? null),
      col((v) => v.costCentre ?? null),
      col((v) => v.monthlyFuelBudget ?? null),
    ],
  );
  return new Set(rows.map((r) => r.id));
}
