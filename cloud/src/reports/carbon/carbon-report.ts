/**
 * Scope 1 mobile combustion (GHG Protocol; ISO 14064-1 category 1), tank-to-wheel: CO2 from the
 * fuel used, CH4 and N2O from the distance driven (they depend on the engine and its exhaust
 * treatment, not on the carbon in the fuel), CO2e with the dataset's GWP set. Per vehicle and
 * month, then per group, per month and for the fleet; each total is summed in micrograms and
 * rounded once (so a total is right to the gram; its rounded parts may add up to a gram off).
 */
import { LITRES_PER_US_GALLON, METRES_PER_MILE } from '../decimal.ts';
import type { EmissionDataset } from './emission-factors.ts';

export interface CarbonVehicle {
  vehicleId: string;
  group: string | null;
  modelYear: number | null;
  /** The dataset's vehicle type (`medium_heavy_duty`, ...), from the register's class. */
  vehicleType: string | null;
  /** The dataset's fuel name (`diesel`, `gasoline`). */
  fuel: string | null;
}

export interface CarbonActivity {
  vehicleId: string;
  /** YYYY-MM (UTC). */
  month: string;
  /** Fuel used (bought), litres per fuel. */
  litres: ReadonlyMap<string, number>;
  /** Distance driven, metres. */
  metres: number;
}

export interface CarbonFigures {
  litres: number;
  miles: number;
  co2G: number;
  ch4Mg: number;
  n2oMg: number;
  co2eG: number;
  /**
   * Emission intensity, grams CO2e per km driven (ISO 14083 reports intensity per distance; per
   * tonne-km needs the payload carried, which the register does not hold), to 0.1 g; null
   * without distance.
   */
  co2eGPerKm: number | null;
}

export interface CarbonRow extends CarbonFigures {
  vehicleId: string;
  group: string | null;
  month: string;
  /** Why CH4/N2O is missing (no factor for this type and model year), or null. */
  missing: string | null;
}

export interface CarbonReport {
  dataset: { id: string; name: string; source: string; gwp: string; gwpValues: { ch4: number; n2o: number } };
  rows: CarbonRow[];
  byVehicle: (CarbonFigures & { vehicleId: string })[];
  byGroup: (CarbonFigures & { group: string | null })[];
  byMonth: (CarbonFigures & { month: string })[];
  total: CarbonFigures;
}

interface Micro {
  litres: number;
  metres: number;
  co2Ug: number;
  ch4Ug: number;
  n2oUg: number;
}

const zero = (): Micro => ({ litres: 0, metres: 0, co2Ug: 0, ch4Ug: 0, n2oUg: 0 });

/** The register's free-text class → the EPA on-road vehicle type (null: not recognised). */
export function epaVehicleType(vehicleClass: string | null): string | null {
  if (!vehicleClass) return null;
  const c = vehicleClass.toLowerCase();
  if (/heavy|medium|hgv|lorry|tractor|semi|class ?[3-8]\b|\b(mhd|hdv)\b|box truck/.test(c))
    return 'medium_heavy_duty';
  if (/light.?(duty )?truck|pickup|van|suv|ldt/.test(c)) return 'light_duty_truck';
  if (/car|sedan|passenger/.test(c)) return 'passenger_car';
  return null;
}

/** The register's fuel names → the dataset's. */
export function datasetFuel(fuelType: string | null): string | null {
  if (!fuelType) return null;
  const f = fuelType.toLowerCase();
  if (f.includes('diesel')) return 'diesel';
  if (/petrol|gasoline|unleaded/.test(f)) return 'gasoline';
  return f;
}

