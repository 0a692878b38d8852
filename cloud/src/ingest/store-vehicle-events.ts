import type pg from 'pg';
import { alertForEvent } from '../alerts/event-alerts.ts';
import { insertAlerts } from '../db/queries/insert-alerts.ts';
import { insertVehicleEvents, type VehicleEventRow } from '../db/queries/insert-vehicle-events.ts';

/**
 * The one way vehicle events are stored: the events that are new, and the alert each of them
 * raises, in the caller's transaction (a resent event stores nothing and alerts nothing).
 * Returns how many events were new.
 */
export async function storeVehicleEvents(
  db: pg.ClientBase,
  rows: readonly VehicleEventRow[],
): Promise<number> {
  const stored = await insertVehicleEvents(db, rows);
  await insertAlerts(
    db,
    stored.flatMap((e) => alertForEvent(e) ?? []),
  );
  return stored.length;
}
