import { describe, expect, it } from 'vitest';
import { calibrationProblems, interpolateLitres, litresAtLevel } from './tank-calibration.ts';

// A saddle tank: the bottom and top hold less per % of sender travel than the middle.
const SADDLE = [
  { pct: 0, litres: 0 },
  { pct: 20, litres: 30 },
  { pct: 80, litres: 270 },
  { pct: 100, litres: 300 },
];

describe('tank calibration', () => {
  it('interpolates between rows and clamps outside them', () => {
    expect(interpolateLitres(SADDLE, 10)).toBe(15);
    expect(interpolateLitres(SADDLE, 50)).toBe(150);
    expect(interpolateLitres(SADDLE, 90)).toBe(285);
    expect(interpolateLitres(SADDLE, -5)).toBe(0);
    expect(interpolateLitres(SADDLE, 120)).toBe(300);
  });

  it('the same reading is other litres with a table than linear over the capacity', () => {
    expect(litresAtLevel(10, { tankLitres: 300, calibration: null })).toBe(30);
    expect(litresAtLevel(10, { tankLitres: 300, calibration: SADDLE })).toBe(15);
    expect(litresAtLevel(10, { tankLitres: null, calibration: null })).toBeNull();
  });

  it('names the row of a table that does not rise strictly, and tables that miss 0 or 100 %', () => {
    expect(calibrationProblems(SADDLE, 300)).toEqual([]);
    const flat = calibrationProblems([
      { pct: 0, litres: 0 },
      { pct: 50, litres: 100 },
      { pct: 60, litres: 100 },
      { pct: 100, litres: 200 },
    ]);
    expect(flat).toEqual([
      { row: 2, field: 'litres', message: "row 3: litres must be greater than row 2's (100)" },
    ]);
    const backwards = calibrationProblems([
      { pct: 0, litres: 0 },
      { pct: 70, litres: 100 },
      { pct: 60, litres: 150 },
      { pct: 100, litres: 200 },
    ]);
    expect(backwards.map((p) => [p.row, p.field])).toEqual([[2, 'pct']]);
    expect(
      calibrationProblems([
        { pct: 5, litres: 0 },
        { pct: 90, litres: 10 },
      ]).map((p) => p.message),
    ).toEqual(['row 1: the first row must be 0 %', 'row 2: the last row must be 100 %']);
    expect(calibrationProblems(SADDLE, 250).map((p) => [p.row, p.field])).toEqual([[3, 'litres']]);
    expect(calibrationProblems([{ pct: 0, litres: 0 }])).toHaveLength(1);
  });
});
