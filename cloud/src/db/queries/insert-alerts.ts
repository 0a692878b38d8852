import type pg from 'pg';
import type { ALERT_TYPES } from './alerts.ts';

export type AlertType = (typeof ALERT_TYPES)[number];
export type AlertSeverity = 'critical' | 'warning' | 'info';

/** An alert decided by cloud/src/alerts, not yet stored. Times in epoch ms. */
export interface NewAlert {
  tenantId: string;
  vehicleId: string;
  type: AlertType;
  severity: AlertSeverity;
  title: string;
  /** When it happened (the event's start, the position's time), not when it is stored. */
  ts: number;
  lat: number | null;
  lon: number | null;
  /** The source: a vehicle event (tenant, vehicle, event id) or a geofence. */
  eventId: number | null;
  geofenceId: number | null;
  details: Record<string, unknown>;
}

/**
 * Stores alerts in one statement over arrays; an event's alert exists at most once whatever
 * redelivers it (UNIQUE (tenant_id, vehicle_id, event_id); geofence alerts have no event id and
 * never collide). Returns how many were new. Runs in the caller's transaction, as the owner:
 * fleet_app may not insert alerts.
 */
export async function insertAlerts(db: pg.ClientBase, alerts: readonly NewAlert[]): Promise<number> {
  if (alerts.length === 0) return 0;
  const { rowCount } = await db.query(
    `INSERT INTO alerts (tenant_id, vehicle_id, type, severity, title, ts, lat, lon, event_id, geofence_id, details)
     SELECT t, v, type, sev, title, to_timestamp(ts / 1000.0), lat, lon, ev, g, d
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::float8[], $7::float8[],
                   $8::float8[], $9::bigint[], $10::bigint[], $11::jsonb[])
            AS a(t, v, type, sev, title, ts, lat, lon, ev, g, d)
     ON CONFLICT (tenant_id, vehicle_id, event_id) DO NOTHING`,
    [
      alerts.map((a) => a.tenantId),
      alerts.map((a) => a.vehicleId),
      alerts.map((a) => a.type),
      alerts.map((a) => a.severity),
      alerts.map((a) => a.title),
      alerts.map((a) => a.ts),
      alerts.map((a) => a.lat),
      alerts.map((a) => a.lon),
      alerts.map((a) => a.eventId),
      alerts.map((a) => a.geofenceId),
      alerts.map((a) => JSON.stringify(a.details)),
    ],
  );
  return rowCount ?? 0;
}
