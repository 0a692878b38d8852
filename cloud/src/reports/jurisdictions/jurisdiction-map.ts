/**
 * IFTA jurisdictions as polygons: which one a position is in, and where a track segment crosses
 * from one to the next (domain.md, Compliance: split at the boundary, interpolate the crossing,
 * never a straight line from a trip's start to its end).
 *
 * Boundaries are data (a GeoJSON FeatureCollection, `code` per feature); the default set is in
 * default-map.ts, an operator's own file comes in through `fleet-cloud reports boundaries import`.
 * Edges are kept in a grid of 0.1° cells, so a 1 Hz track costs a few edge tests per sample, not
 * one per vertex of the state it is in.
 */
import { haversineM } from '@fleet/shared';
import { CloudError, CloudErrorCode } from '../../errors.ts';

export type Country = 'US' | 'CA';

/** The 48 contiguous states, DC and the 10 provinces that file IFTA returns. */
export interface Jurisdiction {
  code: string;
  name: string;
  country: Country;
}

export interface LatLon {
  lat: number;
  lon: number;
}

/** A stretch of a segment inside one jurisdiction (`null`: outside every one, e.g. Mexico). */
export interface SegmentPiece {
  jurisdiction: string | null;
  from: LatLon;
  to: LatLon;
  metres: number;
  /** Fractions of the whole segment where the piece starts and ends, [0...1]. */
  t0: number;
  t1: number;
}

type Ring = [number, number][]; // [lon, lat] as GeoJSON has it

interface Area {
  jurisdiction: Jurisdiction;
  rings: Ring[]; // outer rings and holes alike: even-odd ray casting handles both
  minLon: number;
  maxLon: number;
  minLat: number;
  maxLat: number;
}

/** Edge i of a ring of an area: from ring[i] to ring[i+1]. */
interface Edge {
  area: number;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

const CELL_DEG = 0.1;
const cellKey = (cx: number, cy: number) => cx * 10_000 + cy;

export class JurisdictionMap {
  private readonly grid = new Map<number, Edge[]>();
  readonly jurisdictions: readonly Jurisdiction[];

  private constructor(
    private readonly areas: Area[],
    /** Where the boundaries came from (named in every return made with them). */
    readonly source: string,
  ) {
    this.jurisdictions = areas.map((a) => a.jurisdiction);
    areas.forEach((area, index) => {
      for (const ring of area.rings)
        for (let i = 0; i + 1 < ring.length; i++) {
          const [x1, y1] = ring[i]!;
          const [x2, y2] = ring[i + 1]!;
          const edge = { area: index, x1, y1, x2, y2 };
          for (let cx = cell(Math.min(x1, x2)); cx <= cell(Math.max(x1, x2)); cx++)
            for (let cy = cell(Math.min(y1, y2)); cy <= cell(Math.max(y1, y2)); cy++) {
              const key = cellKey(cx, cy);
              const list = this.grid.get(key);
              if (list) list.push(edge);
              else this.grid.set(key, [edge]);
            }
        }
    });
  }

  /**
   * Reads a GeoJSON FeatureCollection of Polygon / MultiPolygon features, each with a
   * `properties.code` (or `STUSPS` as Census files have it) naming an IFTA jurisdiction in
   * `known`. Every bad feature is reported at once, by index and code, in one CloudError.
   */
  static fromGeoJson(doc: unknown, known: readonly Jurisdiction[], source: string): JurisdictionMap {
    const byCode = new Map(known.map((j) => [j.code, j]));
    const problems: string[] = [];
    if (!isObject(doc) || doc.type !== 'FeatureCollection' || !Array.isArray(doc.features))
      throw new CloudError(CloudErrorCode.ReportInputInvalid, `${source}: not a GeoJSON FeatureCollection`);
    const merged = new Map<string, Area>();
    for (const [i, f] of (doc.features as unknown[]).entries()) {
      const where = `feature ${i}`;
      if (!isObject(f) || f.type !== 'Feature') {
        problems.push(`${where}: not a Feature`);
        continue;
      }
      const props = isObject(f.properties) ? f.properties : {};
      const rawCode = props.code ?? props.STUSPS ?? props.postal;
      const code = typeof rawCode === 'string' ? rawCode.trim().toUpperCase() : '';
      const j = byCode.get(code);
      if (!j) {
        problems.push(`${where}: code ${JSON.stringify(rawCode ?? null)} is not an IFTA jurisdiction`);
        continue;
      }
      const g = f.geometry;
      if (!isObject(g) || (g.type !== 'Polygon' && g.type !== 'MultiPolygon')) {
        problems.push(`${where} (${code}): geometry must be a Polygon or MultiPolygon`);
        continue;
      }
      const polygons = (g.type === 'Polygon' ? [g.coordinates] : g.coordinates) as unknown;
      const rings: Ring[] = [];
      if (!Array.isArray(polygons)) {
        problems.push(`${where} (${code}): no coordinates`);
        continue;
      }
      const bad = ringsOf(polygons, rings);
      if (bad) {
        problems.push(`${where} (${code}): ${bad}`);
        continue;
      }
      const area = merged.get(code) ?? {
        jurisdiction: j,
        rings: [],
        minLon: Infinity,
        maxLon: -Infinity,
        minLat: Infinity,
        maxLat: -Infinity,
      };
      for (const ring of rings) {
        area.rings.push(ring);
        for (const [x, y] of ring) {
          area.minLon = Math.min(area.minLon, x);
          area.maxLon = Math.max(area.maxLon, x);
          area.minLat = Math.min(area.minLat, y);
          area.maxLat = Math.max(area.maxLat, y);
        }
      }
      merged.set(code, area);
    }
    if (problems.length > 0)
      throw new CloudError(
        CloudErrorCode.ReportInputInvalid,
        `${source}: ${problems.length} bad feature(s): ${problems.slice(0, 20).join('; ')}`,
      );
    if (merged.size === 0) throw new CloudError(CloudErrorCode.ReportInputInvalid, `${source}: no features`);
    return new JurisdictionMap([...merged.values()], source);
  }

