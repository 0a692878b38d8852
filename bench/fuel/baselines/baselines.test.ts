import { describe, expect, it } from 'vitest';
import type { DriveSample } from '../../../edge-agent/src/fuel/drive-log.ts';
import { datasetRuns } from '../dataset.ts';
import { detectRun, type RunContext } from '../detector.ts';
import { gpsGateDetector } from './gpsgate.ts';
import { averagePathLength, IsolationForest } from './isolation-forest.ts';
import { traccarDetector } from './traccar.ts';

const T0 = Date.UTC(2024, 4, 1, 8);
const CTX: RunContext = {
  vehicleId: 'v',
  tankLitres: 100,
  calibration: [
    [0, 0],
    [100, 100],
  ],
  thresholds: {
    harshBrakeG: 0.35,
    harshAccelG: 0.3,
    speedingMarginKmh: 10,
    speedingMinS: 15,
    longIdleS: 300,
  },
  speedLimitKmh: 50,
};

function log(levels: (number | null)[]): DriveSample[] {
  return levels.map((fuelLevelPct, i) => ({
    ts: T0 + i * 1000,
    speedKmh: 0,
    rpm: fuelLevelPct === null ? null : 800,
    fuelLevelPct,
    fuelRateLph: null,
    mafGps: null,
    lat: null,
    lon: null,
    ignition: fuelLevelPct !== null,
  }));
}

describe('Traccar baseline', () => {
  it('fires on one drop of at least the threshold between readings, across a silent gap, not below it', () => {
    // 4 % of 100 L = 4 L: a 3 L step is ignored, a 5 L drop across an ignition-off gap is a drain.
    const { detections } = detectRun(traccarDetector(0.04), CTX, log([60, 57, 57, null, null, 52, 52, 58]));
    expect(detections.map((d) => [d.type, Math.round(d.volumeL! * 1e6) / 1e6, d.start, d.end])).toEqual([
      ['fuel_drain', 5, T0 + 2000, T0 + 5000],
      ['refuel', 6, T0 + 6000, T0 + 7000],
    ]);
  });
});

describe('GpsGate baseline', () => {
  it('compares the mean of 4 readings with the next 4 and re-arms after an event', () => {
    const { detections } = detectRun(
      gpsGateDetector(0.04),
      CTX,
      log([60, 60, 60, 60, 54, 54, 54, 54, 54, 54]),
    );
    expect(detections).toHaveLength(1);
    expect(detections[0]).toMatchObject({ type: 'fuel_drain', volumeL: 6, emittedAt: T0 + 7000 });
    // A single 8-reading slosh spike that averages under the threshold raises nothing.
    expect(detectRun(gpsGateDetector(0.04), CTX, log([60, 60, 60, 60, 48, 60, 60, 60])).detections).toEqual(
      [],
    );
  });
});

describe('IsolationForest', () => {
  it('uses the paper c(n) and scores an isolated point above the contamination threshold', () => {
    expect(averagePathLength(2)).toBe(1);
    expect(averagePathLength(256)).toBeCloseTo(10.24, 1);
    let x = 1;
    const rand = () => {
      x = (x * 16807) % 2147483647;
      return x / 2147483647;
    };
    const rows = Array.from({ length: 500 }, () => [rand(), rand(), rand()]);
    rows.push([8, 8, 8]);
    const forest = new IsolationForest({ contamination: 0.01, seed: 3 }).fit(rows);
    expect(forest.score([8, 8, 8])).toBeGreaterThan(forest.threshold);
    expect(forest.score([0.5, 0.5, 0.5])).toBeLessThan(forest.threshold);
    // Seeded: the same data gives the same forest.
    const again = new IsolationForest({ contamination: 0.01, seed: 3 }).fit(rows);
    expect(again.score([0.9, 0.1, 0.4])).toBe(forest.score([0.9, 0.1, 0.4]));
  });
});

describe('dataset plan', () => {
  it('keeps held-out seeds >= 1000 and tuning seeds in 1-99, with no run in both', () => {
    const held = datasetRuns('held-out');
    const tuning = datasetRuns('tuning');
    expect(held.every((r) => r.seed >= 1000)).toBe(true);
    expect(tuning.every((r) => r.seed >= 1 && r.seed <= 99)).toBe(true);
    const heldIds = new Set(held.map((r) => r.id));
    expect(datasetRuns('quick').every((r) => heldIds.has(r.id))).toBe(true);
    // Thefts from 2 % to 50 % of the tank, tanks from 40 to 400 L.
    expect(new Set(held.filter((r) => r.group === 'theft-sweep').map((r) => r.tankLitres))).toContain(400);
    expect(held.some((r) => r.id.startsWith('theft-40L-2pct'))).toBe(true);
    expect(held.some((r) => r.id.startsWith('theft-400L-50pct'))).toBe(true);
  });
});
