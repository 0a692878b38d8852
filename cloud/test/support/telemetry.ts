import type { TelemetrySample } from '@fleet/shared';
import type pg from 'pg';
import { ensureTelemetryPartitions, utcDay } from '../../src/db/queries/ensure-telemetry-partitions.ts';
import {
  emptyTelemetryColumns,
  insertTelemetryRows,
  pushTelemetrySample,
} from '../../src/db/queries/insert-telemetry-rows.ts';

/**
 * Stores one vehicle's samples with the ingest's own statement (insertTelemetryRows: the raw rows,
 * the minute rollups and the latest state, with the geofence trigger on it), in a transaction
 * as the ingest commits a group. Tests seed positions this way, never by writing vehicle_latest
 * behind the production path's back. Returns how many samples were new.
 */
export async function storeSamples(
  pool: pg.Pool,
  tenantId: string,
  vehicleId: string,
  samples: readonly TelemetrySample[],
): Promise<number> {
  const cols = emptyTelemetryColumns();
  for (const s of samples) pushTelemetrySample(cols, tenantId, vehicleId, s);
  const c = await pool.connect();
  try {
    await ensureTelemetryPartitions(c, [...new Set(samples.map((s) => utcDay(s.ts)))]);
    await c.query('BEGIN');
    const stored = await insertTelemetryRows(c, cols);
    await c.query('COMMIT');
    return stored;
  } catch (err) {
    await c.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    c.release();
  }
}
