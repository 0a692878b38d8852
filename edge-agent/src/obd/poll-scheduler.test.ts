import { describe, expect, it } from 'vitest';
import { DEFAULT_FAST_PIDS, DEFAULT_SLOW_PIDS, PollScheduler } from './poll-scheduler.ts';

describe('PollScheduler', () => {
  const supported = new Set([0x0c, 0x0d, 0x11, 0x10, 0x2f, 0x05, 0x0f, 0x46, 0x1f]);

  it('asks only supported PIDs: the fast group every cycle, the slow group every period', () => {
    const s = new PollScheduler(
      supported,
      {
        fast: [0x0c, 0x0d, 0x11, 0x10, 0x5e],
        slow: [0x2f, 0x05, 0x0f, 0x46, 0x1f, 0xa6],
        slowPeriodMs: 5000,
      },
      true,
    );
    // 5E and A6 are not supported: never asked.
    expect(s.pids).toEqual([0x0c, 0x0d, 0x11, 0x10, 0x2f, 0x05, 0x0f, 0x46, 0x1f]);
    expect(s.due(0)).toEqual([0x0c, 0x0d, 0x11, 0x10, 0x2f, 0x05, 0x0f, 0x46, 0x1f]);
    expect(s.nextRequests(0)).toEqual([
      [0x0c, 0x0d, 0x11, 0x10, 0x2f, 0x05],
      [0x0f, 0x46, 0x1f],
    ]);
    s.markRead(s.due(0), 0);
    expect(s.due(100)).toEqual([0x0c, 0x0d, 0x11, 0x10]);
    expect(s.due(4999)).toEqual([0x0c, 0x0d, 0x11, 0x10]);
    expect(s.due(5000)).toEqual([0x0c, 0x0d, 0x11, 0x10, 0x2f, 0x05, 0x0f, 0x46, 0x1f]);
  });

  it('re-asks a slow PID that did not answer', () => {
    const s = new PollScheduler(supported, { fast: [0x0c], slow: [0x2f, 0x05], slowPeriodMs: 1000 }, true);
    s.markRead([0x0c, 0x2f], 0);
    expect(s.due(10)).toEqual([0x0c, 0x05]);
  });

  it('asks one PID per request off CAN', () => {
    const s = new PollScheduler(supported, { fast: [0x0c, 0x0d], slow: [], slowPeriodMs: 1000 }, false);
    expect(s.nextRequests(0)).toEqual([[0x0c], [0x0d]]);
  });

  it('does not ask a PID twice when it is in both groups', () => {
    const s = new PollScheduler(
      supported,
      { fast: [0x0c, 0x0f], slow: [0x0f, 0x2f], slowPeriodMs: 1000 },
      true,
    );
    expect(s.due(0)).toEqual([0x0c, 0x0f, 0x2f]);
  });

  it('has the issue’s groups as defaults: fast 0C 0D 11, slow 2F 05 0F 46 1F', () => {
    expect(DEFAULT_FAST_PIDS).toEqual(expect.arrayContaining([0x0c, 0x0d, 0x11]));
    expect(DEFAULT_SLOW_PIDS).toEqual(expect.arrayContaining([0x2f, 0x05, 0x0f, 0x46, 0x1f]));
  });
});