  /** The jurisdiction a position is in, or null (outside all, or exactly on a shared edge's far side). */
  locate(lat: number, lon: number): string | null {
    for (const area of this.areas) {
      if (lon < area.minLon || lon > area.maxLon || lat < area.minLat || lat > area.maxLat) continue;
      if (insideRings(area.rings, lon, lat)) return area.jurisdiction.code;
    }
    return null;
  }

  /**
   * Splits the segment a→b where it crosses an edge (positions interpolated linearly in degrees,
   * which is where a boundary drawn as straight lines in degrees is crossed: exact for the
   * parallel and meridian borders) and names each piece's jurisdiction by its midpoint.
   * `fromJurisdiction`, when the caller knows it (the previous piece's), saves the first lookup.
   */
  splitSegment(a: LatLon, b: LatLon, fromJurisdiction?: string | null): SegmentPiece[] {
    const ts = [0, 1];
    // An end exactly on a boundary is no crossing, but then the caller's jurisdiction for the
    // start may be the neighbour's: look the piece up instead of trusting it.
    let touches = false;
    for (const e of this.edgesNear(a, b)) {
      const t = crossing(a.lon, a.lat, b.lon, b.lat, e);
      if (t === null || t < 0 || t > 1) continue;
      if (t > 0 && t < 1) ts.push(t);
      else touches = true;
    }
    ts.sort((x, y) => x - y);
    const at = (t: number): LatLon => ({
      lat: a.lat + (b.lat - a.lat) * t,
      lon: a.lon + (b.lon - a.lon) * t,
    });
    const pieces: SegmentPiece[] = [];
    for (let i = 0; i + 1 < ts.length; i++) {
      const t0 = ts[i]!;
      const t1 = ts[i + 1]!;
      if (t1 - t0 < 1e-12) continue;
      const mid = at((t0 + t1) / 2);
      const jurisdiction =
        ts.length === 2 && !touches && fromJurisdiction !== undefined
          ? fromJurisdiction
          : this.locate(mid.lat, mid.lon);
      const from = at(t0);
      const to = at(t1);
      const last = pieces.at(-1);
      if (last && last.jurisdiction === jurisdiction) {
        last.to = to;
        last.t1 = t1;
        last.metres = haversineM(last.from.lat, last.from.lon, to.lat, to.lon);
        continue;
      }
      pieces.push({ jurisdiction, from, to, t0, t1, metres: haversineM(from.lat, from.lon, to.lat, to.lon) });
    }
    return pieces;
  }

  private edgesNear(a: LatLon, b: LatLon): Set<Edge> {
    const out = new Set<Edge>();
    for (let cx = cell(Math.min(a.lon, b.lon)); cx <= cell(Math.max(a.lon, b.lon)); cx++)
      for (let cy = cell(Math.min(a.lat, b.lat)); cy <= cell(Math.max(a.lat, b.lat)); cy++)
        for (const e of this.grid.get(cellKey(cx, cy)) ?? []) out.add(e);
    return out;
  }
}

function cell(deg: number): number {
  return Math.floor(deg / CELL_DEG);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Fills `rings` from a MultiPolygon's coordinates; the first problem found, or null. */
function ringsOf(polygons: unknown[], rings: Ring[]): string | null {
  for (const poly of polygons) {
    if (!Array.isArray(poly)) return 'a polygon is not an array of rings';
    for (const ring of poly) {
      const checked = checkRing(ring);
      if (typeof checked === 'string') return checked;
      rings.push(checked);
    }
  }
  return null;
}

function checkRing(ring: unknown): Ring | string {
  if (!Array.isArray(ring) || ring.length < 4) return 'a ring needs at least 4 positions';
  const out: Ring = [];
  for (const [k, p] of ring.entries()) {
    if (!Array.isArray(p) || typeof p[0] !== 'number' || typeof p[1] !== 'number')
      return `position ${k} is not [lon, lat]`;
    const [lon, lat] = p as [number, number];
    if (!Number.isFinite(lon) || !Number.isFinite(lat) || Math.abs(lon) > 180 || Math.abs(lat) > 90)
      return `position ${k} [${lon}, ${lat}] is outside [-180...180] x [-90...90]`;
    out.push([lon, lat]);
  }
  const first = out[0]!;
  const last = out.at(-1)!;
  // RFC 7946 wants closed rings; close an open one rather than lose its last edge.
  if (first[0] !== last[0] || first[1] !== last[1]) out.push([first[0], first[1]]);
  return out;
}

/** Even-odd ray casting towards +lon over every ring (holes flip the parity back). */
function insideRings(rings: Ring[], x: number, y: number): boolean {
  let inside = false;
  for (const ring of rings)
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i]!;
      const [xj, yj] = ring[j]!;
      if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
    }
  return inside;
}

/** Where along p1→p2 (t in [0, 1]) the segment meets the edge, or null (parallel or apart). */
function crossing(x1: number, y1: number, x2: number, y2: number, e: Edge): number | null {
  const dx = x2 - x1;
  const dy = y2 - y1;
  const ex = e.x2 - e.x1;
  const ey = e.y2 - e.y1;
  const den = dx * ey - dy * ex;
  if (den === 0) return null;
  const t = ((e.x1 - x1) * ey - (e.y1 - y1) * ex) / den;
  const s = ((e.x1 - x1) * dy - (e.y1 - y1) * dx) / den;
  return s >= 0 && s <= 1 ? t : null;
}
