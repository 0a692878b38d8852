import { describe, expect, it } from 'vitest';
import { batteryTrend, misfiring } from './vehicle-health-alerts.ts';

describe('batteryTrend', () => {
  it('fits the cranking dips of the last 5 starts and calls a steady fall of >= 0.1 V/start and 0.4 V falling', () => {
    expect(batteryTrend([10.8, 10.4, 10.1])).toEqual({
      starts: 3,
      slopeVPerStart: -0.35,
      lastCrankV: 10.1,
      falling: true,
    });
    // Only the last 5 count: an old healthy stretch does not hide today's decline.
    expect(batteryTrend([10.5, 10.5, 10.5, 10.5, 10.4, 10.2, 10.0, 9.9, 9.7]).falling).toBe(true);
    // Noise around a steady battery, a single bad start, and too few starts are not a trend.
    expect(batteryTrend([10.5, 10.4, 10.6, 10.5, 10.4]).falling).toBe(false);
    expect(batteryTrend([10.5, 10.5, 10.5, 10.5, 9.9]).falling).toBe(false);
    expect(batteryTrend([10.8, 9.0])).toEqual({
      starts: 2,
      slopeVPerStart: null,
      lastCrankV: 9.0,
      falling: false,
    });
  });
});

describe('misfiring', () => {
  it('lists the cylinders over their limit this cycle; no limit (0 or null) never counts', () => {
    const details = {
      misfire: [
        { cylinder: 1, count: 3, average: 1, limit: 30 },
        { cylinder: 2, count: 47, average: 5, limit: 30 },
        { cylinder: 3, count: 500, average: 0, limit: null },
        { cylinder: 4, count: 30, average: 0, limit: 30 },
      ],
    };
    expect(misfiring(details).map((c) => c.cylinder)).toEqual([2]);
    expect(misfiring({ misfire: 'garbage' })).toEqual([]);
    expect(misfiring({})).toEqual([]);
  });
});
