import type pg from 'pg';

/** A stored position of one vehicle, as the backfill judgement reads it (time in epoch ms). */
export interface TrackPoint {
  ts: number;
  lat: number;
  lon: number;
}

/** The time range a backfill group stored for one vehicle (epoch ms, both ends included). */
export interface TrackWindow {
  vehicleId: string;
  from: number;
  to: number;
}

/**
 * Locks the vehicles' latest rows, in key order (the order the group statement locks them in),
 * until COMMIT: a live group moving one of them elsewhere waits, or is waited for, so the
 * stretch read next holds its position and the record it made.
 */
export async function lockLatest(db: pg.ClientBase, vehicleIds: readonly string[]): Promise<void> {
  if (vehicleIds.length === 0) return;
  await db.query(
    'SELECT 1 FROM vehicle_latest WHERE vehicle_id = ANY($1::text[]) ORDER BY vehicle_id FOR UPDATE',
    [vehicleIds],
  );
}

/** A vehicle's stored positions around a window: the one before it, all within, the one after. */
export interface Track {
  vehicleId: string;
  points: TrackPoint[];
  /** The first point is the position stored before the window. */
  before: boolean;
}

/**
 * Stored positions (with lat and lon) of each window, oldest first, with the neighbours that
 * bound it: the entries and exits inside the window are judged against them. Reads what the
 * caller's transaction stored too, so the rows of the group are part of the track.
 */
export async function findTracks(db: pg.ClientBase, windows: readonly TrackWindow[]): Promise<Track[]> {
  if (windows.length === 0) return [];
  const { rows } = await db.query<{ vehicle_id: string; part: number; ts: number; lat: number; lon: number }>(
    `WITH w AS (
       SELECT v, to_timestamp(f / 1000.0) AS f, to_timestamp(t / 1000.0) AS t
         FROM unnest($1::text[], $2::float8[], $3::float8[]) AS w(v, f, t))
     SELECT w.v AS vehicle_id, p.part, extract(epoch FROM p.ts)::float8 * 1000 AS ts, p.lat, p.lon
       FROM w CROSS JOIN LATERAL (
         (SELECT 0 AS part, ts, seq, lat, lon FROM telemetry
           WHERE vehicle_id = w.v AND ts < w.f AND lat IS NOT NULL AND lon IS NOT NULL
           ORDER BY ts DESC, seq DESC LIMIT 1)
         UNION ALL
         (SELECT 1, ts, seq, lat, lon FROM telemetry
           WHERE vehicle_id = w.v AND ts BETWEEN w.f AND w.t AND lat IS NOT NULL AND lon IS NOT NULL)
         UNION ALL
         (SELECT 2, ts, seq, lat, lon FROM telemetry
           WHERE vehicle_id = w.v AND ts > w.t AND lat IS NOT NULL AND lon IS NOT NULL
           ORDER BY ts, seq LIMIT 1)) p
      ORDER BY w.v, p.ts, p.seq`,
    [windows.map((w) => w.vehicleId), windows.map((w) => w.from), windows.map((w) => w.to)],
  );
  const tracks = new Map<string, Track>();
  for (const r of rows) {
    const t = tracks.get(r.vehicle_id) ?? { vehicleId: r.vehicle_id, points: [], before: r.part === 0 };
    tracks.set(r.vehicle_id, t);
    t.points.push({ ts: r.ts, lat: r.lat, lon: r.lon });
  }
  return [...tracks.values()];
}

/** A recorded entry or exit (a geofence alert, open or not), as the backfill judgement compares it. */
export interface GeofenceRecord {
  id: number;
  geofenceId: number;
  change: 'enter' | 'exit';
  ts: number;
  /** Made by a rule, or acted on by someone: never taken back. */
  kept: boolean;
}

/**
 * Per geofence, the vehicle's first record after `after`: the live path may have recorded the
 * change across a gap at the end of its batch, past the first position after the gap.
 */