export function computeCarbonReport(
  dataset: EmissionDataset,
  vehicles: readonly CarbonVehicle[],
  activity: readonly CarbonActivity[],
  gwpName: string = dataset.defaultGwp,
): CarbonReport {
  const gwp = dataset.gwpSets[gwpName];
  if (!gwp) throw new RangeError(`dataset ${dataset.id} has no GWP set ${gwpName}`);
  const byId = new Map(vehicles.map((v) => [v.vehicleId, v]));
  const co2e = (m: Micro) => m.co2Ug + m.ch4Ug * gwp.ch4 + m.n2oUg * gwp.n2o;
  const figures = (m: Micro): CarbonFigures => ({
    litres: Math.round(m.litres * 1000) / 1000,
    miles: Math.round((m.metres / METRES_PER_MILE) * 10) / 10,
    co2G: Math.round(m.co2Ug / 1e6),
    ch4Mg: Math.round(m.ch4Ug / 1e3),
    n2oMg: Math.round(m.n2oUg / 1e3),
    co2eG: Math.round(co2e(m) / 1e6),
    // µg / m = mg/km; /100 then round, *0.1: grams per km to 0.1 g.
    co2eGPerKm: m.metres > 0 ? Math.round(co2e(m) / m.metres / 100) / 10 : null,
  });
  const add = (into: Micro, m: Micro) => {
    into.litres += m.litres;
    into.metres += m.metres;
    into.co2Ug += m.co2Ug;
    into.ch4Ug += m.ch4Ug;
    into.n2oUg += m.n2oUg;
  };

  const rows: CarbonRow[] = [];
  const perVehicle = new Map<string, Micro>();
  const perGroup = new Map<string | null, Micro>();
  const perMonth = new Map<string, Micro>();
  const total = zero();
  for (const a of [...activity].sort(
    (x, y) => x.vehicleId.localeCompare(y.vehicleId) || x.month.localeCompare(y.month),
  )) {
    const v = byId.get(a.vehicleId);
    const m = zero();
    let missing: string | null = null;
    for (const [fuel, litres] of a.litres) {
      m.litres += litres;
      const mgPerGallon = dataset.co2MgPerGallon.get(fuel);
      if (mgPerGallon === undefined) missing = `no CO2 factor for fuel ${fuel}`;
      // mg/gal × 1000 = µg/gal; litres → gallons last, so 100 gal of 378.541178 L stays whole.
      else m.co2Ug += Math.round((litres * mgPerGallon * 1000) / LITRES_PER_US_GALLON);
    }
    m.metres = a.metres;
    const f =
      v?.vehicleType && v.fuel && v.modelYear ? dataset.ch4N2o(v.vehicleType, v.fuel, v.modelYear) : null;
    if (f) {
      m.ch4Ug = Math.round((a.metres * f.ch4UgPerMile) / METRES_PER_MILE);
      m.n2oUg = Math.round((a.metres * f.n2oUgPerMile) / METRES_PER_MILE);
    } else if (a.metres > 0)
      missing ??= `no CH4/N2O factor for ${v?.vehicleType ?? 'unknown type'} ${v?.fuel ?? 'unknown fuel'} model year ${v?.modelYear ?? 'unknown'}`;
    rows.push({ vehicleId: a.vehicleId, group: v?.group ?? null, month: a.month, missing, ...figures(m) });
    for (const [map, key] of [
      [perVehicle, a.vehicleId],
      [perGroup, v?.group ?? null],
      [perMonth, a.month],
    ] as const) {
      const into = (map as Map<string | null, Micro>).get(key) ?? zero();
      add(into, m);
      (map as Map<string | null, Micro>).set(key, into);
    }
    add(total, m);
  }
  return {
    dataset: { id: dataset.id, name: dataset.name, source: dataset.source, gwp: gwpName, gwpValues: gwp },
    rows,
    byVehicle: [...perVehicle].map(([vehicleId, m]) => ({ vehicleId, ...figures(m) })),
    byGroup: [...perGroup].map(([group, m]) => ({ group, ...figures(m) })),
    byMonth: [...perMonth]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([month, m]) => ({ month, ...figures(m) })),
    total: figures(total),
  };
}
