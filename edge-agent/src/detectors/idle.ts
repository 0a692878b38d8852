import type { DriveSample } from '../fuel/drive-log.ts';
import { engineFuelLph } from '../fuel/engine-fuel.ts';
import type { DetectedEvent, Detector, ResolvedDetectorConfig } from './detector.ts';
import { Episode } from './episode.ts';
import { drivingEvent, round } from './event.ts';
import type { ModeTracker } from './vehicle-mode.ts';

/** Idle samples further apart than this are two idles (the log stopped in between). */
const MAX_IDLE_GAP_MS = 60_000;

/** Engine running at a standstill for longer than `idleThresholdS`. */
export class IdleDetector implements Detector {
  private readonly idle: Episode<{ fuelL: number }>;

  constructor(
    private readonly cfg: ResolvedDetectorConfig,
    private readonly mode: ModeTracker,
  ) {
    this.idle = new Episode(
      () => cfg.idleThresholdS,
      (e, end, durationS) =>
        drivingEvent(cfg, 'long_idle', e.start, end, e.lat, e.lon, 0.95, {
          durationS,
          fuelL: round(e.fuelL, 3),
          thresholdS: cfg.idleThresholdS,
        }),
    );
  }

  push(s: DriveSample): DetectedEvent[] {
    const out: DetectedEvent[] = [];
    const open = this.idle.open;
    if (this.mode.mode === 'idle') {
      if (open && s.ts - open.lastTs > MAX_IDLE_GAP_MS) this.idle.close(open.lastTs, out);
      if (!this.idle.open) this.idle.begin({ start: s.ts, lastTs: s.ts, lat: s.lat, lon: s.lon, fuelL: 0 });
      else {
        const lph = engineFuelLph(s, true, false, this.cfg.fuelType, this.cfg.idleLph) ?? this.cfg.idleLph;
        const e = this.idle.open;
        e.fuelL += (lph * (s.ts - e.lastTs)) / 3_600_000;
        e.lastTs = s.ts;
      }
    } else if (open) {
      this.idle.close(s.ts, out);
    }
    return out;
  }

  flush(): DetectedEvent[] {
    return this.idle.flush();
  }
}
