/**
 * The stored fuel purchases and daily distances → the carbon report (carbon-report.ts), as the
 * tenant. Fuel used is what was bought (fuel_transactions, by vehicle); distance is the odometer's
 * where the vehicle reports one, else the filtered GPS distance (vehicle_day_distance).
 */
import type pg from 'pg';
import {
  type CarbonActivity,
  type CarbonReport,
  computeCarbonReport,
  datasetFuel,
  epaVehicleType,
} from './carbon-report.ts';
import { DEFAULT_EMISSION_DATASET, loadEmissionDataset } from './emission-factors.ts';

type Db = Pick<pg.PoolClient, 'query'>;

export async function loadCarbonReport(
  db: Db,
  tenantId: string,
  range: { from: number; to: number },
  options: { dataset?: string; gwp?: string } = {},
): Promise<CarbonReport> {
  const dataset = loadEmissionDataset(options.dataset ?? DEFAULT_EMISSION_DATASET);
  const { rows: vehicles } = await db.query<{
    id: string;
    group_name: string | null;
    model_year: number | null;
    vehicle_class: string | null;
    fuel_type: string | null;
  }>(
    `SELECT v.id, g.name AS group_name, v.model_year, v.vehicle_class, v.fuel_type
       FROM vehicles v LEFT JOIN vehicle_groups g ON g.id = v.group_id WHERE v.tenant_id = $1`,
    [tenantId],
  );
  const fuelOf = new Map(vehicles.map((v) => [v.id, datasetFuel(v.fuel_type)]));
  const { rows: fuel } = await db.query<{
    vehicle_id: string;
    month: string;
    fuel_type: string | null;
    litres: number;
  }>(
    `SELECT vehicle_id, to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM') AS month, fuel_type, sum(litres)::float8 AS litres
       FROM fuel_transactions WHERE tenant_id = $1 AND vehicle_id IS NOT NULL AND ts >= $2 AND ts < $3
      GROUP BY 1, 2, 3`,
    [tenantId, new Date(range.from), new Date(range.to)],
  );
  const { rows: distance } = await db.query<{ vehicle_id: string; month: string; metres: number }>(
    `SELECT vehicle_id, to_char(day, 'YYYY-MM') AS month,
            sum(CASE WHEN odometer_end_km >= odometer_start_km THEN (odometer_end_km - odometer_start_km) * 1000 ELSE gps_m END)::float8 AS metres
       FROM vehicle_day_distance WHERE tenant_id = $1 AND day >= $2::date AND day < $3::date
      GROUP BY 1, 2`,
    [
      tenantId,
      new Date(range.from).toISOString().slice(0, 10),
      new Date(range.to).toISOString().slice(0, 10),
    ],
  );
  const activity = new Map<
    string,
    { vehicleId: string; month: string; litres: Map<string, number>; metres: number }
  >();
  const entry = (vehicleId: string, month: string) => {
    const key = `${vehicleId}\u0000${month}`;
    let a = activity.get(key);
    if (!a) {
      a = { vehicleId, month, litres: new Map(), metres: 0 };
      activity.set(key, a);
    }
    return a;
  };
  for (const f of fuel) {
    const a = entry(f.vehicle_id, f.month);
    const name = datasetFuel(f.fuel_type) ?? fuelOf.get(f.vehicle_id) ?? 'unknown';
    a.litres.set(name, (a.litres.get(name) ?? 0) + f.litres);
  }
  for (const d of distance) entry(d.vehicle_id, d.month).metres += d.metres;
  return computeCarbonReport(
    dataset,
    vehicles.map((v) => ({
      vehicleId: v.id,
      group: v.group_name,
      modelYear: v.model_year,
      vehicleType: epaVehicleType(v.vehicle_class),
      fuel: datasetFuel(v.fuel_type),
    })),
    [...activity.values()] satisfies CarbonActivity[],
    options.gwp,
  );
}
