/**
 * Geofence presence: which vehicles are inside which geofence, and what a move changes.
 *
 *   moved positions ──insideGeofences──> inside pairs ──presenceChanges(present)──> entered, exited
 *                                                              └──geofenceAlerts──> alerts
 *
 * Pure decisions (no database): geofence-watch.ts feeds them what a group of samples moved and
 * stores what comes out. Only a change of presence alerts: a vehicle standing inside, or one
 * already inside when the geofence was drawn, raises nothing.
 */

import type { TrackPoint } from '../db/queries/geofence-history.ts';
import type { Presence, PresenceChange } from '../db/queries/geofence-presence.ts';
import type { Geofence } from '../db/queries/geofences.ts';
import type { NewAlert } from '../db/queries/insert-alerts.ts';
import type { MovedPosition } from '../db/queries/insert-telemetry-rows.ts';
import type { Occurrence } from './rules/engine.ts';

/** The bounding box stored with a polygon, for the first, cheap test. */
export function boundingBox(
  lats: readonly number[],
  lons: readonly number[],
): Pick<Geofence, 'minLat' | 'maxLat' | 'minLon' | 'maxLon'> {
  return {
    minLat: Math.min(...lats),
    maxLat: Math.max(...lats),
    minLon: Math.min(...lons),
    maxLon: Math.max(...lons),
  };
}

/**
 * Bounding box first (cheap, and most positions are far from most geofences), then even-odd ray
 * casting on plain lat/lon. A point exactly on an edge may fall either way; one on the bounding
 * box's border passes the first test.
 */
export function containsPoint(g: Geofence, lat: number, lon: number): boolean {
  if (lat < g.minLat || lat > g.maxLat || lon < g.minLon || lon > g.maxLon) return false;
  const { lats, lons } = g;
  let inside = false;
  for (let i = 0, j = lats.length - 1; i < lats.length; j = i++) {
    const [latI, latJ, lonI, lonJ] = [lats[i]!, lats[j]!, lons[i]!, lons[j]!];
    if (latI > lat !== latJ > lat && lon < ((lonJ - lonI) * (lat - latI)) / (latJ - latI) + lonI)
      inside = !inside;
  }
  return inside;
}

/** Every (geofence, vehicle) pair where a moved position lies inside one of its tenant's geofences. */
export function insideGeofences(
  moved: readonly MovedPosition[],
  fencesOf: (tenantId: string) => readonly Geofence[],
): Presence[] {
  const inside: Presence[] = [];
  for (const m of moved) {
    for (const g of fencesOf(m.tenantId)) {
      if (containsPoint(g, m.lat, m.lon)) inside.push({ geofenceId: g.id, vehicleId: m.vehicleId });
    }
  }
  return inside;
}

/**
 * What the moves change, given where the moved vehicles were (`present`: their presence rows
 * before the move, in the geofences `inside` was tested against; a geofence drawn since is not
 * left by anyone): an entry for each pair inside now and not before, an exit for each pair of
 * a moved vehicle that was inside and is not now.
 */
export function presenceChanges(
  moved: readonly MovedPosition[],
  present: readonly Presence[],
  inside: readonly Presence[],
): PresenceChange[] {
  const key = (p: Presence) => `${p.geofenceId}\u0000${p.vehicleId}`;
  const before = new Set(present.map(key));
  const now = new Set(inside.map(key));
  const movedIds = new Set(moved.map((m) => m.vehicleId));
  const changes: PresenceChange[] = [];
  for (const p of inside) if (!before.has(key(p))) changes.push({ ...p, change: 'enter' });
  for (const p of present) {
    if (movedIds.has(p.vehicleId) && !now.has(key(p))) changes.push({ ...p, change: 'exit' });
  }
  return changes;
}

/** The alerts for changes that happened, at the position that made them, where the geofence asks. */
export function geofenceAlerts(
  changes: readonly PresenceChange[],
  moved: readonly MovedPosition[],
  fence: (geofenceId: number) => Geofence | undefined,
): NewAlert[] {
  const at = new Map(moved.map((m) => [m.vehicleId, m]));
  const alerts: NewAlert[] = [];
  for (const c of changes) {
    const g = fence(c.geofenceId);
    const m = at.get(c.vehicleId);
    if (!g || !m) continue;
    if (c.change === 'enter' ? !g.alertOnEnter : !g.alertOnExit) continue;
    alerts.push({
      tenantId: m.tenantId,
      vehicleId: m.vehicleId,
      type: c.change === 'enter' ? 'geofence_enter' : 'geofence_exit',
      severity: 'info',
      title: `${c.change === 'enter' ? 'Entered' : 'Left'} ${g.name}`,
      ts: m.ts,
      lat: m.lat,
      lon: m.lon,
      eventId: null,
      geofenceId: g.id,
      details: { geofence: g.name },
    });
  }
  return alerts;
}

/** Every entry and exit (whatever the geofence's own alert flags say) for the tenants' rules. */
export function geofenceOccurrences(
  changes: readonly PresenceChange[],
  moved: readonly MovedPosition[],
  fence: (geofenceId: number) => Geofence | undefined,
): Occurrence[] {
  const at = new Map(moved.map((m) => [m.vehicleId, m]));
  return changes.flatMap((c) => {
    const g = fence(c.geofenceId);
    const m = at.get(c.vehicleId);
    if (!g || !m) return [];
    return [
      {
        tenantId: m.tenantId,
        vehicleId: m.vehicleId,
        kind: c.change === 'enter' ? 'geofence_enter' : 'geofence_exit',
        ts: m.ts,
        end: m.ts,
        lat: m.lat,
        lon: m.lon,
        volumeL: null,
        confidence: null,
        eventId: null,
        geofenceId: g.id,
        title: `${c.change === 'enter' ? 'Entered' : 'Left'} ${g.name}`,
        details: { geofence: g.name },
      },
    ];
  });
}

/** One entry or exit found in a vehicle's stored positions: at the position that made it. */
export interface HistoryTransition extends TrackPoint {
  geofenceId: number;
  change: 'enter' | 'exit';
}

/**
 * Every entry and exit along a vehicle's stored positions in time order (`track`, oldest first):
 * one wherever two consecutive positions differ in a geofence. `before` says whether the first
 * position is the one stored before the window (its own entry was judged then); without it the
 * vehicle counts as outside before its first position, as the live path counts a vehicle with no
 * presence. Only changes the geofence records (its alert flags) are returned, as live.
 */
export function historyTransitions(
  track: readonly TrackPoint[],
  fences: readonly Geofence[],
  before: boolean,
): HistoryTransition[] {
  const out: HistoryTransition[] = [];
  for (const g of fences) {
    let inside = false;
    track.forEach((p, i) => {
      const now = containsPoint(g, p.lat, p.lon);
      if ((i > 0 || !before) && now !== inside && (now ? g.alertOnEnter : g.alertOnExit))
        out.push({ ...p, geofenceId: g.id, change: now ? 'enter' : 'exit' });
      inside = now;
    });
  }
  return out.sort((a, b) => a.ts - b.ts || a.geofenceId - b.geofenceId);
}
