/**
 * Issue 16 §1, rule semantics on the real PostgreSQL (must-show 3 and part of 5 and 6): events
 * stored as the event ingest stores them (seedEvents -> storeVehicleEvents -> the rules engine in
 * the same transaction), rules written through the tRPC API, the minute sweep run with a given
 * clock. Throttle and quiet hours are the notifications outbox's (its own tests).
 */
import type { VehicleEvent, VehicleEventType } from '@fleet/shared';
import { createLogger } from '@fleet/shared/log';
import { TRPCError } from '@trpc/server';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertRuleInput } from '../src/alerts/rules/rule.ts';
import { sweepRules } from '../src/alerts/rules/sweep.ts';
import { migrate } from '../src/db/migrate.ts';
import { seedEvents, seedSamples, vehicleEvent } from './support/seed.ts';
import { openTestPool, requireServices } from './support/services.ts';
import { callerAs, sessionOf } from './support/sessions.ts';

const log = createLogger('alert-rules-test').child({}, { level: 'error' });
let db: Awaited<ReturnType<typeof openTestPool>>;
let pool: pg.Pool;
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

const manager = (tenant: string) => callerAs(pool, sessionOf('fleet_manager', tenant));
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (err: unknown) => (err instanceof TRPCError ? err.code : `not a TRPCError: ${String(err)}`),
  );

let nextId = 1;
const ev = (type: VehicleEventType, start: number, extra: Partial<VehicleEvent> = {}) =>
  vehicleEvent({ id: nextId++, type, start, ...extra });

async function rule(tenant: string, input: AlertRuleInput): Promise<number> {
  return (await manager(tenant).alertRules.create(input)).id;
}

async function ruleAlerts(tenant: string, ruleId: number) {
  const { rows } = await pool.query<{
    id: number;
    vehicle_id: string;
    title: string;
    count: number;
    episode: string;
    escalation_level: number;
    cleared_at: Date | null;
    severity: string;
  }>('SELECT * FROM alerts WHERE tenant_id = $1 AND rule_id = $2 ORDER BY ts, id', [tenant, ruleId]);
  return rows;
}

const TENANTS = [
  'r_dtc',
  'r_speed',
  'r_esc',
  'r_hours',
  'r_prev_a',
  'r_prev_b0',
  'r_prev_b1',
  'r_prev_b2',
  'r_prev_b3',
  'r_off',
  'r_rbac',
  'r_group',
];

beforeAll(async () => {
  await requireServices({ postgres: true });
  db = await openTestPool('t_alert_rules');
  pool = db.pool;
  await migrate(pool, log);
  for (const t of TENANTS) {
    await pool.query('INSERT INTO tenants (id, name) VALUES ($1, $1)', [t]);
    for (let i = 1; i <= 3; i++)
      await pool.query(
        `INSERT INTO vehicles (id, tenant_id, online, tank_litres) VALUES ($1, $2, true, 80)`,
        [`${t}-v${i}`, t],
      );
  }
});

afterAll(async () => {
  await db?.drop();
});

