import { describe, expect, it } from 'vitest';
import { IngestLanes } from './lanes.ts';

interface Msg {
  name: string;
  payload: Buffer;
  at: number;
}
const msg = (name: string, bytes = 100, at = 0): Msg => ({ name, payload: Buffer.alloc(bytes), at });
const names = (group: Msg[]) => group.map((m) => m.name);

describe('IngestLanes', () => {
  it('live goes before backfill, whatever arrived first', () => {
    const lanes = new IngestLanes<Msg>();
    lanes.add(msg('old'), true);
    lanes.add(msg('now'), false);
    expect(lanes.next(0)).toEqual({ lane: 'live' });
    expect(names(lanes.take('live', 0))).toEqual(['now']);
    expect(lanes.next(0)).toEqual({ lane: 'backfill' });
    expect(lanes.waiting).toBe(1);
  });

  it('a group is cut at maxGroupBytes, in arrival order; a message bigger than the cap goes alone', () => {
    const lanes = new IngestLanes<Msg>({ maxGroupBytes: 250 });
    for (const [name, bytes] of [
      ['a', 100],
      ['b', 100],
      ['c', 100],
      ['huge', 1000],
      ['d', 10],
    ] as const)
      lanes.add(msg(name, bytes), false);
    expect(names(lanes.take('live', 0))).toEqual(['a', 'b']);
    expect(names(lanes.take('live', 0))).toEqual(['c']);
    expect(names(lanes.take('live', 0))).toEqual(['huge']);
    expect(names(lanes.take('live', 0))).toEqual(['d']);
    expect(lanes.next(0)).toBeNull();
  });

  it('one backfill group at a time: the next waits until the one in flight is done', () => {
    const lanes = new IngestLanes<Msg>({ maxGroupBytes: 100 });
    lanes.add(msg('b1'), true);
    lanes.add(msg('b2'), true);
    const first = lanes.take('backfill', 0);
    expect(lanes.next(1)).toBeNull();
    lanes.done('backfill', first); // failed or committed: either way the lane is free again
    expect(lanes.next(2)).toEqual({ lane: 'backfill' });
  });

  it('backfill yields while live is slow, for at most backfillMaxHoldMs, then goes anyway', () => {
    const lanes = new IngestLanes<Msg>({ backfillYieldMs: 40, backfillMaxHoldMs: 250, maxGroupBytes: 100 });
    for (const n of ['b1', 'b2', 'b3']) lanes.add(msg(n), true);
    lanes.done('backfill', lanes.take('backfill', 1000)); // the last backfill group started at 1000
    // Live commits take 500 ms from arrival: the moving average is well over 40 ms.
    lanes.add(msg('live', 100, 1000), false);
    lanes.done('live', lanes.take('live', 1000), 1500);
    expect(lanes.next(1100)).toEqual({ holdMs: 150 });
    expect(lanes.next(1249)).toEqual({ holdMs: 1 });
    expect(lanes.next(1250)).toEqual({ lane: 'backfill' });
  });

  it('backfill does not yield when live is fast, has been quiet for a second, or yielding is off', () => {
    /** A live group committed `commitMs` after its arrival at 0, then a backfill group started at `backfillAt`. */
    const after = (
      opts: ConstructorParameters<typeof IngestLanes<Msg>>[0],
      commitMs: number,
      backfillAt: number,
    ) => {
      const lanes = new IngestLanes<Msg>({ maxGroupBytes: 100, ...opts });
      lanes.add(msg('live', 100, 0), false);
      lanes.done('live', lanes.take('live', 0), commitMs);
      lanes.add(msg('b1'), true);
      lanes.add(msg('b2'), true);
      lanes.done('backfill', lanes.take('backfill', backfillAt));
      return lanes;
    };
    // The baseline: 0.2 x 300 ms = 60 ms, over 40 ms, so it waits.
    expect(after({}, 300, 400).next(500)).toEqual({ holdMs: 150 });
    expect(after({}, 100, 400).next(500)).toEqual({ lane: 'backfill' }); // 20 ms: fast enough
    expect(after({}, 300, 1300).next(1400)).toEqual({ lane: 'backfill' }); // no live commit for 1.1 s
    expect(after({ backfillYieldMs: 0 }, 300, 400).next(500)).toEqual({ lane: 'backfill' });
  });

  it('a failed live group does not count towards live latency', () => {
    const lanes = new IngestLanes<Msg>({ maxGroupBytes: 100 });
    lanes.add(msg('b1'), true);
    lanes.add(msg('b2'), true);
    lanes.done('backfill', lanes.take('backfill', 1000));
    lanes.add(msg('live', 100, 0), false);
    lanes.done('live', lanes.take('live', 1000)); // failed: no commit time
    expect(lanes.next(1100)).toEqual({ lane: 'backfill' });
  });

  it('drain hands back everything waiting, live first', () => {
    const lanes = new IngestLanes<Msg>();
    lanes.add(msg('b'), true);
    lanes.add(msg('l'), false);
    expect(names(lanes.drain())).toEqual(['l', 'b']);
    expect(lanes.waiting).toBe(0);
  });
});
