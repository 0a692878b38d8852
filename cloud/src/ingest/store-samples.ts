import type pg from 'pg';
import type { GeofenceWatch } from '../alerts/geofence-watch.ts';
import { insertTelemetryRows, type TelemetryColumns } from '../db/queries/insert-telemetry-rows.ts';

/**
 * The one way samples are stored: raw rows, minute rollups and latest state in the group
 * statement, then the geofence entries and exits the moved positions make, with their alerts,
 * in the caller's transaction (nothing moves without its alerts, nothing alerts without COMMIT);
 * for `historical` (backfill) rows also the entries and exits they contain, as history.
 * Returns how many samples were new.
 */
export async function storeSamples(
  db: pg.ClientBase,
  rows: TelemetryColumns,
  geofences: GeofenceWatch,
  tenantIds?: readonly string[],
  historical = false,
): Promise<number> {
  const stored = await insertTelemetryRows(db, rows, tenantIds);
  await geofences.apply(db, stored, historical);
  // Only backfill walks the group's rows: the live path stays one judgement per vehicle.
  if (historical) await geofences.applyHistory(db, rows, stored.geofenceIds);
  return stored.inserted;
}
