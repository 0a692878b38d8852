/**
 * Fuel consumption source selection. Many light vehicles expose no fuel rate, so it is derived:
 *
 *   1. PID 5E engine fuel rate, L/h (J1979-DA), when supported: what the ECU itself injects.
 *   2. PID 10 MAF, g/s: fuel mass = air mass / air-fuel ratio; litres = mass / density. The ratio
 *      is the fuel's stoichiometric one (PID 51 fuel type), times the commanded equivalence
 *      ratio (PID 44) when known: diesels and lean-burn engines run far leaner than
 *      stoichiometric, so without 44 a diesel's MAF estimate is an upper bound.
 *   3. Speed-density from MAP (0B), IAT (0F) and RPM (0C): air mass flow of a four-stroke engine
 *      = RPM/120 x displacement x VE x MAP / (R_air x T), then as for MAF. Needs the engine's
 *      displacement and a volumetric efficiency (settings below).
 */
import { FUEL_TYPES } from './pids.ts';

export type FuelRateSource = 'fuel-rate-pid' | 'maf' | 'speed-density';

export interface FuelProperties {
  /** Stoichiometric air-fuel mass ratio. */
  afr: number;
  /** g/L at about 15 °C. */
  densityGPerL: number;
}

/** Gasoline 14.7 : 1 and 745 g/L (the figures domain.md gives: MAF / 14.7 / 745 g/L). */
export const GASOLINE: FuelProperties = { afr: 14.7, densityGPerL: 745 };
/** Diesel (EN 590): 14.5 : 1 and 832 g/L. */
export const DIESEL: FuelProperties = { afr: 14.5, densityGPerL: 832 };
const FUELS: Readonly<Record<string, FuelProperties>> = {
  gasoline: GASOLINE,
  diesel: DIESEL,
  ethanol: { afr: 9.0, densityGPerL: 789 },
  methanol: { afr: 6.4, densityGPerL: 792 },
  // Liquid densities: a consumption in litres of liquid from the tank.
  LPG: { afr: 15.5, densityGPerL: 540 },
  propane: { afr: 15.7, densityGPerL: 493 },
};

/**
 * PID 51 fuel type code -> properties for the MAF/speed-density estimate. Bifuel and hybrid codes
 * map to the fuel burnt; gas engines (CNG) and electric have no litre figure: null.
 */
export function fuelPropertiesFor(fuelTypeCode: number | null): FuelProperties | null {
  if (fuelTypeCode === null || fuelTypeCode === 0) return GASOLINE; // unknown: the common case
  const name = FUEL_TYPES[fuelTypeCode] ?? '';
  for (const [fuel, properties] of Object.entries(FUELS)) {
    if (name.endsWith(fuel)) return properties;
  }
  return null;
}

export interface EngineSettings {
  /** [0.6...16] L, default 2.0: engine displacement, for speed-density only. */
  displacementL: number;
  /** [0.5...1.1], default 0.85: volumetric efficiency of a typical naturally aspirated engine. */
  volumetricEfficiency: number;
}

export const DEFAULT_ENGINE: EngineSettings = { displacementL: 2.0, volumetricEfficiency: 0.85 };

/** J/(kg K): specific gas constant of dry air. */
const R_AIR = 287.05;

/** Picks the best source the vehicle supports, or null when none can be computed. */
export function selectFuelRateSource(supported: ReadonlySet<number>): FuelRateSource | null {
  if (supported.has(0x5e)) return 'fuel-rate-pid';
  if (supported.has(0x10)) return 'maf';
  if (supported.has(0x0b) && supported.has(0x0f) && supported.has(0x0c)) return 'speed-density';
  return null;
}

/** The PIDs each source needs, to poll with the fast group. */
export const FUEL_RATE_PIDS: Readonly<Record<FuelRateSource, readonly number[]>> = {
  'fuel-rate-pid': [0x5e],
  maf: [0x10],
  'speed-density': [0x0b, 0x0f, 0x0c],
};

/** g/s of air -> L/h of fuel. */
export function airToFuelLph(airGs: number, fuel: FuelProperties, lambda = 1): number {
  return (airGs / (fuel.afr * lambda) / fuel.densityGPerL) * 3600;
}

/** Air mass flow of a four-stroke engine, g/s: one intake per cylinder every two turns. */
export function speedDensityAirGs(rpm: number, mapKpa: number, iatC: number, engine: EngineSettings): number {
  const kgPerM3 = (mapKpa * 1000) / (R_AIR * (iatC + 273.15));
  const m3PerS = (rpm / 120) * (engine.displacementL / 1000) * engine.volumetricEfficiency;
  return kgPerM3 * m3PerS * 1000;
}

export interface FuelRateInputs {
  /** 5E, L/h. */
  fuelRateLph?: number | null;
  /** 10, g/s. */
  mafGs?: number | null;
  /** 0B, kPa. */
  mapKpa?: number | null;
  /** 0F, °C. */
  iatC?: number | null;
  /** 0C. */
  rpm?: number | null;
  /** 44, commanded equivalence ratio. */
  lambda?: number | null;
  /** 51 code. */
  fuelType?: number | null;
}

/** L/h from the chosen source, null when an input is missing (not read yet, or not a liquid fuel). */
export function computeFuelRateLph(
  source: FuelRateSource,
  inputs: FuelRateInputs,
  engine: EngineSettings = DEFAULT_ENGINE,
): number | null {
  if (source === 'fuel-rate-pid') return inputs.fuelRateLph ?? null;
  const fuel = fuelPropertiesFor(inputs.fuelType ?? null);
  if (!fuel) return null;
  // A lambda of 0 would be a sensor fault, not infinitely rich.
  const lambda = inputs.lambda && inputs.lambda > 0 ? inputs.lambda : 1;
  if (source === 'maf') return inputs.mafGs == null ? null : airToFuelLph(inputs.mafGs, fuel, lambda);
  const { rpm, mapKpa, iatC } = inputs;
  if (rpm == null || mapKpa == null || iatC == null) return null;
  return airToFuelLph(speedDensityAirGs(rpm, mapKpa, iatC, engine), fuel, lambda);
}
