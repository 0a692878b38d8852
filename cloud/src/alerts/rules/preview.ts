/**
 * "How often would this rule have fired?" — the engine (engine.ts) over the tenant's stored
 * history of a window, with the same episode bookkeeping as the database (one open alert per
 * vehicle, rule and episode; repeats raise its count). Nobody resolves alerts in a preview, so an
 * episode stays open to the end of the window, as it would if nobody acted.
 *
 * History is what is stored: vehicle events and geofence entries/exits (as their alerts). Device
 * offline and low fuel are found by the minute sweep from the current state and have no stored
 * history; a preview of those says so rather than guessing.
 */
import type pg from 'pg';
import { findHistory } from '../../db/queries/rule-context.ts';
import { type DecideContext, decide, type Occurrence } from './engine.ts';
import type { AlertRule } from './rule.ts';
import { groupLookup } from './rule-alerts.ts';

export interface RulePreview {
  /** Alerts the rule would have opened. */
  alerts: number;
  /** Occurrences that would have raised the count of an alert already open. */
  repeats: number;
  /** Vehicles with at least one alert, most alerts first (top 20). */
  byVehicle: { vehicleId: string; alerts: number }[];
  /** The first alerts, in time order (up to 20). */
  first: { vehicleId: string; ts: number; title: string }[];
  /** Occurrences looked at. */
  examined: number;
  /** Why a preview cannot say (sources without stored history). */
  unsupported: string | null;
}

export function previewOver(
  rule: AlertRule,
  history: readonly Occurrence[],
  groupsOf: DecideContext['groupsOf'] = () => [],
): RulePreview {
  if (rule.source === 'device_offline' || rule.source === 'low_fuel') {
    return {
      alerts: 0,
      repeats: 0,
      byVehicle: [],
      first: [],
      examined: 0,
      unsupported: 'found by the minute sweep from the current state; there is no stored history to replay',
    };
  }
  const sorted = [...history].sort((a, b) => a.ts - b.ts);
  const harsh = new Map<string, number[]>();
  for (const o of sorted)
    if (o.kind.startsWith('harsh_')) harsh.set(o.vehicleId, [...(harsh.get(o.vehicleId) ?? []), o.ts]);
  const ctx: DecideContext = {
    groupsOf,
    harshCount: (v, from, to) => (harsh.get(v) ?? []).filter((t) => t >= from && t <= to).length,
  };
  const open = new Set<string>();
  const perVehicle = new Map<string, number>();
  const out: RulePreview = {
    alerts: 0,
    repeats: 0,
    byVehicle: [],
    first: [],
    examined: sorted.length,
    unsupported: null,
  };
  for (const o of sorted) {
    const f = decide(rule, o, ctx);
    if (!f) continue;
    const key = `${f.vehicleId}\u0000${f.episode}`;
    if (open.has(key)) {
      out.repeats++;
      continue;
    }
    open.add(key);
    out.alerts++;
    perVehicle.set(f.vehicleId, (perVehicle.get(f.vehicleId) ?? 0) + 1);
    if (out.first.length < 20) out.first.push({ vehicleId: f.vehicleId, ts: f.ts, title: f.title });
  }
  out.byVehicle = [...perVehicle]
    .map(([vehicleId, alerts]) => ({ vehicleId, alerts }))
    .sort((a, b) => b.alerts - a.alerts || a.vehicleId.localeCompare(b.vehicleId))
    .slice(0, 20);
  return out;
}

/** The preview over the tenant's stored history in [from, to] (the caller's tenant transaction). */
export async function previewRule(
  db: pg.ClientBase,
  rule: AlertRule,
  from: number,
  to: number,
): Promise<RulePreview> {
  const history = await findHistory(db, rule.tenantId, from, to);
  return previewOver(rule, history, await groupLookup(db, [rule], history));
}
