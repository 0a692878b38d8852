/**
 * What no message announces, found by looking every minute (as the owner, across tenants):
 *
 *   vehicles not heard of for N minutes ──> device_offline (once per silence; heard again: cleared)
 *   tank level below the rule's %       ──> low_fuel       (once until it rises 5 points above)
 *   open, unacknowledged rule alerts    ──> escalation to the next level after its minutes
 *
 * An acknowledgement stops the escalation: `escalateAlert` moves only an alert still open at the
 * level it was read at, so an ack between the read and the write wins.
 */
import type { Logger } from '@fleet/shared/log';
import type pg from 'pg';
import { findEnabledRules, getRule } from '../../db/queries/alert-rules.ts';
import {
  clearRuleEpisodes,
  escalateAlert,
  findEscalationCandidates,
  findTenantsWithRules,
  findVehicleStates,
  raiseRuleAlerts,
} from '../../db/queries/rule-alerts.ts';
import { Periodic } from '../../periodic.ts';
import { decide, type Fire, type Occurrence } from './engine.ts';
import { type AlertRule, registerRuleSource } from './rule.ts';
import { type AlertDelivery, groupLookup } from './rule-alerts.ts';

/**
 * A source another module finds by looking (maintenance's `service_due`): given the tenants with
 * an enabled rule for it, the occurrences of now (run as the owner: filter on the tenant). Each
 * occurrence names its episode in `details.episode`; the sweep decides, raises (no repeat count
 * while an episode stays open) and queues the opened alerts' delivery like any rule's.
 */
export type SweepSource = (
  db: pg.ClientBase,
  tenantIds: readonly string[],
  now: number,
) => Promise<Occurrence[]>;
const sweepSources = new Map<string, SweepSource>();
export function registerSweepSource(source: string, find: SweepSource): void {
  registerRuleSource(source);
  sweepSources.set(source, find);
}

/** Told of each escalation (the notifications outbox sends it to the level's recipients). */
export interface EscalationDelivery {
  escalated(
    db: pg.ClientBase,
    alert: { id: number; tenantId: string; title: string; severity: string; vehicleId: string | null },
    /** 1 for the first escalation: its recipients are `rule.escalation[level - 1]`'s. */
    level: number,
    rule: AlertRule,
  ): Promise<void>;
}

export interface SweepResult {
  opened: number;
  cleared: number;
  escalated: number;
}

/** Low fuel clears only this many points above the rule's level: no flapping at the line. */
const LOW_FUEL_HYSTERESIS_PCT = 5;

export async function sweepRules(
  pool: pg.Pool,
  now: number,
  log: Logger,
  delivery?: EscalationDelivery & Partial<AlertDelivery>,
): Promise<SweepResult> {
  const db = await pool.connect();
  try {
    await db.query('BEGIN');
    const result = { opened: 0, cleared: 0, escalated: 0 };
    const tenants = await findTenantsWithRules(db, ['device_offline', 'low_fuel']);
    if (tenants.length > 0) {
      const rules = (await findEnabledRules(db, tenants)).filter(
        (r) => r.source === 'device_offline' || r.source === 'low_fuel',
      );
      const fires: Fire[] = [];
      const states = await findVehicleStates(db, tenants);
      const groupsOf = await groupLookup(db, rules, states);
      for (const v of states) {
        const base = {
          tenantId: v.tenantId,
          vehicleId: v.vehicleId,
          ts: now,
          end: now,
          lat: v.lat,
          lon: v.lon,
          volumeL: null,
          confidence: null,
          eventId: null,
          geofenceId: null,
          title: null,
        };
        const occurrences: Occurrence[] = [];
        if (v.lastSeen !== null) {
          occurrences.push({
            ...base,
            kind: 'offline',
            details: { minutesOffline: (now - v.lastSeen) / 60_000 },
          });
        }
        if (v.fuelLevelPct !== null) {
          occurrences.push({ ...base, kind: 'low_fuel', details: { levelPct: v.fuelLevelPct } });
        }
        for (const r of rules.filter((r) => r.tenantId === v.tenantId)) {
          let fired = false;
          for (const o of occurrences) {
            const f = decide(r, o, { groupsOf, harshCount: () => 0 });
            if (f) {
              fires.push(f);
              fired = true;
            }
          }
          const recovered =
            r.source === 'device_offline'
              ? v.lastSeen !== null && now - v.lastSeen < (r.condition.minutes ?? 0) * 60_000
              : v.fuelLevelPct !== null &&
                v.fuelLevelPct >= (r.condition.belowPct ?? 0) + LOW_FUEL_HYSTERESIS_PCT;
          if (!fired && recovered) {
            const episode = r.source === 'device_offline' ? 'offline' : 'low_fuel';
            result.cleared += await clearRuleEpisodes(db, v.tenantId, v.vehicleId, episode, now);
          }
        }
      }
      result.opened = (await raiseRuleAlerts(db, fires, false)).filter((a) => a.opened).length;
    }
    for (const [source, find] of sweepSources) {
      const withRule = await findTenantsWithRules(db, [source]);
      if (withRule.length === 0) continue;
      const rules = (await findEnabledRules(db, withRule)).filter((r) => r.source === source);
      const occurrences = await find(db, withRule, now);
      const ctx = { groupsOf: await groupLookup(db, rules, occurrences), harshCount: () => 0 };
      const fires = occurrences.flatMap((o) => rules.map((r) => decide(r, o, ctx)).filter((f) => f !== null));
      const opened = (await raiseRuleAlerts(db, fires, false)).filter((a) => a.opened);
      if (opened.length > 0) await delivery?.opened?.(db, opened);
      result.opened += opened.length;
    }
    for (const c of await findEscalationCandidates(db)) {
      const rule = await getRule(db, c.ruleId);
      if (!rule) continue;
      const due = rule.escalation.slice(0, c.level + 1).reduce((m, l) => m + l.afterMinutes, 0) * 60_000;
      if (now - c.openedAt < due) continue;
      if (!(await escalateAlert(db, c.id, c.level, now))) continue;
      result.escalated++;
      await delivery?.escalated(db, c, c.level + 1, rule);
      log.info({ alertId: c.id, level: c.level + 1 }, 'alert escalated');
    }
    await db.query('COMMIT');
    return result;
  } catch (err) {
    await db.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    db.release();
  }
}

/** Runs `sweepRules` every `intervalMs` in the cloud process; a failed sweep is logged and retried next time. */
export class AlertSweeper extends Periodic<Awaited<ReturnType<typeof sweepRules>>> {
  constructor(
    pool: pg.Pool,
    intervalMs: number,
    log: Logger,
    delivery?: EscalationDelivery & Partial<AlertDelivery>,
  ) {
    super({
      intervalMs,
      name: 'alert sweep',
      log,
      pass: () => sweepRules(pool, Date.now(), log, delivery),
      onDone: (r) => {
        if (r.opened + r.cleared + r.escalated > 0) log.info(r, 'alert sweep');
      },
    });
  }
}
