import { bearingDeg, haversineM } from '@fleet/shared';
import { SimError, SimErrorCode } from '../errors.ts';

/** One corner of a route; `light` marks a signalised intersection where the driver may stop. */
export interface Waypoint {
  readonly lat: number;
  readonly lon: number;
  readonly light?: boolean;
}

export interface RouteDefinition {
  readonly name: string;
  readonly description: string;
  /** Posted limit the driver cruises around, km/h. */
  readonly speedLimitKmh: number;
  /** Height above mean sea level (GGA field 9), metres. */
  readonly altitudeM: number;
  /** Geoid height above the WGS84 ellipsoid at this place (GGA field 11), metres. */
  readonly geoidSeparationM: number;
  /** A closed loop: the last waypoint connects back to the first. */
  readonly waypoints: readonly Waypoint[];
  /** Whether drivers stop at the kerb now and then (deliveries); default true, false on a motorway. */
  readonly kerbStops?: boolean;
}

export interface RoutePosition {
  readonly lat: number;
  readonly lon: number;
  /** True course of the current segment, degrees clockwise from north [0...360). */
  readonly headingDeg: number;
  /** Index of the waypoint the current segment starts at. */
  readonly segment: number;
  /** Distance from the first waypoint, wrapped into [0, length). */
  readonly distanceM: number;
}

export interface WaypointAhead {
  readonly index: number;
  readonly distanceAheadM: number;
  readonly light: boolean;
  /** Change of course at this waypoint [0...180] degrees: how sharp the corner is. */
  readonly turnDeg: number;
}

const RAD = Math.PI / 180;

/** Amplitude of the built-in loops' terrain, m (a loop climbs what it descends). */
const TERRAIN_RELIEF_M = 3;

/** Waypoints this close ahead count as reached: a stop line is never approached twice. */
const REACHED_M = 0.5;

/**
 * A route with its geometry precomputed: segment lengths, bearings and corner angles, so that
 * position lookups by distance travelled are cheap. Positions are interpolated linearly in
 * lat/lon, exact enough over city-block segments of a few hundred metres.
 */
export class Route {
  readonly lengthM: number;
  private readonly cumulativeM: number[];
  private readonly bearings: number[];
  private readonly turns: number[];

  constructor(readonly definition: RouteDefinition) {
    const pts = definition.waypoints;
    if (pts.length < 3) throw new RangeError(`route ${definition.name}: a loop needs >= 3 waypoints`);
    this.cumulativeM = [0];
    this.bearings = [];
    for (let i = 0; i < pts.length; i++) {
      const a = pts[i]!;
      const b = pts[(i + 1) % pts.length]!;
      this.cumulativeM.push(this.cumulativeM[i]! + haversineM(a.lat, a.lon, b.lat, b.lon));
      this.bearings.push(bearingDeg(a.lat, a.lon, b.lat, b.lon));
    }
    this.lengthM = this.cumulativeM[pts.length]!;
    this.turns = this.bearings.map((outgoing, i) => {
      const incoming = this.bearings[(i - 1 + pts.length) % pts.length]!;
      const d = Math.abs(outgoing - incoming) % 360;
      return d > 180 ? 360 - d : d;
    });
  }

  get name(): string {
    return this.definition.name;
  }

  /** Wrap any distance travelled (possibly many laps) into [0, length). */
  wrap(distanceM: number): number {
    const d = distanceM % this.lengthM;
    return d < 0 ? d + this.lengthM : d;
  }

  positionAt(distanceM: number): RoutePosition {
    const d = this.wrap(distanceM);
    const pts = this.definition.waypoints;
    const i = this.segmentAt(d);
    const a = pts[i]!;
    const b = pts[(i + 1) % pts.length]!;
    const segLen = this.cumulativeM[i + 1]! - this.cumulativeM[i]!;
    const f = segLen > 0 ? (d - this.cumulativeM[i]!) / segLen : 0;
    return {
      lat: a.lat + (b.lat - a.lat) * f,
      lon: a.lon + (b.lon - a.lon) * f,
      headingDeg: this.bearings[i]!,
      segment: i,
      distanceM: d,
    };
  }

