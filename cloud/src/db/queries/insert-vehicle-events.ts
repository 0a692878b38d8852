import type { VehicleEvent, VehicleEventType } from '@fleet/shared';
import type pg from 'pg';

export interface VehicleEventRow {
  tenantId: string;
  vehicleId: string;
  event: VehicleEvent;
}

/** An event as the database stored it (`real` columns rounded to float4), times in epoch ms. */
export interface StoredVehicleEvent {
  vehicleId: string;
  eventId: number;
  type: VehicleEventType;
  start: number;
  end: number;
  volumeL: number | null;
  lat: number | null;
  lon: number | null;
  driverId: string | null;
  confidence: number;
  details: Record<string, unknown>;
}

/** One this ingest inserted, with its tenant. */
export type InsertedVehicleEvent = StoredVehicleEvent & { tenantId: string };

/** A vehicle_events row as node-postgres reads it (bigint as number: db/pool.ts). */
export interface VehicleEventDbRow {
  tenant_id: string;
  vehicle_id: string;
  event_id: number;
  type: VehicleEventType;
  start_ts: Date;
  end_ts: Date;
  volume_l: number | null;
  lat: number | null;
  lon: number | null;
  driver_id: string | null;
  confidence: number;
  details: Record<string, unknown>;
}

export const toStoredVehicleEvent = (r: Omit<VehicleEventDbRow, 'tenant_id'>): StoredVehicleEvent => ({
  vehicleId: r.vehicle_id,
  eventId: r.event_id,
  type: r.type,
  start: r.start_ts.getTime(),
  end: r.end_ts.getTime(),
  volumeL: r.volume_l,
  lat: r.lat,
  lon: r.lon,
  driverId: r.driver_id,
  confidence: r.confidence,
  details: r.details,
});

/**
 * Idempotent on (tenant, vehicle, event id): a redelivered or resent batch inserts nothing.
 * One statement over arrays (graphile-worker style), never SQL built from values. Returns the
 * rows that were new, as stored: what follows from an event (its alert) follows once.
 */
export async function insertVehicleEvents(
  db: pg.ClientBase,
  rows: readonly VehicleEventRow[],
): Promise<InsertedVehicleEvent[]> {
  if (rows.length === 0) return [];
  const { rows: stored } = await db.query<VehicleEventDbRow>(
    `INSERT INTO vehicle_events (tenant_id, vehicle_id, event_id, type, start_ts, end_ts, volume_l, lat, lon,
                                 driver_id, confidence, model_version, details)
     SELECT t, v, id, type, to_timestamp(s / 1000.0), to_timestamp(e / 1000.0), vol, lat, lon, drv, conf, mv, d
       FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::float8[], $6::float8[], $7::float8[],
                   $8::float8[], $9::float8[], $10::text[], $11::float8[], $12::text[], $13::jsonb[])
            AS r(t, v, id, type, s, e, vol, lat, lon, drv, conf, mv, d)
     ON CONFLICT (tenant_id, vehicle_id, event_id) DO NOTHING
     RETURNING tenant_id, vehicle_id, event_id, type, start_ts, end_ts, volume_l, lat, lon, driver_id,
               confidence, details`,
    [
      rows.map((r) => r.tenantId),
      rows.map((r) => r.vehicleId),
      rows.map((r) => r.event.id),
      rows.map((r) => r.event.type),
      rows.map((r) => r.event.start),
      rows.map((r) => r.event.end),
      rows.map((r) => r.event.volumeL ?? null),
      rows.map((r) => r.event.lat),
      rows.map((r) => r.event.lon),
      rows.map((r) => r.event.driverId),
      rows.map((r) => r.event.confidence),
      rows.map((r) => r.event.modelVersion),
      rows.map((r) => JSON.stringify(r.event.details)),
    ],
  );
  return stored.map((r) => ({ tenantId: r.tenant_id, ...toStoredVehicleEvent(r) }));
}
