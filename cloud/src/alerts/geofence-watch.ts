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
  deleteGeofenceRecords,
  findGeofenceRecords,
  findNextGeofenceRecords,
  findTracks,
  insertHistoryRecords,
  lockLatest,
  type TrackWindow,
} from '../db/queries/geofence-history.ts';
import {
  applyPresenceChanges,
  findLatestPositionsIn,
  findPresence,
} from '../db/queries/geofence-presence.ts';
import { findGeofences, type Geofence } from '../db/queries/geofences.ts';
import { insertAlerts } from '../db/queries/insert-alerts.ts';
import type { StoredTelemetry, TelemetryColumns } from '../db/queries/insert-telemetry-rows.ts';
import {
  containsPoint,
  geofenceAlerts,
  geofenceOccurrences,
  historyTransitions,
  insideGeofences,
  presenceChanges,
} from './geofence.ts';
import { applyRules } from './rules/rule-alerts.ts';

export class GeofenceWatch {
  private readonly byId = new Map<number, Geofence>();
  /** tenant -> its geofence ids as last listed (to forget deleted ones). */
  private readonly idsOf = new Map<string, readonly number[]>();

  /**
   * Presence changes and their alerts for what a group moved; returns the alerts stored. For a
   * backfill group (`historical`: recorded while the vehicle was offline) presence moves as
   * always but nothing alerts: applyHistory() records the change with the rest of the stretch.
   */
  async apply(
    db: pg.ClientBase,
    stored: Pick<StoredTelemetry, 'geofenceIds' | 'moved'>,
    historical = false,
  ): Promise<number> {
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
    if (historical) return 0;
    const fence = (id: number) => this.byId.get(id);
    const rules = await applyRules(db, geofenceOccurrences(made, stored.moved, fence));
    return insertAlerts(
      db,
      geofenceAlerts(made, stored.moved, fence).filter((a) => !rules.ruled(a.tenantId, a.type)),
    );
  }

  /**
   * The entries and exits inside backfilled positions (a group of `historical` batches), after
   * apply(): apply() judges only a vehicle's newest position against its presence, so history
   * that arrives behind the live position would make none. Per vehicle, the positions stored
   * between the one before the group's rows and the one after them are judged in time order, and
   * the records of that stretch are made to match: the missing ones are added, the ones it
   * contradicts taken back (the live path judged the position after a gap against the one before
   * it: "entered" when the vehicle came back online, where the backfill shows it arrived last
   * night), unless a rule made them or someone acted on them.
   *
   * Recorded, not alerted: these are resolved alerts (the history), no rule runs and nothing is
   * delivered. The live position already alerted on the vehicle's state now; a week of a
   * vehicle's visits arriving at once as alerts and notifications is the flood domain.md's alert
   * lessons warn of. Presence is never touched: it is the state at the newest position, which
   * history behind it cannot change.
   *
   * Exactly once without a key of its own: the records are compared with what the stretch's
   * positions say, so a batch replayed after a lost ack (its rows stored already) finds them all
   * there. Backfill groups only (`historical`): live groups pay nothing for it.
   */
  async applyHistory(
    db: pg.ClientBase,
    rows: TelemetryColumns,
    geofenceIds: ReadonlyMap<string, readonly number[]>,
  ): Promise<number> {
    if (geofenceIds.size === 0) return 0;
    await this.refresh(db, geofenceIds);
    const windows = new Map<string, TrackWindow & { tenantId: string }>();
    for (let i = 0; i < rows.seq.length; i++) {
      const tenantId = rows.tenantId[i]!;
      if (!geofenceIds.has(tenantId) || rows.lat[i] === null || rows.lon[i] === null) continue;
      const vehicleId = rows.vehicleId[i]!;
      const ts = rows.tsMs[i]!;
      const w = windows.get(vehicleId);
      if (!w) windows.set(vehicleId, { tenantId, vehicleId, from: ts, to: ts });
      else {
        w.from = Math.min(w.from, ts);
        w.to = Math.max(w.to, ts);
      }
    }
    if (windows.size === 0) return 0;
    await lockLatest(db, [...windows.keys()]);
    let changed = 0;
    for (const track of await findTracks(db, [...windows.values()])) {
      const { tenantId } = windows.get(track.vehicleId)!;
      const fences = (geofenceIds.get(tenantId) ?? []).flatMap((id) => this.byId.get(id) ?? []);
      const first = track.points[0];
      const last = track.points.at(-1);
      if (!first || !last) continue;
      const expected = historyTransitions(track.points, fences, track.before);
      const recorded = await findGeofenceRecords(
        db,
        tenantId,
        track.vehicleId,
        fences.map((g) => g.id),
        {
          after: track.before ? first.ts : null,
          from: first.ts,
          until: last.ts,
        },
      );
      const key = (r: { geofenceId: number; change: string; ts: number }) =>
        `${r.geofenceId}|${r.change}|${r.ts}`;
      const want = new Set(expected.map(key));
      const have = new Set(recorded.map(key));
      // After the stretch, a first record that repeats the state its last position is in (an
      // entry while inside) was the live path's view across the gap: the stretch now has it.
      const next = await findNextGeofenceRecords(db, tenantId, track.vehicleId, last.ts);
      const repeated = next.filter((r) => {
        const g = this.byId.get(r.geofenceId);
        return g && (r.change === 'enter') === containsPoint(g, last.lat, last.lon);
      });
      changed += await deleteGeofenceRecords(db, [
        ...recorded.filter((r) => !r.kept && !want.has(key(r))).map((r) => r.id),
        ...repeated.filter((r) => !r.kept).map((r) => r.id),
      ]);
      changed += await insertHistoryRecords(
        db,
        expected
          .filter((t) => !have.has(key(t)))
          .map((t) => ({
            ...t,
            tenantId,
            vehicleId: track.vehicleId,
            name: this.byId.get(t.geofenceId)!.name,
          })),
      );
    }
    return changed;
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
