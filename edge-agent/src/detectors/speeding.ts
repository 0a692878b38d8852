import type { DriveSample } from '../fuel/drive-log.ts';
import type { DetectedEvent, Detector, ResolvedDetectorConfig } from './detector.ts';
import { Episode, MAX_STEP_S } from './episode.ts';
import { drivingEvent } from './event.ts';

/** Above `speedLimitKmh + speedingMarginKmh` for at least `speedingMinS`. */
export class SpeedingDetector implements Detector {
  private readonly over: Episode<{ max: number; seconds: number }>;

  constructor(private readonly cfg: ResolvedDetectorConfig) {
    this.over = new Episode(
      () => cfg.speedingMinS,
      (e, end, durationS) =>
        drivingEvent(cfg, 'speeding', e.start, end, e.lat, e.lon, 0.9, {
          limitKmh: cfg.speedLimitKmh,
          maxSpeedKmh: e.max,
          durationS,
        }),
    );
  }

  push(s: DriveSample): DetectedEvent[] {
    const out: DetectedEvent[] = [];
    const limit = this.cfg.speedLimitKmh;
    if (limit === null || s.speedKmh === null) return out;
    const open = this.over.open;
    if (open && s.ts - open.lastTs > MAX_STEP_S * 1000) this.over.close(open.lastTs, out);
    if (s.speedKmh > limit + this.cfg.speedingMarginKmh) {
      const e =
        this.over.open ??
        this.over.begin({ start: s.ts, lastTs: s.ts, lat: s.lat, lon: s.lon, max: s.speedKmh, seconds: 0 });
      e.seconds += (s.ts - e.lastTs) / 1000;
      e.lastTs = s.ts;
      e.max = Math.max(e.max, s.speedKmh);
    } else if (this.over.open) {
      this.over.close(s.ts, out);
    }
    return out;
  }

  flush(): DetectedEvent[] {
    return this.over.flush();
  }
}
