import { describe, expect, it } from 'vitest';
import { isSimError, SimErrorCode } from '../errors.ts';
import { ROUTES, Route, routeByName, routeForSeed } from './route.ts';

const square = new Route({
  name: 'square',
  description: 'test square of ~111 m sides on the equator',
  speedLimitKmh: 50,
  altitudeM: 0,
  geoidSeparationM: 0,
  waypoints: [
    { lat: 0, lon: 0, light: true },
    { lat: 0.001, lon: 0 },
    { lat: 0.001, lon: 0.001, light: true },
    { lat: 0, lon: 0.001 },
  ],
});

describe('Route geometry', () => {
  it('interpolates positions by distance and wraps laps', () => {
    const side = square.lengthM / 4;
    const mid = square.positionAt(side / 2);
    expect(mid.lat).toBeCloseTo(0.0005, 6);
    expect(mid.lon).toBeCloseTo(0, 9);
    expect(mid.headingDeg).toBeCloseTo(0, 3);
    const east = square.positionAt(side * 1.5);
    expect(east.headingDeg).toBeCloseTo(90, 3);
    expect(east.segment).toBe(1);
    const lap = square.positionAt(square.lengthM * 3 + side / 2);
    expect(lap.lat).toBeCloseTo(mid.lat, 9);
    expect(square.positionAt(-side / 2).segment).toBe(3);
  });

  it('lists waypoints ahead with corner angles, across the end of the loop', () => {
    const side = square.lengthM / 4;
    const ahead = square.waypointsAhead(square.lengthM - 10, side + 20);
    expect(ahead.map((w) => w.index)).toEqual([0, 1]);
    expect(ahead[0]!.distanceAheadM).toBeCloseTo(10, 6);
    expect(ahead[0]!.light).toBe(true);
    expect(ahead[0]!.turnDeg).toBeCloseTo(90, 1);
    // A waypoint we stand on is behind us, not ahead.
    expect(square.waypointsAhead(side, 50).map((w) => w.index)).toEqual([]);
  });

  it('has valid built-in loops and finds them by name or seed', () => {
    for (const def of ROUTES) {
      const route = new Route(def);
      expect(route.lengthM).toBeGreaterThan(1000);
      expect(route.lengthM).toBeLessThan(10_000);
    }
    expect(routeByName('munich-altstadtring').name).toBe('munich-altstadtring');
    expect(routeForSeed(5).name).toBe(routeForSeed(5).name);
    try {
      routeByName('atlantis');
      expect.unreachable();
    } catch (err) {
      expect(isSimError(err, SimErrorCode.UnknownRoute)).toBe(true);
    }
  });
});
