import type { DetectedEvent } from './detector.ts';

/** Samples further apart than this break a driving episode (harsh: the speed derivative is meaningless). */
export const MAX_STEP_S = 3;

/** Where and when an episode began, and its last sample so far. */
export interface EpisodeSpan {
  start: number;
  lastTs: number;
  lat: number | null;
  lon: number | null;
}

/**
 * A condition held over consecutive samples (idling, speeding) that becomes one event when it
 * ends, and only if it lasted at least `minS()`: its end must be known before it is reported, so
 * a ten-minute idle is one long_idle, not six hundred.
 */
export class Episode<T extends object> {
  private current: (EpisodeSpan & T) | null = null;

  constructor(
    /** The shortest episode reported, seconds. */
    private readonly minS: () => number,
    /** The event for an episode that lasted long enough. */
    private readonly toEvent: (e: EpisodeSpan & T, end: number, durationS: number) => DetectedEvent,
  ) {}

  /** The open episode, if any. */
  get open(): (EpisodeSpan & T) | null {
    return this.current;
  }

  begin(span: EpisodeSpan & T): EpisodeSpan & T {
    this.current = span;
    return span;
  }

  /** Ends the open episode at `end`, reporting it if it lasted long enough. */
  close(end: number, out: DetectedEvent[]): void {
    const e = this.current;
    if (!e) return;
    this.current = null;
    const durationS = (end - e.start) / 1000;
    if (durationS >= this.minS()) out.push(this.toEvent(e, end, durationS));
  }

  /** End of the stream: the open episode ends at its last sample. */
  flush(): DetectedEvent[] {
    const out: DetectedEvent[] = [];
    if (this.current) this.close(this.current.lastTs, out);
    return out;
  }
}
