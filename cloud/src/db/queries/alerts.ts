import type pg from 'pg';
import { HISTORY_RESOLVER } from './geofence-history.ts';

export const ALERT_TYPES = [
  'fuel_drain',
  'fuel_leak',
  'engine_anomaly',
  'dtc',
  'battery',
  'speeding',
  'long_idle',
  'geofence_enter',
  'geofence_exit',
] as const;
export const ALERT_STATUSES = ['open', 'acknowledged', 'resolved'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

export interface Alert {
  id: number;
  vehicleId: string | null;
  type: string;
  severity: string;
  status: AlertStatus;
  title: string;
  ts: number;
  lat: number | null;
  lon: number | null;
  geofenceId: number | null;
  details: Record<string, unknown>;
  createdAt: number;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
  resolvedAt: number | null;
  resolvedBy: string | null;
  resolutionNote: string | null;
}

interface Row {
  id: number;
  vehicle_id: string | null;
  type: string;
  severity: string;
  status: AlertStatus;
  title: string;
  ts: Date;
  lat: number | null;
  lon: number | null;
  geofence_id: number | null;
  details: Record<string, unknown>;
  created_at: Date;
  acknowledged_at: Date | null;
  acknowledged_by: string | null;
  resolved_at: Date | null;
  resolved_by: string | null;
  resolution_note: string | null;
}

export const ALERT_COLUMNS = `id, vehicle_id, type, severity, status, title, ts, lat, lon, geofence_id, details,
  created_at, acknowledged_at, acknowledged_by, resolved_at, resolved_by, resolution_note`;

export const toAlert = (r: Row): Alert => ({
  id: r.id,
  vehicleId: r.vehicle_id,
  type: r.type,
  severity: r.severity,
  status: r.status,
  title: r.title,
  ts: r.ts.getTime(),
  lat: r.lat,
  lon: r.lon,
  geofenceId: r.geofence_id,
  details: r.details,
  createdAt: r.created_at.getTime(),
  acknowledgedAt: r.acknowledged_at?.getTime() ?? null,
  acknowledgedBy: r.acknowledged_by,
  resolvedAt: r.resolved_at?.getTime() ?? null,
  resolvedBy: r.resolved_by,
  resolutionNote: r.resolution_note,
});

export interface AlertFilter {
  tenantId: string;
  statuses: AlertStatus[] | null;
  types: string[] | null;
  vehicleId: string | null;
  from: number | null;
  to: number | null;
}

/** WHERE clause for a filter, parameters $1...$6; `withStatus` false leaves status out (counts). */
function where(withStatus: boolean) {
  return `tenant_id = $1 ${withStatus ? 'AND ($2::text[] IS NULL OR status = ANY ($2))' : 'AND ($2::text[] IS NULL OR true)'}
      AND ($3::text[] IS NULL OR type = ANY ($3)) AND ($4::text IS NULL OR vehicle_id = $4)
      AND ($5::float8 IS NULL OR ts >= to_timestamp($5 / 1000.0))
      AND ($6::float8 IS NULL OR ts < to_timestamp($6 / 1000.0))`;
}
const params = (f: AlertFilter) => [f.tenantId, f.statuses, f.types, f.vehicleId, f.from, f.to];

/** Newest first by (ts, id), after the cursor. */
export async function listAlerts(
  db: pg.PoolClient,
  f: AlertFilter,
  limit: number,
  after: { ts: number; id: number } | null,
): Promise<Alert[]> {
  const { rows } = await db.query<Row>(
    `SELECT ${ALERT_COLUMNS} FROM alerts
      WHERE ${where(true)}
        AND ($7::float8 IS NULL OR (ts, id) < (to_timestamp($7 / 1000.0), $8::bigint))
      ORDER BY ts DESC, id DESC LIMIT $9`,
    [...params(f), after?.ts ?? null, after?.id ?? null, limit],
  );
  return rows.map(toAlert);
}

/** How many alerts match the other filters, per status (the inbox's tabs). */
export async function countAlertsByStatus(
  db: pg.PoolClient,
  f: AlertFilter,
): Promise<Record<AlertStatus, number>> {
  const { rows } = await db.query<{ status: AlertStatus; n: number }>(
    `SELECT status, count(*)::int AS n FROM alerts WHERE ${where(false)} GROUP BY status`,
    params(f),
  );
  const out: Record<AlertStatus, number> = { open: 0, acknowledged: 0, resolved: 0 };
  for (const r of rows) out[r.status] = r.n;
  return out;
}

export async function getAlert(db: pg.PoolClient, tenantId: string, id: number): Promise<Alert | null> {
  const { rows } = await db.query<Row>(
    `SELECT ${ALERT_COLUMNS} FROM alerts WHERE tenant_id = $1 AND id = $2`,
    [tenantId, id],
  );
  return rows[0] ? toAlert(rows[0]) : null;
}

/** Alerts stored since `since` (epoch ms, by created_at), oldest first: the live feed's query. */
export async function alertsCreatedSince(
  db: pg.PoolClient,
  tenantId: string,
  since: number | null,
): Promise<Alert[]> {
  const { rows } = await db.query<Row>(
    `SELECT ${ALERT_COLUMNS} FROM alerts
      WHERE tenant_id = $1 AND created_at > coalesce(to_timestamp($2 / 1000.0), now()) - interval '5 seconds'
        AND resolved_by IS DISTINCT FROM $3
      ORDER BY id LIMIT 1000`,
    // History recorded from backfill is no news: a week of it must not pour into open dashboards.
    [tenantId, since, HISTORY_RESOLVER],
  );
  return rows.map(toAlert);
}