export async function findNextGeofenceRecords(
  db: pg.ClientBase,
  tenantId: string,
  vehicleId: string,
  after: number,
): Promise<GeofenceRecord[]> {
  const { rows } = await db.query<{
    id: number;
    geofence_id: number;
    type: string;
    ts: number;
    kept: boolean;
  }>(
    `SELECT DISTINCT ON (geofence_id) id, geofence_id, type, extract(epoch FROM ts)::float8 * 1000 AS ts,
            (rule_id IS NOT NULL OR (status <> 'open' AND resolved_by IS DISTINCT FROM $4)) AS kept
       FROM alerts
      WHERE tenant_id = $1 AND vehicle_id = $2 AND type IN ('geofence_enter', 'geofence_exit')
        AND geofence_id IS NOT NULL AND ts > to_timestamp($3 / 1000.0)
      ORDER BY geofence_id, ts, id`,
    [tenantId, vehicleId, after, HISTORY_RESOLVER],
  );
  return rows.map((r) => ({
    id: r.id,
    geofenceId: r.geofence_id,
    change: r.type === 'geofence_enter' ? 'enter' : 'exit',
    ts: r.ts,
    kept: r.kept,
  }));
}

/** Who resolves the entries and exits recorded from backfilled positions (never alerted). */
export const HISTORY_RESOLVER = 'system:history';

/**
 * The vehicle's records of these geofences in (after, until], or [from, until] when nothing is
 * stored before. Only geofences that still exist: a deleted one's past records are never judged.
 */
export async function findGeofenceRecords(
  db: pg.ClientBase,
  tenantId: string,
  vehicleId: string,
  geofenceIds: readonly number[],
  range: { after: number | null; from: number; until: number },
): Promise<GeofenceRecord[]> {
  const { rows } = await db.query<{
    id: number;
    geofence_id: number;
    type: string;
    ts: number;
    kept: boolean;
  }>(
    `SELECT id, geofence_id, type, extract(epoch FROM ts)::float8 * 1000 AS ts,
            (rule_id IS NOT NULL OR (status <> 'open' AND resolved_by IS DISTINCT FROM $5)) AS kept
       FROM alerts
      WHERE tenant_id = $1 AND vehicle_id = $2 AND type IN ('geofence_enter', 'geofence_exit')
        AND geofence_id = ANY($7::bigint[])
        AND ts > coalesce(to_timestamp($3 / 1000.0), to_timestamp($4 / 1000.0) - interval '1 microsecond')
        AND ts <= to_timestamp($6 / 1000.0)`,
    [tenantId, vehicleId, range.after, range.from, HISTORY_RESOLVER, range.until, geofenceIds],
  );
  return rows.map((r) => ({
    id: r.id,
    geofenceId: r.geofence_id,
    change: r.type === 'geofence_enter' ? 'enter' : 'exit',
    ts: r.ts,
    kept: r.kept,
  }));
}

/**
 * Records entries and exits of the past: stored as alerts already resolved, so they are in the
 * history (the alerts list, rule previews) without opening anything anyone must act on.
 */
export async function insertHistoryRecords(
  db: pg.ClientBase,
  records: readonly {
    tenantId: string;
    vehicleId: string;
    geofenceId: number;
    name: string;
    change: 'enter' | 'exit';
    ts: number;
    lat: number;
    lon: number;
  }[],
): Promise<number> {
  if (records.length === 0) return 0;
  const { rowCount } = await db.query(
    `INSERT INTO alerts (tenant_id, vehicle_id, type, severity, status, title, ts, lat, lon, geofence_id,
                         details, resolved_at, resolved_by, resolution_note)
     SELECT t, v, type, 'info', 'resolved', title, to_timestamp(ts / 1000.0), lat, lon, g,
            jsonb_build_object('geofence', name, 'backfill', true), now(), $10,
            'Recorded from backfilled positions, not alerted'
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::float8[],
                   $7::float8[], $8::bigint[], $9::text[]) AS r(t, v, type, title, ts, lat, lon, g, name)`,
    [
      records.map((r) => r.tenantId),
      records.map((r) => r.vehicleId),
      records.map((r) => (r.change === 'enter' ? 'geofence_enter' : 'geofence_exit')),
      records.map((r) => `${r.change === 'enter' ? 'Entered' : 'Left'} ${r.name}`),
      records.map((r) => r.ts),
      records.map((r) => r.lat),
      records.map((r) => r.lon),
      records.map((r) => r.geofenceId),
      records.map((r) => r.name),
      HISTORY_RESOLVER,
    ],
  );
  return rowCount ?? 0;
}

/** Takes back records the backfilled positions contradict (only ones nobody acted on). */
export async function deleteGeofenceRecords(db: pg.ClientBase, ids: readonly number[]): Promise<number> {
  if (ids.length === 0) return 0;
  const { rowCount } = await db.query('DELETE FROM alerts WHERE id = ANY($1::bigint[])', [ids]);
  return rowCount ?? 0;
}
