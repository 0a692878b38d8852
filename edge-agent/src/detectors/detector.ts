import type { VehicleEvent } from '@fleet/shared';
import type { DriveSample } from '../fuel/drive-log.ts';
import type { FuelType } from '../fuel/engine-fuel.ts';

/**
 * What every on-vehicle detector is: samples in, in time order; events out when decided. The
 * rule detectors share one configuration (the vehicle's tank, the fleet's driving rules).
 */

export interface DetectorConfig {
  /** Tank capacity, litres. */
  tankLitres: number;
  /** Non-linear tank: [readingPct, litres] pairs (the sender's travel -> volume). */
  calibration?: [number, number][];
  /** Speeding rule; no speeding events without it. */
  speedLimitKmh?: number;
  /** Over the limit by more than this counts (default 10 km/h). */
  speedingMarginKmh?: number;
  /** ...for at least this long (default 15 s). */
  speedingMinS?: number;
  /** Judge drains in motion too (off by default: slosh is the field's first cause of false drains). */
  detectDrainInMotion?: boolean;
  /** Idling longer than this is a long_idle (default 300 s). */
  idleThresholdS?: number;
  /** Idle consumption when the ECU gives neither fuel rate nor MAF (default 0.8 L/h). */
  idleLph?: number;
  /** For MAF -> L/h (default petrol). */
  fuelType?: FuelType;
  /** Smallest drain reported, % of the tank, judged on quiet readings at both ends (default 2). */
  minDrainPct?: number;
  /** ...when one end is a long median taken in motion (default 2.5). */
  minDrainPctMotion?: number;
  /** Smallest refuel reported, % of the tank (default 5). */
  minRefuelPct?: number;
  /** A drain or refuel seen in the readings ends once the level is steady this long (default 30 s). */
  stableS?: number;
  /** Slow leak: unexplained loss at least this fast (default 0.15 L/h)... */
  leakMinLph?: number;
  /** ...and at least this much in total (default 0.8 L or 1 % of the tank, whichever is more). */
  leakMinL?: number;
  harshBrakeG?: number;
  harshAccelG?: number;
  harshCornerG?: number;
  /** Attached to every event (null when unknown). */
  driverId?: string | null;
}

export type ResolvedDetectorConfig = Required<
  Omit<DetectorConfig, 'calibration' | 'speedLimitKmh' | 'driverId'>
> & {
  calibration: [number, number][] | undefined;
  speedLimitKmh: number | null;
  driverId: string | null;
};

export function resolveConfig(c: DetectorConfig): ResolvedDetectorConfig {
  if (!(c.tankLitres > 0 && c.tankLitres <= 10_000)) {
    throw new RangeError(`tankLitres must be within (0, 10000] (got ${c.tankLitres})`);
  }
  return {
    tankLitres: c.tankLitres,
    calibration: c.calibration,
    speedLimitKmh: c.speedLimitKmh ?? null,
    speedingMarginKmh: c.speedingMarginKmh ?? 10,
    speedingMinS: c.speedingMinS ?? 15,
    detectDrainInMotion: c.detectDrainInMotion ?? false,
    idleThresholdS: c.idleThresholdS ?? 300,
    idleLph: c.idleLph ?? 0.8,
    fuelType: c.fuelType ?? 'petrol',
    minDrainPct: c.minDrainPct ?? 2,
    minDrainPctMotion: c.minDrainPctMotion ?? 2.5,
    minRefuelPct: c.minRefuelPct ?? 5,
    stableS: c.stableS ?? 30,
    leakMinLph: c.leakMinLph ?? 0.15,
    leakMinL: c.leakMinL ?? Math.max(0.8, 0.01 * c.tankLitres),
    harshBrakeG: c.harshBrakeG ?? 0.35,
    harshAccelG: c.harshAccelG ?? 0.3,
    harshCornerG: c.harshCornerG ?? 0.5,
    driverId: c.driverId ?? null,
  };
}

/** An event before the store numbers it: the pipeline (or EventStore) assigns `id`. */
export type DetectedEvent = Omit<VehicleEvent, 'id'>;

/** One detector: samples in, in time order; events out when decided. */
export interface Detector {
  push(s: DriveSample): DetectedEvent[];
  /** End of the stream: close whatever is open. */
  flush(): DetectedEvent[];
}
