import { describe, expect, it } from 'vitest';
import { type Detection, matchEvents, percentile, Scoreboard, type Truth } from './score.ts';

const MIN = 60_000;
const T0 = Date.UTC(2024, 4, 1, 8);

function theft(startMin: number, endMin: number, volumeL: number, extra: Partial<Truth> = {}): Truth {
  return {
    type: 'fuel_drain',
    label: 'fuel_theft',
    start: T0 + startMin * MIN,
    end: T0 + endMin * MIN,
    volumeL,
    tankFraction: volumeL / 80,
    moving: false,
    truncated: false,
    observableAt: T0 + endMin * MIN,
    ...extra,
  };
}

function drain(startMin: number, endMin: number, volumeL: number, emittedMin = endMin): Detection {
  return {
    type: 'fuel_drain',
    start: T0 + startMin * MIN,
    end: T0 + endMin * MIN,
    volumeL,
    emittedAt: T0 + emittedMin * MIN,
  };
}

describe('matchEvents', () => {
  it('pairs one detection with one label, closest first, and counts a second alarm as false', () => {
    const truths = [theft(10, 20, 16), theft(100, 110, 8)];
    const dets = [drain(11, 20, 15), drain(12, 21, 15), drain(101, 110, 8)];
    const s = matchEvents(dets, truths);
    expect(s.pairs.map((p) => [p.detection.start, p.truth.start])).toEqual([
      [T0 + 11 * MIN, T0 + 10 * MIN],
      [T0 + 101 * MIN, T0 + 100 * MIN],
    ]);
    expect(s.falsePositives).toEqual([dets[1]]);
    expect(s.missed).toEqual([]);
  });

  it('needs the same type and the tolerance: a refuel does not answer a theft, a far drain does not', () => {
    const truths = [theft(10, 20, 16)];
    const refuel: Detection = { ...drain(10, 20, 16), type: 'refuel' };
    const far = drain(40, 41, 16); // 20 min after the theft's end: beyond the 2 min tolerance
    const s = matchEvents([refuel, far], truths);
    expect(s.pairs).toEqual([]);
    expect(s.missed).toEqual(truths);
    expect(s.falsePositives).toEqual([refuel, far]);
    // A wider tolerance makes the far one match.
    expect(matchEvents([far], truths, { fuel_drain: 30 * MIN }).pairs).toHaveLength(1);
  });

  it('stretches a fuel label to its first observable reading, but no further than the tolerance', () => {
    // Ignition off from minute 5 to 40: the theft (10-20) is visible at minute 40 at the earliest.
    const truths = [theft(10, 20, 16, { observableAt: T0 + 40 * MIN })];
    expect(matchEvents([drain(41, 41, 16)], truths).pairs).toHaveLength(1); // 1 min after the reading
    expect(matchEvents([drain(43, 43, 16)], truths).pairs).toHaveLength(0); // 3 min after: too late
    expect(matchEvents([drain(7, 7, 16)], truths).pairs).toHaveLength(0); // 3 min before the theft
  });

  it('ignores detections on truncated labels and of unlabelled types, and does not miss truncated labels', () => {
    const truths = [theft(10, 20, 16, { truncated: true })];
    const corner: Detection = { ...drain(50, 50, 0), type: 'harsh_corner' };
    const s = matchEvents([drain(10, 20, 16), drain(11, 20, 16), corner], truths);
    expect(s.pairs).toEqual([]);
    expect(s.missed).toEqual([]);
    expect(s.falsePositives).toEqual([]);
    expect(s.ignored).toHaveLength(3);
  });
});

describe('Scoreboard', () => {
  it('computes precision, recall, F1, latency and volume error from matched pairs', () => {
    const board = new Scoreboard();
    const truths = [theft(10, 20, 20), theft(100, 110, 10), theft(200, 210, 4)];
    // 20 L found as 22 L, 1 min after the end; 10 L found as 9 L, 3 min after; 4 L missed; one false alarm.
    const dets = [drain(10, 20, 22, 21), drain(100, 110, 9, 113), drain(300, 301, 5)];
    board.addRun(matchEvents(dets, truths), 10 * 3_600_000, 2 * 3_600_000);
    const m = board.metrics('fuel_drain');
    expect([m.tp, m.fp, m.fn]).toEqual([2, 1, 1]);
    expect(m.precision).toBeCloseTo(2 / 3);
    expect(m.recall).toBeCloseTo(2 / 3);
    expect(m.f1).toBeCloseTo(2 / 3);
    expect(m.latencyS.p50).toBe(60);
    expect(m.latencyS.max).toBe(180);
    expect(m.volumeErrorPct.mean).toBeCloseTo(10); // (10 % + 10 %) / 2
    expect(m.volumeErrorPct.n).toBe(2);
    expect(board.falseDrains()).toEqual({
      count: 1,
      drivingHours: 10,
      per1000h: 100,
      idlingHours: 2,
      per1000IdlingH: 500,
    });
  });

  it('measures latency from the first observable reading when the ECU was silent', () => {
    const board = new Scoreboard();
    // Theft ends at minute 20 with the ignition off; the first fuel reading comes at minute 50.
    const t = theft(10, 20, 20, { observableAt: T0 + 50 * MIN });
    board.addRun(matchEvents([drain(10, 50, 20, 51)], [t]), 0);
    const m = board.metrics('fuel_drain');
    expect(m.latencyS.p50).toBe(31 * 60);
    expect(m.latencyAfterObservableS.p50).toBe(60);
  });

  it('splits drain recall by size and state, and does not count alarms during a leak as false drains', () => {
    const board = new Scoreboard();
    const small = theft(10, 20, 2); // 2.5 % of 80 L
    const big = theft(100, 110, 20); // 25 %
    const moving = theft(200, 210, 20, { moving: true });
    const leak: Truth = { ...theft(300, 600, 3), type: 'fuel_leak', label: 'fuel_leak' };
    const dets = [drain(101, 110, 20), drain(400, 401, 1)];
    board.addRun(matchEvents(dets, [small, big, moving, leak]), 1000 * 3_600_000);
    expect(board.drainRecall({ minFraction: 0.05, moving: false })).toEqual({
      found: 1,
      total: 1,
      recall: 1,
    });
    expect(board.drainRecall({ maxFraction: 0.05 })).toEqual({ found: 0, total: 1, recall: 0 });
    expect(board.drainRecall({ moving: true }).recall).toBe(0);
    expect(board.metrics('fuel_drain').fp).toBe(1);
    expect(board.falseDrains().count).toBe(0);
    expect(board.metrics('fuel_leak').fn).toBe(1);
  });

  it('reports NaN, not 0 or 1, when there is nothing to measure', () => {
    const board = new Scoreboard();
    board.addRun(matchEvents([], []), 0);
    const m = board.metrics('refuel');
    expect(m.precision).toBeNaN();
    expect(m.recall).toBeNaN();
    expect(m.latencyS.p50).toBeNaN();
    expect(board.falseDrains().per1000h).toBeNaN();
  });
});

describe('percentile', () => {
  it('uses the nearest rank', () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 95)).toBe(95);
    expect(percentile(xs, 100)).toBe(100);
    expect(percentile([7], 50)).toBe(7);
  });
});
