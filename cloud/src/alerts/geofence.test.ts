import { describe, expect, it } from 'vitest';
import type { Geofence } from '../db/queries/geofences.ts';
import type { MovedPosition } from '../db/queries/insert-telemetry-rows.ts';
import {
  boundingBox,
  containsPoint,
  geofenceAlerts,
  historyTransitions,
  insideGeofences,
  presenceChanges,
} from './geofence.ts';

function fence(id: number, vertices: [number, number][], extra: Partial<Geofence> = {}): Geofence {
  const lats = vertices.map(([lat]) => lat);
  const lons = vertices.map(([, lon]) => lon);
  return {
    id,
    tenantId: 'acme',
    name: `fence ${id}`,
    lats,
    lons,
    ...boundingBox(lats, lons),
    alertOnEnter: true,
    alertOnExit: true,
    ...extra,
  };
}

/** The depot of cloud/test/api-web.test.ts: a square with its north-west corner cut off. */
const DEPOT = fence(1, [
  [50, 8],
  [50, 9],
  [51, 9],
  [51, 8.5],
  [50.5, 8],
]);
/** A U shape (concave): the notch between the arms is outside. */
const U = fence(2, [
  [0, 0],
  [0, 3],
  [3, 3],
  [3, 2],
  [1, 2],
  [1, 1],
  [3, 1],
  [3, 0],
]);

const at = (vehicleId: string, lat: number, lon: number, ts = 1000): MovedPosition => ({
  tenantId: 'acme',
  vehicleId,
  ts,
  lat,
  lon,
});

describe('containsPoint', () => {
  it('inside, outside, and inside the bounding box but outside the polygon', () => {
    expect(containsPoint(DEPOT, 50.4, 8.6)).toBe(true);
    expect(containsPoint(DEPOT, 49, 8.5)).toBe(false);
    expect(containsPoint(DEPOT, 50.9, 8.2)).toBe(false); // the cut corner
    expect(containsPoint(DEPOT, 52, 8.6)).toBe(false);
  });

  it('a concave polygon: the arms are inside, the notch between them is not', () => {
    expect(containsPoint(U, 2, 0.5)).toBe(true);
    expect(containsPoint(U, 2, 2.5)).toBe(true);
    expect(containsPoint(U, 2, 1.5)).toBe(false);
    expect(containsPoint(U, 0.5, 1.5)).toBe(true); // the base
  });

  it('a ray through a vertex counts one crossing, not two (half-open edges)', () => {
    // The ray from (lat 1, lon 0.5) eastwards meets the vertices (1, 1) and (1, 2) of the notch.
    expect(containsPoint(U, 1, 0.5)).toBe(true);
    const diamond = fence(3, [
      [0, 1],
      [1, 2],
      [2, 1],
      [1, 0],
    ]);
    expect(containsPoint(diamond, 1, 1)).toBe(true); // level with two vertices
    expect(containsPoint(diamond, 1, 2.5)).toBe(false);
    expect(containsPoint(diamond, 1, -0.5)).toBe(false);
  });

  it('points on the border: decided one way for good (never both neighbours of an edge)', () => {
    const square = fence(4, [
      [0, 0],
      [0, 1],
      [1, 1],
      [1, 0],
    ]);
    // Even-odd on half-open edges: the south and west edges belong to the square, north and east do not.
    expect(containsPoint(square, 0, 0.5)).toBe(true);
    expect(containsPoint(square, 0.5, 0)).toBe(true);
    expect(containsPoint(square, 1, 0.5)).toBe(false);
    expect(containsPoint(square, 0.5, 1)).toBe(false);
    // Outside the bounding box by a hair: refused by the first test.
    expect(containsPoint(square, -1e-12, 0.5)).toBe(false);
  });

  it('a degenerate polygon (all vertices on one line) contains nothing', () => {
    const line = fence(5, [
      [0, 0],
      [1, 1],
      [2, 2],
    ]);
    expect(containsPoint(line, 1, 1)).toBe(false);
    expect(containsPoint(line, 0.5, 0.6)).toBe(false);
  });
});

describe('insideGeofences', () => {
  it("tests each position against its own tenant's geofences only", () => {
    const other = fence(
      9,
      DEPOT.lats.map((lat, i) => [lat, DEPOT.lons[i]!]),
      { tenantId: 'globex' },
    );
    const fences = new Map([
      ['acme', [DEPOT, U]],
      ['globex', [other]],
    ]);
    const moved = [
      at('van-1', 50.4, 8.6),
      at('van-2', 2, 0.5),
      { ...at('truck', 50.4, 8.6), tenantId: 'globex' },
    ];
    expect(insideGeofences(moved, (t) => fences.get(t) ?? [])).toEqual([
      { geofenceId: 1, vehicleId: 'van-1' },
      { geofenceId: 2, vehicleId: 'van-2' },
      { geofenceId: 9, vehicleId: 'truck' },
    ]);
  });
});

