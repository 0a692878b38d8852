import type { DriveSample } from './drive-log.ts';

/**
 * What the engine burns, from whatever the ECU offers, in order of trust:
 *   1. PID 5E engine fuel rate (L/h);
 *   2. PID 10 MAF: fuel g/s = air g/s / AFR, litres by the fuel's density (stoichiometric AFR:
 *      petrol 14.7 and 745 g/L as in domain.md; diesel 14.5 and 832 g/L, an upper bound since a
 *      diesel runs lean);
 *   3. at idle, the configured idle consumption (Wialon's "math consumption").
 * null: the engine runs but nothing says how much it burns (driving without 5E or MAF).
 */
export type FuelType = 'petrol' | 'diesel';

const FUEL = {
  petrol: { afr: 14.7, densityGPerL: 745 },
  diesel: { afr: 14.5, densityGPerL: 832 },
} as const;

export function mafToLph(mafGps: number, fuel: FuelType): number {
  const f = FUEL[fuel];
  return (mafGps * 3600) / f.afr / f.densityGPerL;
}

export function engineFuelLph(
  s: DriveSample,
  engineRunning: boolean,
  moving: boolean,
  fuel: FuelType,
  idleLph: number,
): number | null {
  if (s.fuelRateLph !== null) return s.fuelRateLph;
  if (s.mafGps !== null) return mafToLph(s.mafGps, fuel);
  if (!engineRunning) return 0;
  return moving ? null : idleLph;
}
