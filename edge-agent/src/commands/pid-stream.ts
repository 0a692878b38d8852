/**
 *   streamPids ─▶ PidStreams ─ extra PIDs ─▶ ObdPoller (asked beside the schedule, each cycle)
 *                     ▲                          │ onCycle
 *                     └──── frame per cycle ◀────┘ ─▶ link.publish('commands-stream')  (QoS 0)
 *
 * Live PIDs for a technician's browser, bounded in time: a stream ends at its `until` (at most
 * MAX_STREAM_SECONDS after it started), on `stopStream` (the page closed), or when the agent stops;
 * the extra PIDs leave the poll the moment the last stream that asked for them ends, so nothing
 * keeps polling for a page nobody watches. One frame per poll cycle that read the stream's PIDs:
 * the browser sees them at the vehicle's poll rate.
 */
import { AGENT_COMMAND_VERSION, type CommandStreamFrame } from '@fleet/shared';
import type { Logger } from '@fleet/shared/log';
import { AgentError, AgentErrorCode } from '../errors.ts';
import type { ObdPoller } from '../obd/obd-poller.ts';

/** [1...8] streams at once: each adds PIDs to every poll cycle. */
export const MAX_STREAMS = 4;

interface Stream {
  pids: number[];
  until: number;
  frames: number;
  timer: NodeJS.Timeout;
}

const hex = (pid: number) => pid.toString(16).toUpperCase().padStart(2, '0');

export class PidStreams {
  private readonly streams = new Map<string, Stream>();
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly obd: Pick<ObdPoller, 'setExtraPids' | 'onCycle' | 'readings'>,
    private readonly publish: (frame: CommandStreamFrame) => Promise<void>,
    private readonly log: Logger,
  ) {}

  get active(): { streamId: string; pids: number[]; until: number; frames: number }[] {
    return [...this.streams].map(([streamId, s]) => ({
      streamId,
      pids: s.pids,
      until: s.until,
      frames: s.frames,
    }));
  }

  start(streamId: string, pids: readonly number[], seconds: number, now = Date.now()) {
    if (!this.streams.has(streamId) && this.streams.size >= MAX_STREAMS)
      throw new AgentError(
        AgentErrorCode.CommandStreamLimit,
        `${MAX_STREAMS} live streams run already; stop one first`,
      );
    this.end(streamId, 'replaced');
    const until = now + seconds * 1000;
    const unique = [...new Set(pids)];
    const timer = setTimeout(() => this.end(streamId, 'time'), until - now);
    timer.unref();
    this.streams.set(streamId, { pids: unique, until, frames: 0, timer });
    this.refresh();
    this.log.info({ streamId, pids: unique.map(hex), seconds }, 'live PID stream started');
    return { streamId, until, pids: unique };
  }

  /** Ends one stream; false when it had ended already (time up, or never started). */
  stop(streamId: string): { stopped: boolean; frames: number } {
    const frames = this.streams.get(streamId)?.frames ?? 0;
    return { stopped: this.end(streamId, 'stopped'), frames };
  }

  stopAll(): void {
    for (const id of [...this.streams.keys()]) this.end(id, 'agent stopping');
  }

  private end(streamId: string, why: string): boolean {
    const s = this.streams.get(streamId);
    if (!s) return false;
    clearTimeout(s.timer);
    this.streams.delete(streamId);
    this.refresh();
    const frame: CommandStreamFrame = {
      v: AGENT_COMMAND_VERSION,
      streamId,
      ts: Date.now(),
      values: {},
      end: true,
    };
    void this.publish(frame).catch(() => {});
    this.log.info({ streamId, why, frames: s.frames }, 'live PID stream ended');
    return true;
  }

  /** The poller asks exactly the union of the running streams' PIDs (none: nothing extra). */
  private refresh(): void {
    const pids = new Set<number>();
    for (const s of this.streams.values()) for (const p of s.pids) pids.add(p);
    this.obd.setExtraPids(pids);
    if (pids.size > 0 && !this.unsubscribe) {
      this.unsubscribe = this.obd.onCycle((read, now) => this.cycle(read, now));
    } else if (pids.size === 0 && this.unsubscribe) {
      this.unsubscribe();
      this.unsubscribe = undefined;
    }
  }

  private cycle(read: readonly number[], now: number): void {
    for (const [streamId, s] of this.streams) {
      if (now > s.until) continue; // its timer ends it
      const values: Record<string, unknown> = {};
      let any = false;
      for (const pid of s.pids) {
        if (!read.includes(pid)) continue;
        const r = this.obd.readings.get(pid);
        values[hex(pid)] = r && r.ts === now ? r.value : null;
        any = true;
      }
      if (!any) continue;
      s.frames++;
      void this.publish({ v: AGENT_COMMAND_VERSION, streamId, ts: now, values }).catch(() => {});
    }
  }
}
