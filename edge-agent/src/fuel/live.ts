/**
 * The detectors on the running agent: every recorded sample goes through the same pipeline that
 * `fleet-agent replay` runs, and every event it decides is stored at once (EventOutbox: the row id
 * becomes the event id), from where the broker link's events lane sends it to the cloud.
 *
 *   SampleRecorder (recorder.ts) --DriveSample--> LiveDetectors --> pipeline --> EventOutbox (SQLite)
 *
 * The live sample carries what the agent polls today (speed, rpm, fuel level, coolant, position,
 * the poller's fuel rate, ignition from the OBD link's state); columns it lacks (MAF, IMU) are
 * null and the detectors fall back (harsh events from the speed's derivative).
 * A detector fault is logged and counted, never allowed to stop sample recording.
 */
import type { VehicleEvent } from '@fleet/shared';
import type { Logger } from '@fleet/shared/log';
import {
  createDetectorPipeline,
  type Detector,
  type DetectorConfig,
  type DetectorPipeline,
} from '../detectors/index.ts';
import type { EventOutbox } from '../store/event-outbox.ts';
import type { DriveSample } from './drive-log.ts';

export class LiveDetectors {
  private readonly pipeline: DetectorPipeline;
  readonly stats = { samples: 0, events: 0, failures: 0 };

  constructor(
    private readonly outbox: EventOutbox,
    config: DetectorConfig,
    private readonly log: Logger,
    extraDetectors: Detector[] = [],
    /** The active model's version, stamped on every event (AgentModels.activeModelVersion). */
    modelVersion?: () => string | null,
  ) {
    this.pipeline = createDetectorPipeline(config, { extraDetectors, modelVersion });
  }

  /** One recorded sample; returns the events it completed (already stored, with their ids). */
  push(sample: DriveSample): VehicleEvent[] {
    this.stats.samples++;
    try {
      return this.store_(this.pipeline.push(sample));
    } catch (err) {
      this.stats.failures++;
      this.log.error({ err: (err as Error).message, ts: sample.ts }, 'detectors failed on a sample');
      return [];
    }
  }

  /** At shutdown: close what is open (an idle still going) and store it. */
  stop(): VehicleEvent[] {
    return this.store_(this.pipeline.flush());
  }

  // The pipeline numbers events from 1 for a replay; on the vehicle the events row id is the id.
  private store_(events: VehicleEvent[]): VehicleEvent[] {
    const stored: VehicleEvent[] = [];
    for (const { id: _replayId, ...e } of events) {
      const saved = this.outbox.record(e);
      stored.push(saved);
      this.stats.events++;
      this.log.info(
        { id: saved.id, type: saved.type, volumeL: saved.volumeL, start: saved.start },
        'event detected',
      );
    }
    return stored;
  }
}
