/**
 * Baseline (d): GpsGate's fuel-level events: the mean of 4 readings is compared with the mean of
 * the next 4; a fall of at least the threshold (GpsGate's default: 3 L) is a drain, a rise a
 * refill. After an event the 8-reading window starts empty again, so one theft raises one event.
 *
 * The threshold is set per vehicle to `thresholdFraction` of the tank (default 4 %, like the
 * Traccar baseline; 3 L would be 7.5 % of a 40 L tank and under one 1/255 step of slosh on a
 * 400 L one), in litres through the calibration table. Only samples with a fuel level count.
 */
import type { DriveSample } from '../../../edge-agent/src/fuel/drive-log.ts';
import type { VehicleEvent } from '../../../shared/src/events.ts';
import { type BenchDetector, EventFactory, litresFromReading, type RunContext } from '../detector.ts';

const HALF = 4;

export function gpsGateDetector(thresholdFraction = 0.04): BenchDetector {
  return {
    name: 'GpsGate',
    open(ctx: RunContext) {
      const litres = litresFromReading(ctx.calibration);
      const threshold = thresholdFraction * ctx.tankLitres;
      const events = new EventFactory();
      const window: { ts: number; litres: number }[] = [];
      return {
        push(s: DriveSample): VehicleEvent[] {
          if (s.fuelLevelPct === null) return [];
          window.push({ ts: s.ts, litres: litres(s.fuelLevelPct) });
          if (window.length > 2 * HALF) window.shift();
          if (window.length < 2 * HALF) return [];
          let before = 0;
          let after = 0;
          for (let i = 0; i < HALF; i++) {
            before += window[i]!.litres / HALF;
            after += window[HALF + i]!.litres / HALF;
          }
          const change = after - before;
          if (Math.abs(change) < threshold) return [];
          const start = window[HALF - 1]!.ts;
          window.length = 0;
          const details = { meanBefore: before, meanAfter: after, threshold };
          return [
            events.make(change < 0 ? 'fuel_drain' : 'refuel', start, s.ts, s, details, Math.abs(change)),
          ];
        },
        flush: () => [],
      };
    },
  };
}
