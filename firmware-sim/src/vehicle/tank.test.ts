import { describe, expect, it } from 'vitest';
import { isSimError, SimErrorCode } from '../errors.ts';
import { TankGauge } from './tank.ts';

describe('TankGauge', () => {
  it('reads a box tank linearly', () => {
    const tank = new TankGauge(60);
    expect(tank.readingPct(30)).toBe(50);
    expect(tank.litresAt(25)).toBe(15);
    expect(tank.calibrationTable(25)).toEqual([
      [0, 0],
      [25, 15],
      [50, 30],
      [75, 45],
      [100, 60],
    ]);
  });

  it('reads a horizontal cylinder by the height of the fuel: little volume near the bottom and top', () => {
    const tank = new TankGauge(400, { kind: 'cylinder' });
    expect(tank.readingPct(200)).toBeCloseTo(50, 6);
    // Filled to 10 % of its height, a cylinder holds ~5.2 % of its volume (circular segment).
    expect(tank.litresAt(10) / 400).toBeCloseTo(0.052, 3);
    expect(tank.readingPct(0.052 * 400)).toBeCloseTo(10, 1);
    expect(tank.litresAt(90) / 400).toBeCloseTo(0.948, 3);
    for (const litres of [0, 1, 17, 123.4, 200, 399, 400]) {
      expect(tank.litresAt(tank.readingPct(litres))).toBeCloseTo(litres, 6);
    }
    // Monotonic: more fuel never reads lower.
    let last = -1;
    for (let l = 0; l <= 400; l += 0.5) {
      const r = tank.readingPct(l);
      expect(r).toBeGreaterThan(last);
      last = r;
    }
  });

  it('takes an explicit calibration table and interpolates between its points', () => {
    const tank = new TankGauge(80, {
      kind: 'table',
      points: [
        [0, 0],
        [20, 8],
        [60, 50],
        [100, 80],
      ],
    });
    expect(tank.litresAt(40)).toBe(29);
    expect(tank.readingPct(29)).toBe(40);
    expect(tank.readingPct(80)).toBe(100);
  });

  it('rejects tables that are not monotonic or do not span the tank', () => {
    const bad: [number, number][][] = [
      [[0, 0]],
      [
        [0, 0],
        [50, 50],
        [100, 70],
      ],
      [
        [0, 0],
        [60, 40],
        [50, 45],
        [100, 80],
      ],
      [
        [5, 0],
        [100, 80],
      ],
    ];
    for (const points of bad) {
      expect(() => new TankGauge(80, { kind: 'table', points })).toThrowError(
        expect.objectContaining({ code: SimErrorCode.InvalidScenario }),
      );
      try {
        new TankGauge(80, { kind: 'table', points });
      } catch (err) {
        expect(isSimError(err, SimErrorCode.InvalidScenario)).toBe(true);
      }
    }
  });
});
