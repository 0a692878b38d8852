/**
 *   occurrences (new vehicle events, geofence changes, sweep findings) of a transaction
 *      ──> the tenants' enabled rules (findEnabledRules) ──decide (engine.ts)──> fires
 *      ──> raiseRuleAlerts: open the episode's alert, or raise its count ──> delivery (opened only)
 *
 * Runs in the transaction that stored what happened: an alert exists exactly when its cause
 * does. A tenant starts with the built-in decisions (event-alerts.ts, geofence flags: in-app
 * only); a rule of its own for a source replaces the built-in alert of that source, so one event
 * never makes two alerts.
 */
import type pg from 'pg';
import { findEnabledRules } from '../../db/queries/alert-rules.ts';
import { type RaisedAlert, raiseRuleAlerts } from '../../db/queries/rule-alerts.ts';
import { findHarshTimes, findVehicleGroups } from '../../db/queries/rule-context.ts';
import { type DecideContext, decide, type Fire, type Occurrence, sourceOfEvent } from './engine.ts';
import type { AlertRule } from './rule.ts';

/** Who hears of an alert beyond the inbox: the notifications outbox (in the same transaction). */
export interface AlertDelivery {
  opened(db: pg.ClientBase, raised: readonly RaisedAlert[]): Promise<void>;
}

let delivery: AlertDelivery | null = null;
/** The cloud process installs its notifications outbox at start (main.ts); tests may too. */
export function setAlertDelivery(d: AlertDelivery | null): void {
  delivery = d;
}

export interface AppliedRules {
  raised: RaisedAlert[];
  /** Whether a tenant's own rule covers this occurrence kind (the built-in alert then stays out). */
  ruled(tenantId: string, kind: string): boolean;
}

const NONE: AppliedRules = { raised: [], ruled: () => false };

export async function applyRules(
  db: pg.ClientBase,
  occurrences: readonly Occurrence[],
): Promise<AppliedRules> {
  if (occurrences.length === 0) return NONE;
  const rules = await findEnabledRules(db, [...new Set(occurrences.map((o) => o.tenantId))]);
  if (rules.length === 0) return NONE;
  const sources = new Map<string, Set<string>>();
  for (const r of rules) sources.set(r.tenantId, (sources.get(r.tenantId) ?? new Set()).add(r.source));
  const ctx: DecideContext = {
    groupsOf: await groupLookup(db, rules, occurrences),
    harshCount: await harshCounter(db, rules, occurrences),
  };
  const fires: Fire[] = [];
  for (const o of [...occurrences].sort((a, b) => a.ts - b.ts)) {
    for (const r of rules) {
      const f = decide(r, o, ctx);
      if (f) fires.push(f);
    }
  }
  const raised = await raiseRuleAlerts(db, fires);
  const opened = raised.filter((r) => r.opened);
  if (opened.length > 0 && delivery) await delivery.opened(db, opened);
  return {
    raised,
    ruled: (tenantId, kind) => {
      const source = sourceOfEvent(kind);
      return source !== null && (sources.get(tenantId)?.has(source) ?? false);
    },
  };
}

/** Vehicles' groups, read only when a rule is scoped to groups. */
export async function groupLookup(
  db: pg.ClientBase,
  rules: readonly AlertRule[],
  occurrences: readonly { vehicleId: string }[],
): Promise<DecideContext['groupsOf']> {
  if (!rules.some((r) => r.scope.kind === 'groups')) return () => [];
  const groups = await findVehicleGroups(
    db,
    occurrences.map((o) => o.vehicleId),
  );
  return (vehicleId) => groups.get(vehicleId) ?? [];
}

/** Harsh counts from the stored events (this transaction's included), loaded once per call. */
async function harshCounter(
  db: pg.ClientBase,
  rules: readonly AlertRule[],
  occurrences: readonly Occurrence[],
): Promise<DecideContext['harshCount']> {
  const windows = rules
    .filter((r) => r.source === 'harsh')
    .map((r) => (r.condition.windowMin ?? 60) * 60_000);
  const harsh = occurrences.filter((o) => o.kind.startsWith('harsh_'));
  if (windows.length === 0 || harsh.length === 0) return () => 0;
  const from = Math.min(...harsh.map((o) => o.ts)) - Math.max(...windows);
  const to = Math.max(...harsh.map((o) => o.ts));
  const times = await findHarshTimes(
    db,
    harsh.map((o) => ({ tenantId: o.tenantId, vehicleId: o.vehicleId })),
    from,
    to,
  );
  return (vehicleId, a, b) => (times.get(vehicleId) ?? []).filter((t) => t >= a && t <= b).length;
}
