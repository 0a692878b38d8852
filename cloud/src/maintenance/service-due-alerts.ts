/**
 * A due service raises an alert through the alert rules (issue 16's engine), not beside it:
 *
 *   alert sweep (every minute) ──▶ tenants with an enabled `service_due` rule ──▶ listDue
 *     ──▶ one occurrence per (vehicle, program) due soon or overdue ──▶ decide (scope, schedule)
 *     ──▶ one open alert per episode ──▶ the rule's channels (notifications outbox)
 *
 * The episode is the program and the service it counts from: the alert opens once per service
 * interval, and completing the service (a new baseline) makes the next interval a new episode.
 */
import type pg from 'pg';
import type { Occurrence } from '../alerts/rules/engine.ts';
import { registerSweepSource } from '../alerts/rules/sweep.ts';
import { listDue } from './due.ts';

export const SERVICE_DUE_SOURCE = 'service_due';

export async function serviceDueOccurrences(
  db: pg.ClientBase,
  tenantIds: readonly string[],
  now: number,
): Promise<Occurrence[]> {
  const out: Occurrence[] = [];
  for (const tenantId of tenantIds) {
    for (const d of await listDue(db, tenantId, now)) {
      if (d.status === 'ok') continue;
      const what = d.status === 'overdue' ? 'Service overdue' : 'Service due soon';
      out.push({
        tenantId,
        vehicleId: d.vehicleId,
        kind: SERVICE_DUE_SOURCE,
        ts: now,
        end: now,
        lat: null,
        lon: null,
        volumeL: null,
        confidence: null,
        eventId: null,
        geofenceId: null,
        title: `${what}: ${d.programName}`.slice(0, 200),
        details: {
          episode: `service_due:${d.programId}:${new Date(d.since).toISOString()}`,
          programId: d.programId,
          status: d.status,
          dueBy: d.dueBy,
          forecastDueAt: d.forecastDueAt === null ? null : new Date(d.forecastDueAt).toISOString(),
          remainingKm: d.remainingKm,
          remainingHours: d.remainingHours,
        },
      });
    }
  }
  return out;
}

let registered = false;
/** Makes `service_due` a rule source the API accepts and the sweep evaluates (idempotent). */
export function registerServiceDueAlerts(): void {
  if (registered) return;
  registered = true;
  registerSweepSource(SERVICE_DUE_SOURCE, serviceDueOccurrences);
}
