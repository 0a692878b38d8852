/**
 * Which received messages go into the next group transaction, and when backfill may go.
 *
 *   live (and unflagged) ──────────────┐
 *                                      ├──> next group (<= maxGroupBytes; the first message always fits)
 *   backfill (`historical` flag) ──────┘    backfill: one group at a time, and it yields to slow live
 *
 * Live messages always go first; backfill flagged `historical` by the agent's MQTT 5 user
 * property is committed in groups of its own, one at a time, so a week-long backlog never sits
 * in the transaction a live sample waits for and never holds every transaction slot. And it
 * yields: on two cores a backfill group competes with the live ones for the CPU the database runs
 * on, so while live messages are slower than `backfillYieldMs` from arrival to COMMIT (a moving
 * average) the next backfill group waits, at most `backfillMaxHoldMs`: the backlog drains with
 * what live traffic leaves over.
 *
 * Decisions only: times are passed in (performance.now() in the ingest), timers are the caller's.
 */

export interface LaneOptions {
  /** [0...10000] ms, default 40; 0 = backfill never yields. */
  backfillYieldMs?: number | undefined;
  /** [0...60000] ms, default 250: the longest backfill waits while live is slow (it always moves). */
  backfillMaxHoldMs?: number | undefined;
  /** [1 KiB...64 MiB] payload bytes per group, default 256 KiB. */
  maxGroupBytes?: number | undefined;
}

export type Lane = 'live' | 'backfill';

/** What may go next: a lane, backfill only after `holdMs` (look again then), or nothing. */
export type LaneChoice = { lane: Lane } | { holdMs: number } | null;

export class IngestLanes<T extends { payload: Buffer; at: number }> {
  private readonly live: T[] = [];
  private readonly backfill: T[] = [];
  private backfillInFlight = false;
  /** Moving average of live messages' arrival -> COMMIT, ms; and when live last committed. */
  private liveLatencyMs = 0;
  private liveCommittedAt = Number.NEGATIVE_INFINITY;
  /** When the last backfill group started. */
  private backfillStartedAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly opts: LaneOptions = {}) {}

  /** Payload bytes of the live messages received and not yet taken into a group. */
  private liveBytes = 0;

  /** Messages received and not yet taken into a group. */
  get waiting(): number {
    return this.live.length + this.backfill.length;
  }

  /** Whether the live messages waiting fill a group (maxGroupBytes): worth a transaction of its own now. */
  get liveGroupFull(): boolean {
    return this.liveBytes >= (this.opts.maxGroupBytes ?? 256 * 1024);
  }

  add(item: T, historical: boolean): void {
    if (historical) this.backfill.push(item);
    else {
      this.live.push(item);
      this.liveBytes += item.payload.byteLength;
    }
  }

  /** `liveHeld`: the live lane waits for the transaction in flight; only backfill may go. */
  next(now: number, liveHeld = false): LaneChoice {
    if (this.live.length > 0 && !liveHeld) return { lane: 'live' };
    if (this.backfill.length === 0 || this.backfillInFlight) return null;
    const yieldMs = this.opts.backfillYieldMs ?? 40;
    const liveRecently = now - this.liveCommittedAt < 1000;
    if (yieldMs === 0 || !liveRecently || this.liveLatencyMs <= yieldMs) return { lane: 'backfill' };
    const hold = this.opts.backfillMaxHoldMs ?? 250;
    const held = now - this.backfillStartedAt;
    return held >= hold ? { lane: 'backfill' } : { holdMs: hold - held };
  }

  /** The lane's next group, in arrival order, up to the byte cap. */
  take(lane: Lane, now: number): T[] {
    const queue = lane === 'live' ? this.live : this.backfill;
    const cap = this.opts.maxGroupBytes ?? 256 * 1024;
    let n = 0;
    for (let bytes = 0; n < queue.length && (n === 0 || bytes + queue[n]!.payload.byteLength <= cap); n++)
      bytes += queue[n]!.payload.byteLength;
    if (lane === 'backfill') {
      this.backfillInFlight = true;
      this.backfillStartedAt = now;
    }
    const group = queue.splice(0, n);
    if (lane === 'live') for (const item of group) this.liveBytes -= item.payload.byteLength;
    return group;
  }

  /** A group taken from `lane` is over: committed at `committedAt`, or failed (undefined). */
  done(lane: Lane, group: readonly T[], committedAt?: number): void {
    if (lane === 'backfill') this.backfillInFlight = false;
    else if (committedAt !== undefined && group.length > 0) {
      this.liveLatencyMs = 0.8 * this.liveLatencyMs + 0.2 * (committedAt - group[0]!.at);
      this.liveCommittedAt = committedAt;
    }
  }

  /** Everything still waiting (the ingest is stopping). */
  drain(): T[] {
    this.liveBytes = 0;
    return [...this.live.splice(0), ...this.backfill.splice(0)];
  }
}
