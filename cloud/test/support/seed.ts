/**
 * Test data written the way production writes it, so that it alerts as production does: events
 * through the event ingest's store (with their alerts), positions through the telemetry ingest's
 * group statement (with the geofence decisions).
 */
import type { TelemetrySample, VehicleEvent } from '@fleet/shared';
import type pg from 'pg';
import { GeofenceWatch } from '../../src/alerts/geofence-watch.ts';
import { ensureTelemetryPartitions, utcDay } from '../../src/db/queries/ensure-telemetry-partitions.ts';
import { emptyTelemetryColumns, pushTelemetrySample } from '../../src/db/queries/insert-telemetry-rows.ts';
import { storeSamples } from '../../src/ingest/store-samples.ts';
import { storeVehicleEvents } from '../../src/ingest/store-vehicle-events.ts';

type Db = pg.Pool | pg.ClientBase;

/** Runs `work` in a transaction on one connection (a pool lends one). */
async function inTransaction<T>(db: Db, work: (c: pg.ClientBase) => Promise<T>): Promise<T> {
  const c = 'totalCount' in db ? await db.connect() : db;
  try {
    await c.query('BEGIN');
    const out = await work(c);
    await c.query('COMMIT');
    return out;
  } catch (err) {
    await c.query('ROLLBACK');
    throw err;
  } finally {
    if (c !== db) (c as pg.PoolClient).release();
  }
}

/** A detector event with the defaults of a plain one (no volume, place, driver or model). */
export function vehicleEvent(
  e: Pick<VehicleEvent, 'id' | 'type' | 'start'> & Partial<VehicleEvent>,
): VehicleEvent {
  return {
    end: e.start,
    lat: null,
    lon: null,
    driverId: null,
    confidence: 0.9,
    modelVersion: null,
    details: {},
    ...e,
  };
}

/** Stores events of one vehicle as the event ingest does; returns how many were new. */
export function seedEvents(
  db: Db,
  tenantId: string,
  vehicleId: string,
  events: VehicleEvent[],
): Promise<number> {
  return inTransaction(db, (c) =>
    storeVehicleEvents(
      c,
      events.map((event) => ({ tenantId, vehicleId, event })),
    ),
  );
}

/**
 * Stores samples of one vehicle as the telemetry ingest does, in one group transaction (raw rows,
 * minute rollups, latest state, geofence entries and exits); returns how many samples were new.
 * Tests seed positions this way, never by writing vehicle_latest behind the production path.
 */
export async function seedSamples(
  db: Db,
  tenantId: string,
  vehicleId: string,
  samples: readonly TelemetrySample[],
  geofences: GeofenceWatch = new GeofenceWatch(),
  /** As a batch the agent flagged `historical` (backfill). */
  historical = false,
): Promise<number> {
  await ensureTelemetryPartitions(db, [...new Set(samples.map((s) => utcDay(s.ts)))]);
  const rows = emptyTelemetryColumns();
  for (const s of samples) pushTelemetrySample(rows, tenantId, vehicleId, s);
  return inTransaction(db, (c) => storeSamples(c, rows, geofences, undefined, historical));
}

/** One sample of a vehicle, with the caller's geofence cache (see seedSamples). */
export function seedSample(
  db: Db,
  geofences: GeofenceWatch,
  tenantId: string,
  vehicleId: string,
  s: TelemetrySample,
): Promise<number> {
  return seedSamples(db, tenantId, vehicleId, [s], geofences);
}