describe('alert rules', () => {
  it('100 repeats of one trouble code make one alert with count 100, not 100 alerts', async () => {
    const id = await rule('r_dtc', {
      name: 'Engine codes',
      source: 'dtc',
      severity: 'major',
      recipients: { roles: ['technician'] },
    });
    const t0 = Date.now() - 2 * HOUR;
    const code = { code: 'P0171', description: 'System Too Lean (Bank 1)', kind: 'stored' };
    for (let i = 0; i < 100; i += 10) {
      await seedEvents(
        pool,
        'r_dtc',
        'r_dtc-v1',
        Array.from({ length: 10 }, (_, k) => ev('dtc', t0 + (i + k) * MIN, { details: code })),
      );
    }
    const alerts = await ruleAlerts('r_dtc', id);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ count: 100, episode: 'dtc:P0171', severity: 'major' });
    expect(alerts[0]!.title).toBe('Trouble code P0171 System Too Lean (Bank 1)');
    // The tenant's rule replaced the built-in dtc alert: nothing else in the inbox.
    const { rows } = await pool.query("SELECT count(*)::int AS n FROM alerts WHERE tenant_id = 'r_dtc'");
    expect(rows[0].n).toBe(1);

    // Resolved, the next occurrence opens a new alert.
    await manager('r_dtc').alerts.resolve({ alertId: alerts[0]!.id, note: 'injector replaced' });
    await seedEvents(pool, 'r_dtc', 'r_dtc-v1', [ev('dtc', t0 + 101 * MIN, { details: code })]);
    expect((await ruleAlerts('r_dtc', id)).map((a) => a.count)).toEqual([100, 1]);
  });

  it('overspeed: one alert per episode above the threshold and minimum duration, none below', async () => {
    const id = await rule('r_speed', {
      name: 'Motorway speeding',
      source: 'overspeed',
      severity: 'warning',
      condition: { thresholdKmh: 120, minDurationS: 20 },
      recipients: { roles: ['fleet_manager'] },
    });
    const t0 = Date.now() - 3 * HOUR;
    const speeding = (at: number, maxSpeedKmh: number, seconds: number) =>
      ev('speeding', at, { end: at + seconds * 1000, details: { limitKmh: 100, maxSpeedKmh } });
    await seedEvents(pool, 'r_speed', 'r_speed-v1', [
      speeding(t0, 142, 90), // one episode (the agent reports it once, start to end): one alert
      speeding(t0 + 10 * MIN, 118, 300), // below 120
      speeding(t0 + 20 * MIN, 150, 10), // too short
      speeding(t0 + 30 * MIN, 131, 45), // a second episode: a second alert
    ]);
    const alerts = await ruleAlerts('r_speed', id);
    expect(alerts.map((a) => [a.title, a.count])).toEqual([
      ['Speeding: 142 km/h (limit 120 km/h)', 1],
      ['Speeding: 131 km/h (limit 120 km/h)', 1],
    ]);
  });

  it('escalates after N minutes unacknowledged, level by level, and never after the acknowledgement', async () => {
    const id = await rule('r_esc', {
      name: 'Theft',
      source: 'fuel_drain',
      severity: 'critical',
      condition: { minLitres: 5 },
      recipients: { roles: ['fleet_manager'] },
      escalation: [
        { afterMinutes: 10, recipients: { roles: ['admin'] } },
        { afterMinutes: 20, recipients: { emails: ['owner@example.com'] } },
      ],
    });
    const t0 = Date.now() - HOUR;
    await seedEvents(pool, 'r_esc', 'r_esc-v1', [ev('fuel_drain', t0, { volumeL: 12 })]);
    await seedEvents(pool, 'r_esc', 'r_esc-v2', [ev('fuel_drain', t0, { volumeL: 20 })]);
    await seedEvents(pool, 'r_esc', 'r_esc-v3', [ev('fuel_drain', t0, { volumeL: 2 })]); // below 5 L
    const [a1, a2] = await ruleAlerts('r_esc', id);
    expect([a1!.vehicle_id, a2!.vehicle_id]).toEqual(['r_esc-v1', 'r_esc-v2']);
    const opened = (await pool.query('SELECT created_at FROM alerts WHERE id = $1', [a1!.id])).rows[0]
      .created_at;
    const at = (minutes: number) => opened.getTime() + minutes * MIN;
    const escalated: [number, number][] = [];
    const delivery = {
      escalated: async (_db: unknown, a: { id: number }, level: number) => void escalated.push([a.id, level]),
    };
    await sweepRules(pool, at(9), log, delivery);
    expect(escalated).toEqual([]);
    await sweepRules(pool, at(11), log, delivery);
    expect(escalated.sort()).toEqual([
      [a1!.id, 1],
      [a2!.id, 1],
    ]);
    // The second alert is acknowledged: its escalation stops; the first goes on at 10 + 20 min.
    await manager('r_esc').alerts.acknowledge({ alertId: a2!.id });
    escalated.length = 0;
    await sweepRules(pool, at(29), log, delivery);
    expect(escalated).toEqual([]);
    await sweepRules(pool, at(31), log, delivery);
    await sweepRules(pool, at(120), log, delivery); // no level 3
    expect(escalated).toEqual([[a1!.id, 2]]);
    expect((await ruleAlerts('r_esc', id)).map((a) => a.escalation_level)).toEqual([2, 1]);
  });

  it('off-hours: the working-hours calendar is local time on both sides of a DST change', async () => {
    const id = await rule('r_hours', {
      name: 'After hours',
      source: 'off_hours',
      severity: 'minor',
      condition: {
        workingHours: {
          timeZone: 'Europe/Berlin',
          periods: [{ days: [1, 2, 3, 4, 5], from: '07:00', to: '18:00' }],
        },
      },
      recipients: { roles: ['fleet_manager'] },
    });
    // Europe/Berlin moves from UTC+1 to UTC+2 on Sunday 2026-03-29. Friday 27th and Monday 30th:
    const starts = [
      Date.UTC(2026, 2, 27, 5, 30), // 06:30 CET: before work -> fires
      Date.UTC(2026, 2, 27, 6, 30), // 07:30 CET: working -> nothing
      Date.UTC(2026, 2, 30, 4, 30), // 06:30 CEST: before work -> fires (naive UTC+1 would say 05:30: same)
      Date.UTC(2026, 2, 30, 5, 30), // 07:30 CEST: working (naive UTC+1 would say 06:30: off hours)
      Date.UTC(2026, 2, 30, 15, 59), // 17:59 CEST: working (naive UTC+1: 16:59 also working)
      Date.UTC(2026, 2, 30, 16, 30), // 18:30 CEST: after work, same local day -> count 2
      Date.UTC(2026, 2, 29, 10, 0), // Sunday 12:00 CEST -> fires
    ];
    await seedEvents(
      pool,
      'r_hours',
      'r_hours-v1',
      starts.map((s) => ev('ignition_on', s)),
    );
    const alerts = await ruleAlerts('r_hours', id);
    expect(alerts.map((a) => [a.episode, a.count, a.title])).toEqual([
      ['off_hours:2026-03-27', 1, 'Used outside working hours: started 06:30'],
      ['off_hours:2026-03-29', 1, 'Used outside working hours: started 12:00'],
      ['off_hours:2026-03-30', 2, 'Used outside working hours: started 06:30'],
    ]);
  });

  it('the preview says what the engine fires when that history is replayed', async () => {
    // A week of mixed history for tenant A, stored with no rules (built-in alerts only).
    let seed = 7;
    const rand = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const now = Date.now();
    const types: VehicleEventType[] = [
      'speeding',
      'harsh_brake',
      'harsh_accel',
      'dtc',
      'fuel_drain',
      'long_idle',
    ];
    const history = new Map<string, VehicleEvent[]>();
    for (let i = 0; i < 400; i++) {
      const type = types[Math.floor(rand() * types.length)]!;
      const start = now - 7 * DAY + Math.floor(rand() * 7 * DAY - HOUR);
      const details: Record<string, unknown> =
        type === 'speeding'
          ? { limitKmh: 90, maxSpeedKmh: 95 + Math.floor(rand() * 50) }
          : type === 'dtc'
            ? { code: ['P0171', 'P0300', 'P0420'][Math.floor(rand() * 3)], kind: 'stored' }
            : type === 'long_idle'
              ? { durationS: Math.floor(rand() * 3600) }
              : {};
      const v = `v${1 + Math.floor(rand() * 3)}`;
      const e = ev(type, start, { end: start + Math.floor(rand() * 120_000), details, volumeL: rand() * 30 });
      history.set(v, [...(history.get(v) ?? []), e]);
    }
    for (const [v, events] of history) await seedEvents(pool, 'r_prev_a', `r_prev_a-${v}`, events);

    const rules: AlertRuleInput[] = [
      {
        name: 'fast',
        source: 'overspeed',
        severity: 'warning',
        condition: { thresholdKmh: 120, minDurationS: 30 },
        recipients: { roles: ['admin'] },
      },
      {
        name: 'harsh',
        source: 'harsh',
        severity: 'minor',
        condition: { count: 3, windowMin: 240 },
        recipients: { roles: ['admin'] },
      },
      { name: 'codes', source: 'dtc', severity: 'major', recipients: { roles: ['admin'] } },
      {
        name: 'night theft',
        source: 'fuel_drain',
        severity: 'critical',
        condition: { minLitres: 10 },
        schedule: { timeZone: 'UTC', periods: [{ days: [0, 1, 2, 3, 4, 5, 6], from: '00:00', to: '06:00' }] },
        recipients: { roles: ['admin'] },
      },
    ];
    for (const [i, r] of rules.entries()) {
      const preview = await manager('r_prev_a').alertRules.preview({ rule: r, from: now - 8 * DAY, to: now });
      // Replay the same history into a fresh tenant where the rule exists, through the ingest path.
      const tenant = `r_prev_b${i}`;
      const id = await rule(tenant, r);
      for (const [v, events] of history) await seedEvents(pool, tenant, `${tenant}-${v}`, events);
      const fired = await ruleAlerts(tenant, id);
      console.log(
        `preview ${r.name}: ${preview.alerts} alerts + ${preview.repeats} repeats of ${preview.examined}`,
      );
      expect(preview.alerts).toBeGreaterThan(0);
      expect(fired.length).toBe(preview.alerts);
      expect(fired.reduce((n, a) => n + a.count, 0)).toBe(preview.alerts + preview.repeats);
    }
  });

  it('device offline: one alert per silence from the minute sweep, cleared when heard again; low fuel with hysteresis', async () => {
    const off = await rule('r_off', {
      name: 'Offline',
      source: 'device_offline',
      severity: 'warning',
      condition: { minutes: 15 },
      recipients: { roles: ['fleet_manager'] },
    });
    const low = await rule('r_off', {
      name: 'Low fuel',
      source: 'low_fuel',
      severity: 'info',
      condition: { belowPct: 15 },
      recipients: { driver: true },
    });
    const now = Date.now();
    const sample = (seq: number, fuelLevelPct: number) => ({
      seq,
      ts: now - 60_000 + seq,
      lat: 48.1,
      lon: 11.5,
      speedKmh: 0,
      rpm: 0,
      fuelLevelPct,
      coolantC: 20,
    });
    await seedSamples(pool, 'r_off', 'r_off-v1', [sample(1, 12)]);
    // 20 minutes later nothing more came: offline (received_at is the cloud's clock).
    let r = await sweepRules(pool, now + 20 * MIN, log);
    expect(r.opened).toBeGreaterThanOrEqual(2); // v1 offline + low fuel (v2, v3 never reported)
    r = await sweepRules(pool, now + 25 * MIN, log);
    expect(r.opened).toBe(0); // the same silence, the same low tank: no new alert, no count
    const offline = await ruleAlerts('r_off', off);
    expect(offline.map((a) => [a.vehicle_id, a.count, a.cleared_at])).toEqual([['r_off-v1', 1, null]]);
    expect((await ruleAlerts('r_off', low)).map((a) => [a.title, a.count])).toEqual([['Low fuel: 12 %', 1]]);
    // Heard again, refuelled to 18 % (below 15 + 5): offline clears, low fuel stays active.
    await seedSamples(pool, 'r_off', 'r_off-v1', [sample(2, 18)]);
    r = await sweepRules(pool, Date.now() + MIN, log);
    expect((await ruleAlerts('r_off', off))[0]!.cleared_at).not.toBeNull();
    expect((await ruleAlerts('r_off', low))[0]!.cleared_at).toBeNull();
    await seedSamples(pool, 'r_off', 'r_off-v1', [sample(3, 60)]);
    await sweepRules(pool, Date.now() + MIN, log);
    expect((await ruleAlerts('r_off', low))[0]!.cleared_at).not.toBeNull();
  });

  it('a rule scoped to a group fires for the vehicles of that group only', async () => {
    const { rows } = await pool.query<{ id: string }>(
      "INSERT INTO vehicle_groups (tenant_id, name) VALUES ('r_group', 'North depot') RETURNING id::text",
    );
    const north = rows[0]!.id;
    await pool.query("UPDATE vehicles SET group_id = $1 WHERE id = 'r_group-v1'", [north]);
    const id = await rule('r_group', {
      name: 'North batteries',
      source: 'battery',
      severity: 'warning',
      scope: { kind: 'groups', ids: [north] },
      recipients: { roles: ['technician'] },
    });
    const low = { phase: 'resting', restingV: 11.8, low: true };
    const t0 = Date.now() - HOUR;
    await seedEvents(pool, 'r_group', 'r_group-v1', [ev('battery', t0, { details: low })]);
    await seedEvents(pool, 'r_group', 'r_group-v2', [ev('battery', t0, { details: low })]);
    expect((await ruleAlerts('r_group', id)).map((a) => a.vehicle_id)).toEqual(['r_group-v1']);
    const preview = await manager('r_group').alertRules.preview({
      rule: {
        name: 'p',
        source: 'battery',
        severity: 'info',
        scope: { kind: 'groups', ids: [north] },
        recipients: { roles: ['admin'] },
      },
    });
    expect(preview.byVehicle).toEqual([{ vehicleId: 'r_group-v1', alerts: 1 }]);
  });

  it('refuses bad rules with field errors, and header injection in addresses; only managers and admins write rules', async () => {
    const fieldErrors = async (input: unknown) => {
      try {
        await manager('r_rbac').alertRules.create(input as AlertRuleInput);
        return null;
      } catch (err) {
        const issues = JSON.parse((err as TRPCError).message) as { path: (string | number)[] }[];
        return issues.map((i) => i.path.join('.'));
      }
    };
    expect(
      await fieldErrors({
        name: 'x',
        source: 'overspeed',
        severity: 'warning',
        recipients: { roles: ['admin'] },
      }),
    ).toEqual(['condition.thresholdKmh']);
    expect(
      await fieldErrors({
        name: 'x',
        source: 'dtc',
        severity: 'loud',
        recipients: { emails: ['a@example.com\r\nBcc: all@example.com'] },
      }),
    ).toEqual(expect.arrayContaining(['severity', 'recipients.emails.0']));
    expect(await fieldErrors({ name: '', source: 'teleport', severity: 'info', recipients: {} })).toEqual(
      expect.arrayContaining(['name', 'source', 'recipients']),
    );
    const { rows } = await pool.query(
      "SELECT count(*)::int AS n FROM alert_rules WHERE tenant_id = 'r_rbac'",
    );
    expect(rows[0].n).toBe(0);

    const valid: AlertRuleInput = {
      name: 'ok',
      source: 'battery',
      severity: 'warning',
      recipients: { roles: ['technician'] },
    };
    expect(
      await outcome(callerAs(pool, sessionOf('driver', 'r_rbac', 'r_rbac-v1')).alertRules.create(valid)),
    ).toBe('FORBIDDEN');
    expect(await outcome(callerAs(pool, sessionOf('technician', 'r_rbac')).alertRules.create(valid))).toBe(
      'FORBIDDEN',
    );
    expect(await outcome(callerAs(pool, sessionOf('technician', 'r_rbac')).alertRules.list())).toBe('ok');
    expect(await outcome(callerAs(pool, sessionOf('driver', 'r_rbac', 'r_rbac-v1')).alertRules.list())).toBe(
      'FORBIDDEN',
    );
    expect(await outcome(callerAs(pool, sessionOf('admin', 'r_rbac')).alertRules.create(valid))).toBe('ok');
    // Another tenant's manager sees none of it.
    expect(await manager('r_dtc').alertRules.list()).toHaveLength(1);
  });
});
