/**
 * Baseline (c): Traccar's fuel events (FuelEventHandler, formerly FuelDropEventHandler): the
 * level of a position is compared with the device's previous position; a drop of at least
 * `fuelDropThreshold` raises a fuel-drop event, a rise of at least `fuelIncreaseThreshold` a
 * fuel-increase event. No filtering, no vehicle state.
 *
 * Two choices made for it here, both in its favour:
 * - "previous position" is the previous sample that had a fuel level. With the ignition off the
 *   ECU is silent, so a Traccar device whose positions then carry no fuel attribute would never
 *   compare across a parked theft; we assume the tracker sends fuel only when it has it.
 * - Both thresholds are set per vehicle to `thresholdFraction` of the tank (default 4 %, just
 *   under the 5 % the theft target starts at), in litres through the calibration table,
 *   as a fleet admin would configure them; Traccar's own default (0) disables the events.
 */
import type { DriveSample } from '../../../edge-agent/src/fuel/drive-log.ts';
import type { VehicleEvent } from '../../../shared/src/events.ts';
import { type BenchDetector, EventFactory, litresFromReading, type RunContext } from '../detector.ts';

export function traccarDetector(thresholdFraction = 0.04): BenchDetector {
  return {
    name: 'Traccar',
    open(ctx: RunContext) {
      const litres = litresFromReading(ctx.calibration);
      const threshold = thresholdFraction * ctx.tankLitres;
      const events = new EventFactory();
      let last: { ts: number; litres: number } | null = null;
      return {
        push(s: DriveSample): VehicleEvent[] {
          if (s.fuelLevelPct === null) return [];
          const now = litres(s.fuelLevelPct);
          const before = last;
          last = { ts: s.ts, litres: now };
          if (!before) return [];
          const change = now - before.litres;
          const details = { before: before.litres, after: now, threshold };
          if (change < 0 && -change >= threshold) {
            return [events.make('fuel_drain', before.ts, s.ts, s, details, -change)];
          }
          if (change > 0 && change >= threshold) {
            return [events.make('refuel', before.ts, s.ts, s, details, change)];
          }
          return [];
        },
        flush: () => [],
      };
    },
  };
}
