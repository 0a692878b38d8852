import { describe, expect, it } from 'vitest';
import { bearingDeg, EARTH_RADIUS_M, haversineM } from './geo.ts';

describe('haversineM', () => {
  it('measures known arcs of the sphere', () => {
    expect(haversineM(0, 0, 0.001, 0)).toBeCloseTo(111.195, 2); // a thousandth of a degree of latitude
    expect(haversineM(10, 20, 11, 20)).toBeCloseTo((Math.PI / 180) * EARTH_RADIUS_M, 6); // along a meridian
    expect(haversineM(0, 0, 0, 90)).toBeCloseTo(10_007_557, 0); // a quarter of the equator
    expect(haversineM(0, 0, 90, 0)).toBeCloseTo(10_007_557, 0); // equator to pole
  });

  it('gives the published Nashville-Los Angeles distance (Rosetta Code, R = 6372.8 km)', () => {
    // 2887.2599506071106 km on a sphere of 6372.8 km; scaled to this module's radius.
    const m = haversineM(36.12, -86.67, 33.94, -118.4);
    expect((m * 6372.8) / (EARTH_RADIUS_M / 1000)).toBeCloseTo(2_887_259.95, 1);
  });

  it('is zero for one position, symmetric, and finite for antipodes', () => {
    expect(haversineM(48.137, 11.575, 48.137, 11.575)).toBe(0);
    expect(haversineM(48.137, 11.575, 52.52, 13.405)).toBe(haversineM(52.52, 13.405, 48.137, 11.575));
    expect(haversineM(48.137, 11.575, 52.52, 13.405)).toBeCloseTo(504_400, -3); // Munich-Berlin ~504 km
    expect(haversineM(0, 0, 0, 180)).toBeCloseTo(Math.PI * EARTH_RADIUS_M, 3);
    expect(haversineM(45, 30, -45, -150)).toBeCloseTo(Math.PI * EARTH_RADIUS_M, 3);
  });
});

describe('bearingDeg', () => {
  it('points along the compass from the origin', () => {
    expect(bearingDeg(0, 0, 1, 0)).toBeCloseTo(0, 6);
    expect(bearingDeg(0, 0, 0, 1)).toBeCloseTo(90, 6);
    expect(bearingDeg(0, 0, -1, 0)).toBeCloseTo(180, 6);
    expect(bearingDeg(0, 0, 0, -1)).toBeCloseTo(270, 6);
  });

  it('starts a great circle, not a rhumb line: London to New York leaves towards the north-west', () => {
    // The rhumb line heads ~258°; the great circle's initial course is ~288° (published 288.3°).
    expect(bearingDeg(51.5074, -0.1278, 40.7128, -74.006)).toBeCloseTo(288.3, 0);
  });
});
