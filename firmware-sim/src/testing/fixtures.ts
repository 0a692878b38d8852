import type { VehicleState } from '../vehicle/model.ts';

/** Test fixtures shared by the unit tests. */

/** A vehicle frozen in a known state, so encodings can be checked against hand computation. */
export function fixedState(overrides: Partial<VehicleState> = {}): VehicleState {
  return {
    simTimeMs: Date.UTC(2024, 4, 1, 8),
    lat: 48.1391,
    lon: 11.5659,
    altitudeM: 519,
    gradePct: 0,
    speedKmh: 50,
    headingDeg: 90,
    rpm: 1726,
    fuelLevelPct: (128 * 100) / 255,
    fuelLitresTrue: 30,
    fuelC: 20,
    tankLitres: 60,
    coolantC: 90,
    ignition: true,
    engineRunning: true,
    accelMps2: 0,
    lateralAccelMps2: 0,
    gear: 3,
    engineLoadPct: 30,
    throttlePct: 20,
    fuelRateLph: 2.5,
    mafGs: 8.31,
    intakeC: 25,
    ambientC: 20,
    runTimeS: 300,
    batteryV: 14.23,
    odometerKm: 12345.6,
    speedLimitKmh: 50,
    ...overrides,
  };
}

/** Hex bytes of one reply line ("41 0D 32 " or "410D32"), without header or line number. */
export function hexBytes(text: string): number[] {
  const compact = text.replace(/\s+/g, '');
  return (compact.match(/../g) ?? []).map((b) => Number.parseInt(b, 16));
}