  /**
   * Height above mean sea level at a distance along the loop: gentle rolling terrain, one
   * hill of TERRAIN_RELIEF_M over the loop, so altitude and grade are not constants.
   */
  altitudeAt(distanceM: number): number {
    return (
      this.definition.altitudeM +
      TERRAIN_RELIEF_M * Math.sin((2 * Math.PI * this.wrap(distanceM)) / this.lengthM)
    );
  }

  /** Road grade at a distance along the loop, %, positive uphill in the direction of travel. */
  gradePctAt(distanceM: number): number {
    const slope =
      ((TERRAIN_RELIEF_M * 2 * Math.PI) / this.lengthM) *
      Math.cos((2 * Math.PI * this.wrap(distanceM)) / this.lengthM);
    return 100 * slope;
  }

  /** The waypoints within `horizonM` ahead of a position, nearest first (crossing the loop's end). */
  waypointsAhead(distanceM: number, horizonM: number): WaypointAhead[] {
    const d = this.wrap(distanceM);
    const pts = this.definition.waypoints;
    const out: WaypointAhead[] = [];
    let i = (this.segmentAt(d) + 1) % pts.length;
    let ahead = this.cumulativeM[this.segmentAt(d) + 1]! - d;
    for (let n = 0; n < pts.length && ahead <= horizonM; n++) {
      if (ahead >= REACHED_M) {
        out.push({ index: i, distanceAheadM: ahead, light: pts[i]!.light === true, turnDeg: this.turns[i]! });
      }
      ahead += this.cumulativeM[i + 1]! - this.cumulativeM[i]!;
      i = (i + 1) % pts.length;
    }
    return out;
  }

