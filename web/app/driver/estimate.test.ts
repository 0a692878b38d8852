import { describe, expect, it } from 'vitest';
import { burnedPct, estimateRangeKm, needsRefuel, REFUEL_REMINDER_PCT } from './estimate.ts';

describe('driver range estimate', () => {
  it('adds up falls and ignores the rise of a refuel', () => {
    // 80 -> 60 (20 burned), refuel to 90, 90 -> 70 (20 burned): 40 % for the period.
    expect(burnedPct([{ pct: 80 }, { pct: 60 }, { pct: 90 }, { pct: 70 }])).toBe(40);
  });

  it('scales the level by km per tank-%', () => {
    // 400 km on 40 % burned = 10 km per %; at 70 % that is 700 km.
    expect(estimateRangeKm(70, 400, [{ pct: 80 }, { pct: 60 }, { pct: 90 }, { pct: 70 }])).toBeCloseTo(700);
  });

  it('gives no number from too little driving or no level', () => {
    expect(estimateRangeKm(50, 5, [{ pct: 80 }, { pct: 60 }])).toBeNull();
    expect(estimateRangeKm(50, 300, [{ pct: 80 }, { pct: 79 }])).toBeNull();
    expect(estimateRangeKm(null, 300, [{ pct: 80 }, { pct: 60 }])).toBeNull();
  });

  it('reminds below the threshold only', () => {
    expect(needsRefuel(REFUEL_REMINDER_PCT - 0.1)).toBe(true);
    expect(needsRefuel(REFUEL_REMINDER_PCT)).toBe(false);
    expect(needsRefuel(null)).toBe(false);
  });
});
