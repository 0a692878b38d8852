/**
 * Which PIDs to ask in the next poll cycle: a fast group every cycle (engine speed, vehicle
 * speed, throttle, the fuel-rate inputs) and a slow group when its period has elapsed (fuel
 * level, temperatures, run time...). Only PIDs the vehicle supports are ever asked; due PIDs are
 * packed up to six per request on CAN, fast ones first.
 */
import { batchPids } from './services/current-data.ts';

export interface PollGroups {
  /** Asked every cycle. */
  fast: readonly number[];
  /** Asked when `slowPeriodMs` passed since their last read. */
  slow: readonly number[];
  /** [0...600000] ms, default 5000. */
  slowPeriodMs: number;
}

/** 0C rpm, 0D speed, 11 throttle, 04 load (the fuel-rate source adds 5E or 10 or 0B/0F). */
export const DEFAULT_FAST_PIDS: readonly number[] = [0x0c, 0x0d, 0x11, 0x04];
/**
 * 2F fuel level, 05 coolant, 0F intake air, 46 ambient, 1F run time, 42 module voltage,
 * 5C oil temperature, 33 barometric pressure, A6 odometer, 51 fuel type, 44 commanded lambda,
 * 01 monitor status (MIL and code count: a change reads the trouble codes at once).
 */
export const DEFAULT_SLOW_PIDS: readonly number[] = [
  0x2f, 0x05, 0x0f, 0x46, 0x1f, 0x42, 0x5c, 0x33, 0xa6, 0x51, 0x44, 0x01,
];

export class PollScheduler {
  private readonly fast: number[];
  private readonly slow: number[];
  private readonly lastRead = new Map<number, number>();

  constructor(
    supported: ReadonlySet<number>,
    private readonly groups: PollGroups,
    private readonly multiPid: boolean,
  ) {
    this.fast = [...new Set(groups.fast)].filter((p) => supported.has(p));
    this.slow = [...new Set(groups.slow)].filter((p) => supported.has(p) && !this.fast.includes(p));
  }

  /** Every PID this scheduler will ever ask. */
  get pids(): number[] {
    return [...this.fast, ...this.slow];
  }

  /** The PIDs due at `now`, fast first. */
  due(now: number): number[] {
    const slowDue = this.slow.filter((p) => {
      const last = this.lastRead.get(p);
      return last === undefined || now - last >= this.groups.slowPeriodMs;
    });
    return [...this.fast, ...slowDue];
  }

  /** The due PIDs packed into requests. */
  nextRequests(now: number): number[][] {
    return batchPids(this.due(now), this.multiPid);
  }

  markRead(pids: readonly number[], now: number): void {
    for (const p of pids) this.lastRead.set(p, now);
  }
}