  private segmentAt(d: number): number {
    // Binary search over cumulative distances: the last i with cumulative[i] <= d.
    let lo = 0;
    let hi = this.definition.waypoints.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.cumulativeM[mid]! <= d) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

const all = (points: readonly (readonly [number, number])[]): Waypoint[] =>
  points.map(([lat, lon]) => ({ lat, lon, light: true }));

/**
 * Built-in loops over real street grids, one per hemisphere quadrant so that N/S and E/W
 * formatting paths are all exercised. Coordinates are approximate (grid geometry from a corner,
 * block sizes and street bearing); they only need to look like driving on a map.
 */
export const ROUTES: readonly RouteDefinition[] = [
  {
    name: 'nyc-midtown',
    description: '6th Ave north from 42nd St to 57th St, west to 7th Ave, south to 42nd St, east',
    speedLimitKmh: 40, // 25 mph city limit
    altitudeM: 25,
    geoidSeparationM: -32.9,
    waypoints: all([
      [40.75459, -73.98425],
      [40.757752, -73.981936],
      [40.760914, -73.979622],
      [40.764076, -73.977308],
      [40.765253, -73.980112],
      [40.762091, -73.982426],
      [40.758929, -73.98474],
      [40.755767, -73.987054],
    ]),
  },
  {
    name: 'munich-altstadtring',
    description: 'Clockwise round the Altstadtring from Karlsplatz (Stachus)',
    speedLimitKmh: 50,
    altitudeM: 519,
    geoidSeparationM: 47.0,
    waypoints: [
      { lat: 48.1391, lon: 11.5659, light: true }, // Karlsplatz
      { lat: 48.1364, lon: 11.5665 }, // Sonnenstrasse
      { lat: 48.1339, lon: 11.567, light: true }, // Sendlinger Tor
      { lat: 48.1325, lon: 11.571, light: true }, // Blumenstrasse / Muellerstrasse
      { lat: 48.133, lon: 11.5775, light: true }, // Blumenstrasse / Frauenstrasse
      { lat: 48.1348, lon: 11.582, light: true }, // Isartor
      { lat: 48.1388, lon: 11.5852, light: true }, // Maximilianstrasse
      { lat: 48.1424, lon: 11.585, light: true }, // Prinzregentenstrasse
      { lat: 48.1443, lon: 11.5789, light: true }, // Ludwigstrasse
      { lat: 48.1436, lon: 11.5728 }, // Oskar-von-Miller-Ring
      { lat: 48.1419, lon: 11.5697, light: true }, // Maximiliansplatz
      { lat: 48.1404, lon: 11.5675 }, // Lenbachplatz
    ],
  },
  {
    name: 'melbourne-cbd',
    description:
      'Hoddle grid: Flinders St west to Queen St, north to Lonsdale St, east to Swanston St, south',
    speedLimitKmh: 40,
    altitudeM: 15,
    geoidSeparationM: 4.6,
    waypoints: all([
      [-37.8176, 144.967],
      [-37.818218, 144.96485],
      [-37.818836, 144.962699],
      [-37.817138, 144.961917],
      [-37.815439, 144.961134],
      [-37.813741, 144.960352],
      [-37.813122, 144.962502],
      [-37.812504, 144.964652],
      [-37.814203, 144.965434],
      [-37.815901, 144.966217],
    ]),
  },
  {
    name: 'buenos-aires-centro',
    description: 'Microcentro blocks west of Plaza de Mayo, four blocks by three',
    speedLimitKmh: 40,
    altitudeM: 25,
    geoidSeparationM: 14.8,
    waypoints: all([
      [-34.6087, -58.3735],
      [-34.608457, -58.374889],
      [-34.608214, -58.376279],
      [-34.607971, -58.377668],
      [-34.607728, -58.379058],
      [-34.608871, -58.379353],
      [-34.610015, -58.379648],
      [-34.611158, -58.379944],
      [-34.611401, -58.378554],
      [-34.611645, -58.377165],
      [-34.611888, -58.375775],
      [-34.612131, -58.374386],
      [-34.610987, -58.37409],
      [-34.609844, -58.373795],
    ]),
  },
];

/**
 * A motorway loop: waypoints every ~2 km on an ellipse round Munich roughly where the A99 / A8 /
 * A995 / A96 ring runs (not to scale), no lights, corners under 20 degrees so nothing slows the
 * driver but the limit. For highway speed profiles and sustained speeding.
 */
function motorwayRing(): RouteDefinition {
  const [lat0, lon0] = [48.137, 11.575];
  const [northKm, eastKm] = [14, 16];
  const n = 42;
  const waypoints: Waypoint[] = [];
  for (let i = 0; i < n; i++) {
    // Counter-clockwise from the east, so the course turns left by 360/n degrees per waypoint.
    const a = (2 * Math.PI * i) / n;
    waypoints.push({
      lat: lat0 + (northKm / 111.2) * Math.sin(a),
      lon: lon0 + (eastKm / (111.2 * Math.cos(lat0 * RAD))) * Math.cos(a),
    });
  }
  return {
    name: 'munich-motorway-ring',
    description: 'Motorway loop round Munich (approximate ellipse), 120 km/h, no lights',
    speedLimitKmh: 120,
    altitudeM: 520,
    geoidSeparationM: 47.0,
    waypoints,
    kerbStops: false,
  };
}

/** Routes chosen only by name (never by seed, so the seed -> city route mapping stays stable). */
export const EXTRA_ROUTES: readonly RouteDefinition[] = [motorwayRing()];

export function routeNames(): string[] {
  return [...ROUTES, ...EXTRA_ROUTES].map((r) => r.name);
}

export function routeByName(name: string): Route {
  const def = [...ROUTES, ...EXTRA_ROUTES].find((r) => r.name === name);
  if (!def) {
    throw new SimError(
      SimErrorCode.UnknownRoute,
      `unknown route "${name}" (known: ${routeNames().join(', ')})`,
    );
  }
  return new Route(def);
}

/** The built-in route a seed drives on: stable for a seed, spread across seeds. */
export function routeForSeed(seed: number): Route {
  return new Route(ROUTES[(seed >>> 0) % ROUTES.length]!);
}
