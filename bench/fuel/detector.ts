/**
 * What the benchmark runs: any detector that takes the drive log one sample at a time and emits
 * VehicleEvents (shared/src/events.ts), ours or a baseline, judged by the same scorer.
 */
import type { DriveSample } from '../../edge-agent/src/fuel/drive-log.ts';
import type { Thresholds } from '../../firmware-sim/src/scenarios/format.ts';
import type { VehicleEvent, VehicleEventType } from '../../shared/src/events.ts';
import type { Detection } from './score.ts';

/** What a fleet platform is told about the vehicle: from the labels file's meta line. */
export interface RunContext {
  vehicleId: string;
  tankLitres: number;
  /** [readingPct, litres] points, ascending: the tank's calibration table. */
  calibration: [number, number][];
  thresholds: Thresholds;
  speedLimitKmh: number;
}

export interface StreamingDetector {
  push(sample: DriveSample): VehicleEvent[];
  /** End of the log: events still open come out here. */
  flush(): VehicleEvent[];
}

export interface BenchDetector {
  /** Column name in the printed table. */
  name: string;
  /**
   * A detector for one vehicle's log. `history` is that whole log, for detectors that must be
   * fitted before they score (the Isolation Forest); streaming ones ignore it.
   */
  open(ctx: RunContext, history: readonly DriveSample[]): StreamingDetector;
}

/** Runs a log through a detector; each event is stamped with the sample that produced it. */
export function detectRun(
  detector: BenchDetector,
  ctx: RunContext,
  samples: readonly DriveSample[],
): { detections: Detection[]; cpuMs: number } {
  const t0 = process.cpuUsage();
  const d = detector.open(ctx, samples);
  const detections: Detection[] = [];
  const take = (events: VehicleEvent[], at: number) => {
    for (const e of events) {
      detections.push({ type: e.type, start: e.start, end: e.end, volumeL: e.volumeL, emittedAt: at });
    }
  };
  for (const s of samples) take(d.push(s), s.ts);
  take(d.flush(), samples.at(-1)?.ts ?? 0);
  const used = process.cpuUsage(t0);
  return { detections, cpuMs: (used.user + used.system) / 1000 };
}

/** Litres for a sender reading through the calibration table (linear interpolation). */
export function litresFromReading(calibration: readonly [number, number][]): (pct: number) => number {
  const xs = calibration.map((p) => p[0]);
  const ys = calibration.map((p) => p[1]);
  const n = xs.length;
  return (pct) => {
    if (pct <= xs[0]!) return ys[0]!;
    if (pct >= xs[n - 1]!) return ys[n - 1]!;
    let lo = 0;
    let hi = n - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (xs[mid]! <= pct) lo = mid;
      else hi = mid;
    }
    return ys[lo]! + ((pct - xs[lo]!) / (xs[hi]! - xs[lo]!)) * (ys[hi]! - ys[lo]!);
  };
}

/** Builds VehicleEvents with increasing ids, as an agent would store them. */
export class EventFactory {
  private nextId = 1;

  make(
    type: VehicleEventType,
    start: number,
    end: number,
    at: DriveSample,
    details: Record<string, unknown>,
    volumeL?: number,
    confidence = 0.5,
  ): VehicleEvent {
    return {
      id: this.nextId++,
      type,
      start,
      end,
      ...(volumeL !== undefined ? { volumeL: Math.min(10_000, Math.max(0, volumeL)) } : {}),
      lat: at.lat,
      lon: at.lon,
      driverId: null,
      confidence,
      modelVersion: null,
      details,
    };
  }
}
