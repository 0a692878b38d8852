import type pg from 'pg';
import { alertForEvent, occurrenceOf } from '../alerts/event-alerts.ts';
import { applyRules } from '../alerts/rules/rule-alerts.ts';
import { vehicleHealthAlerts } from '../alerts/vehicle-health-alerts.ts';
import { insertAlerts } from '../db/queries/insert-alerts.ts';
import { insertVehicleEvents, type VehicleEventRow } from '../db/queries/insert-vehicle-events.ts';

/**
 * The one way vehicle events are stored: the events that are new, the tenants' rules over them
 * (rules/rule-alerts.ts), and the built-in alert of each event whose source no rule of its tenant
 * covers, in the caller's transaction (a resent event stores nothing and alerts nothing).
 * Returns how many events were new.
 */
export async function storeVehicleEvents(
  db: pg.ClientBase,
  rows: readonly VehicleEventRow[],
): Promise<number> {
  const stored = await insertVehicleEvents(db, rows);
  const rules = await applyRules(db, stored.map(occurrenceOf));
  const unruled = stored.filter((e) => !rules.ruled(e.tenantId, e.type));
  const builtIn = unruled.flatMap((e) => alertForEvent(e) ?? []);
  // The battery trend and misfires (vehicle-health-alerts.ts) take the built-in alerts' way.
  const health = await vehicleHealthAlerts(db, unruled, builtIn);
  await insertAlerts(db, [...builtIn, ...health]);
  return stored.length;
}
