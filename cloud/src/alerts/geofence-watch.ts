/**
 *   group statement ──(geofence ids per tenant, moved positions)──> GeofenceWatch.apply
 *       ──> polygons (cached by id) ──> insideGeofences ──> presence before ──> presenceChanges
 *       ──> applyPresenceChanges (what really changed) ──> geofenceAlerts ──> insertAlerts
 *
 * Runs inside the transaction that moved the positions, after it: the rows of vehicle_latest it
 * moved stay locked until COMMIT, so another ingest moving the same vehicle waits, and the
 * presence read here (a statement of its own, so a fresh snapshot) already holds that one's
 * changes. A group of tenants without geofences costs nothing here (nothing moved is returned).
 *
 * Polygons are cached per process by id: a geofence is never edited, so an id is one polygon for
 * good, and the group statement lists each tenant's current ids, so a geofence created or deleted
 * by the API (another process) is seen by the next group, with one query to load a new one.
 */
import type pg from 'pg';
import {
  applyPresenceChanges,
  findLatestPositionsIn,
  findPresence,
} from '../db/queries/geofence-presence.ts';
import { findGeofences, type Geofence } from '../db/queries/geofences.ts';
import { insertAlerts } from '../db/queries/insert-alerts.ts';
import type { StoredTelemetry } from '../db/queries/insert-telemetry-rows.ts';
import {
  containsPoint,
  geofenceAlerts,
  geofenceOccurrences,
  insideGeofences,
  presenceChanges,
} from './geofence.ts';
import { applyRules } from './rules/rule-alerts.ts';

export class GeofenceWatch {
  private readonly byId = new Map<number, Geofence>();
  /** tenant -> its geofence ids as last listed (to forget deleted ones). */
  private readonly idsOf = new Map<string, readonly number[]>();

  /** Presence changes and their alerts for what a group moved; returns the alerts stored. */
  async apply(db: pg.ClientBase, stored: Pick<StoredTelemetry, 'geofenceIds' | 'moved'>): Promise<number> {
    if (stored.moved.length === 0) return 0;
    await this.refresh(db, stored.geofenceIds);
    const fencesOf = (tenantId: string) =>
      (stored.geofenceIds.get(tenantId) ?? []).flatMap((id) => this.byId.get(id) ?? []);
    const tested = [...stored.geofenceIds.values()].flat();
    const inside = insideGeofences(stored.moved, fencesOf);
    const present = await findPresence(
      db,
      stored.moved.map((m) => m.vehicleId),
      tested,
    );
    const changes = presenceChanges(stored.moved, present, inside);
    if (changes.length === 0) return 0;
    const at = new Map(stored.moved.map((m) => [m.vehicleId, m]));
    const made = await applyPresenceChanges(
      db,
      changes.map((c) => ({ ...c, tenantId: at.get(c.vehicleId)!.tenantId, ts: at.get(c.vehicleId)!.ts })),
    );
    const fence = (id: number) => this.byId.get(id);
    const rules = await applyRules(db, geofenceOccurrences(made, stored.moved, fence));
    return insertAlerts(
      db,
      geofenceAlerts(made, stored.moved, fence).filter((a) => !rules.ruled(a.tenantId, a.type)),
    );
  }

  /** Loads the polygons not cached yet and forgets the ones a tenant no longer lists. */
  private async refresh(db: pg.ClientBase, idsByTenant: ReadonlyMap<string, readonly number[]>) {
    const missing: number[] = [];
    for (const [tenantId, ids] of idsByTenant) {
      const listed = new Set(ids);
      for (const old of this.idsOf.get(tenantId) ?? []) if (!listed.has(old)) this.byId.delete(old);
      this.idsOf.set(tenantId, ids);
      for (const id of ids) if (!this.byId.has(id)) missing.push(id);
    }
    for (const g of await findGeofences(db, missing)) this.byId.set(g.id, g);
  }
}

/**
 * A new geofence starts with the vehicles already inside it: standing in the depot while it is
 * drawn is not an entry. Runs in the API's transaction that created it, as the tenant.
 */
export async function recordVehiclesInside(db: pg.ClientBase, g: Geofence): Promise<number> {
  const positions = await findLatestPositionsIn(db, g.tenantId, g);
  const inside = positions.filter((p) => containsPoint(g, p.lat, p.lon));
  const made = await applyPresenceChanges(
    db,
    inside.map((p) => ({
      change: 'enter',
      geofenceId: g.id,
      vehicleId: p.vehicleId,
      tenantId: g.tenantId,
      ts: p.ts,
    })),
  );
  return made.length;
}