describe('presenceChanges', () => {
  const moved = [at('van-1', 0, 0), at('van-2', 0, 0)];

  it('entering: inside now, not before', () => {
    expect(presenceChanges(moved, [], [{ geofenceId: 1, vehicleId: 'van-1' }])).toEqual([
      { geofenceId: 1, vehicleId: 'van-1', change: 'enter' },
    ]);
  });

  it('staying inside or outside changes nothing', () => {
    const inside = [{ geofenceId: 1, vehicleId: 'van-1' }];
    expect(presenceChanges(moved, inside, inside)).toEqual([]);
    expect(presenceChanges(moved, [], [])).toEqual([]);
  });

  it('leaving: inside before, not now; a vehicle that did not move leaves nothing', () => {
    const present = [
      { geofenceId: 1, vehicleId: 'van-1' },
      { geofenceId: 1, vehicleId: 'parked' },
    ];
    expect(presenceChanges(moved, present, [])).toEqual([
      { geofenceId: 1, vehicleId: 'van-1', change: 'exit' },
    ]);
  });

  it('moving from one geofence straight into another: an exit and an entry', () => {
    const changes = presenceChanges(
      moved,
      [{ geofenceId: 1, vehicleId: 'van-2' }],
      [{ geofenceId: 2, vehicleId: 'van-2' }],
    );
    expect(changes).toEqual([
      { geofenceId: 2, vehicleId: 'van-2', change: 'enter' },
      { geofenceId: 1, vehicleId: 'van-2', change: 'exit' },
    ]);
  });
});

describe('geofenceAlerts', () => {
  const moved = [at('van-1', 50.4, 8.6, 5000)];
  const fences = new Map([
    [1, DEPOT],
    [2, { ...U, alertOnEnter: false }],
  ]);

  it('one info alert per change, at the position that made it, titled with the geofence', () => {
    const alerts = geofenceAlerts(
      [
        { geofenceId: 1, vehicleId: 'van-1', change: 'enter' },
        { geofenceId: 1, vehicleId: 'van-1', change: 'exit' },
      ],
      moved,
      (id) => fences.get(id),
    );
    expect(alerts).toEqual([
      {
        tenantId: 'acme',
        vehicleId: 'van-1',
        type: 'geofence_enter',
        severity: 'info',
        title: 'Entered fence 1',
        ts: 5000,
        lat: 50.4,
        lon: 8.6,
        eventId: null,
        geofenceId: 1,
        details: { geofence: 'fence 1' },
      },
      expect.objectContaining({ type: 'geofence_exit', title: 'Left fence 1' }),
    ]);
  });

  it('a geofence that asks for no entry alerts gets none; a deleted one none at all', () => {
    const alerts = geofenceAlerts(
      [
        { geofenceId: 2, vehicleId: 'van-1', change: 'enter' },
        { geofenceId: 2, vehicleId: 'van-1', change: 'exit' },
        { geofenceId: 7, vehicleId: 'van-1', change: 'enter' },
      ],
      moved,
      (id) => fences.get(id),
    );
    expect(alerts.map((a) => [a.geofenceId, a.type])).toEqual([[2, 'geofence_exit']]);
  });
});

describe('historyTransitions (backfilled positions)', () => {
  const inDepot = { lat: 50.5, lon: 8.5 };
  const inU = { lat: 0.5, lon: 0.5 };
  const notch = { lat: 2, lon: 1.5 }; // between the U's arms: outside
  const track = [
    { ts: 1, ...notch },
    { ts: 2, ...inU },
    { ts: 3, ...inDepot },
    { ts: 4, ...inDepot },
    { ts: 5, ...notch },
  ];

  it('every change between consecutive positions, in time order, across geofences', () => {
    expect(historyTransitions(track, [DEPOT, U], true).map((t) => [t.ts, t.geofenceId, t.change])).toEqual([
      [2, 2, 'enter'],
      [3, 1, 'enter'],
      [3, 2, 'exit'],
      [5, 1, 'exit'],
    ]);
  });

  it('the first position is judged only when nothing was stored before it (then from outside)', () => {
    const fromDepot = [
      { ts: 1, ...inDepot },
      { ts: 2, ...notch },
    ];
    expect(historyTransitions(fromDepot, [DEPOT], true).map((t) => [t.ts, t.change])).toEqual([[2, 'exit']]);
    expect(historyTransitions(fromDepot, [DEPOT], false).map((t) => [t.ts, t.change])).toEqual([
      [1, 'enter'],
      [2, 'exit'],
    ]);
  });

  it("what a geofence's flags do not record is not returned", () => {
    const quiet = { ...DEPOT, alertOnEnter: false };
    expect(historyTransitions(track, [quiet], true).map((t) => [t.ts, t.change])).toEqual([[5, 'exit']]);
  });
});
