import type { VehicleEvent } from '@fleet/shared';
import type { DriveSample } from '../fuel/drive-log.ts';
import { type DetectedEvent, type Detector, type DetectorConfig, resolveConfig } from './detector.ts';
import { FuelLevelDetector } from './fuel/fuel-level.ts';
import { HarshDetector } from './harsh.ts';
import { IdleDetector } from './idle.ts';
import { SpeedingDetector } from './speeding.ts';
import { ModeTracker } from './vehicle-mode.ts';

/**
 * The on-vehicle detector pipeline: the one code path the live agent runs on its samples and
 * `fleet-agent replay` runs on a recorded log, so a disputed alarm can be re-checked exactly.
 *
 * Samples go in one at a time, in time order; events come out as soon as they are decided
 * (an event's end must be known, so most come a few seconds to a minute after it ended, by
 * sample time; nothing waits for flush() except what is still open when the log ends).
 */

export interface DetectorPipeline {
  push(s: DriveSample): VehicleEvent[];
  flush(): VehicleEvent[];
  /** Samples pushed, and those dropped for going back in time. */
  readonly stats: { samples: number; outOfOrder: number };
}

export interface PipelineOptions {
  /** More detectors run after the rules on every sample (the engine-anomaly model). */
  extraDetectors?: Detector[];
  /** First id to give (default 1); the live agent numbers through its EventStore instead. */
  firstId?: number;
  /** The active model's version (ModelService.activeModelVersion), stamped on events the rules decided. */
  modelVersion?: () => string | null;
}

/** Builds the rule detectors and runs them (plus any extra ones) on each sample. */
export function createDetectorPipeline(
  config: DetectorConfig,
  options: PipelineOptions = {},
): DetectorPipeline {
  const cfg = resolveConfig(config);
  const mode = new ModeTracker();
  const detectors: Detector[] = [
    new FuelLevelDetector(cfg, mode),
    new IdleDetector(cfg, mode),
    new HarshDetector(cfg),
    new SpeedingDetector(cfg),
    ...(options.extraDetectors ?? []),
  ];
  let nextId = options.firstId ?? 1;
  let lastTs = Number.NEGATIVE_INFINITY;
  const stats = { samples: 0, outOfOrder: 0 };
  const number = (events: DetectedEvent[]): VehicleEvent[] =>
    events
      .sort((a, b) => a.start - b.start)
      .map((e) => ({ id: nextId++, ...e, modelVersion: e.modelVersion ?? options.modelVersion?.() ?? null }));
  return {
    stats,
    push(s) {
      // A sample older than the last one (a clock step back) would corrupt every window.
      if (!(s.ts > lastTs)) {
        stats.outOfOrder++;
        return [];
      }
      lastTs = s.ts;
      stats.samples++;
      mode.update(s);
      const found: DetectedEvent[] = [];
      for (const d of detectors) found.push(...d.push(s));
      return found.length ? number(found) : [];
    },
    flush() {
      const found: DetectedEvent[] = [];
      for (const d of detectors) found.push(...d.flush());
      return found.length ? number(found) : [];
    },
  };
}

/** Runs a whole recorded log through the pipeline: what `fleet-agent replay` prints. */
export function runDetectors(
  samples: Iterable<DriveSample>,
  config: DetectorConfig,
  options?: PipelineOptions,
): VehicleEvent[] {
  const p = createDetectorPipeline(config, options);
  const out: VehicleEvent[] = [];
  for (const s of samples) out.push(...p.push(s));
  out.push(...p.flush());
  return out;
}
