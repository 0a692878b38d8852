/**
 * What a vehicle of the register is made of, checked once for every way in: the dashboard's form
 * (registry.create / registry.update) and the CSV import (register/vehicle-csv.ts). A refused
 * value names its field (zod path), and a calibration table its row, so the form can put the
 * message beside the input that holds it.
 */
import { CALIBRATION_MAX_POINTS, calibrationProblems, ID_PATTERN } from '@fleet/shared';
import { z } from 'zod';

export const VEHICLE_FUEL_TYPES = ['diesel', 'petrol', 'lpg', 'cng', 'electric', 'hybrid'] as const;

/** ISO 3779: 17 characters of A-Z and 0-9 without I, O and Q (no check digit: Europe has none). */
export const VIN_PATTERN = /^[A-HJ-NPR-Z0-9]{17}$/;

export const CalibrationTable = z
  .array(z.object({ pct: z.number().min(0).max(100), litres: z.number().min(0).max(10_000) }))
  .min(2)
  .max(CALIBRATION_MAX_POINTS);

export const VehicleFields = z
  .object({
    plate: z.string().trim().toUpperCase().min(1).max(20).nullable(),
    vin: z
      .string()
      .trim()
      .toUpperCase()
      .regex(VIN_PATTERN, 'a VIN is 17 letters and digits, without I, O or Q')
      .nullable(),
    make: z.string().trim().min(1).max(60).nullable(),
    model: z.string().trim().min(1).max(60).nullable(),
    year: z.number().int().min(1900).max(2100).nullable(),
    fuelType: z.enum(VEHICLE_FUEL_TYPES).nullable(),
    vehicleClass: z.string().trim().min(1).max(60).nullable(),
    tankLitres: z.number().gt(0).max(10_000).nullable(),
    calibration: CalibrationTable.nullable(),
    odometerOffsetKm: z.number().min(-10_000_000).max(10_000_000),
    groupId: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).nullable(),
    costCentre: z.string().trim().min(1).max(60).nullable(),
    monthlyFuelBudget: z.number().min(0).max(1e10).nullable(),
  })
  .partial();
export type VehicleFields = z.infer<typeof VehicleFields>;

/**
 * The calibration table's own rules (shared/src/tank-calibration.ts), as zod issues on
 * `calibration.<row>.<pct|litres>`: the field error that names the row.
 */
export function checkCalibration(v: VehicleFields, ctx: z.RefinementCtx): void {
  if (!v.calibration) return;
  for (const p of calibrationProblems(v.calibration, v.tankLitres ?? null))
    ctx.addIssue({ code: 'custom', message: p.message, path: ['calibration', p.row, p.field] });
}

export const NewVehicle = VehicleFields.extend({
  /** The id the vehicle's agent logs in with (MQTT username, topic); generated when omitted. */
  id: z.string().regex(ID_PATTERN).optional(),
}).superRefine((v, ctx) => {
  if (!v.plate && !v.vin)
    ctx.addIssue({ code: 'custom', message: 'a vehicle needs a plate or a VIN', path: ['plate'] });
  checkCalibration(v, ctx);
});
export type NewVehicle = z.infer<typeof NewVehicle>;

/** The columns each field is stored in (migration 000013). */
export const VEHICLE_COLUMNS: Record<keyof VehicleFields, string> = {
  plate: 'plate',
  vin: 'vin',
  make: 'make',
  model: 'model',
  year: 'model_year',
  fuelType: 'fuel_type',
  vehicleClass: 'vehicle_class',
  tankLitres: 'tank_litres',
  calibration: 'tank_calibration',
  odometerOffsetKm: 'odometer_offset_km',
  groupId: 'group_id',
  costCentre: 'cost_centre',
  monthlyFuelBudget: 'monthly_fuel_budget',
};
