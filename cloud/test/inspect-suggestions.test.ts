/**
 * Issue 18 §2, predictive maintenance, on the real PostgreSQL: the agent's daily engine-score
 * summaries (`engine_scores` events, in the shape edge-agent/src/models/engine-scores.ts emits)
 * decoded by the ingest's own decoder and stored by its store function (support/seed.ts); the days and "inspect"
 * suggestions read through the tRPC API; a work order opened from a suggestion through the API.
 * Nothing is mocked.
 */

import { decodeVehicleEventBatch, type VehicleEvent } from '@fleet/shared';
import { createLogger } from '@fleet/shared/log';
import { TRPCError } from '@trpc/server';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../src/db/migrate.ts';
import { inTenant } from '../src/db/tenant.ts';
import { seedEvents } from './support/seed.ts';
import { openTestPool, requireServices } from './support/services.ts';
import { callerAs, sessionOf } from './support/sessions.ts';

const log = createLogger('inspect-test').child({}, { level: 'error' });
let db: Awaited<ReturnType<typeof openTestPool>>;
let pool: pg.Pool;
const DAY = 86_400_000;
const TODAY = Math.floor(Date.now() / DAY) * DAY;
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

const A = 'i_acme';
const B = 'i_other';
const VAN = `${A}-van`;
const NEW_VAN = `${A}-new-van`;
const as = (role: Parameters<typeof sessionOf>[0], tenant = A, vehicle: string | null = null) =>
  callerAs(pool, sessionOf(role, tenant, vehicle));

const NORMAL_SHARES = [
  { feature: 'rpm', share: 0.3 },
  { feature: 'speed_kmh', share: 0.3 },
  { feature: 'fuel_rate_lph', share: 0.2 },
  { feature: 'coolant_c', share: 0.2 },
];
const HOT_SHARES = [
  { feature: 'coolant_c', share: 0.7 },
  { feature: 'fuel_rate_lph', share: 0.2 },
  { feature: 'rpm', share: 0.05 },
  { feature: 'speed_kmh', share: 0.05 },
];

let nextId = 1;
/** One segment as the agent sends it (at ignition off, 10 s windows from 08:00 of `day`). */
function segment(day: number, windows: number, mean: number, p95: number, features = NORMAL_SHARES) {
  const start = day + 8 * 3_600_000;
  return {
    id: nextId++,
    type: 'engine_scores',
    start,
    end: start + windows * 10_000,
    lat: null,
    lon: null,
    driverId: null,
    confidence: 1,
    modelVersion: 'engine-anomaly@3',
    details: {
      day: dayOf(day),
      windows,
      anomalousWindows: p95 > 1 ? Math.ceil(windows * 0.1) : 0,
      mean,
      p95,
      max: p95 * 1.2,
      threshold: 1,
      features,
      reason: 'ignition_off',
    },
  } satisfies VehicleEvent;
}

/** Through the ingest's decoder and store function, as an MQTT events batch would go. */
async function ingest(tenant: string, vehicleId: string, events: VehicleEvent[]) {
  const payload = Buffer.from(JSON.stringify({ v: 1, vehicleId, batchSeq: nextId, events }));
  const decoded = decodeVehicleEventBatch(payload);
  if (!decoded.ok) throw new Error(decoded.reason);
  // The ingest's store function (storeVehicleEvents, with its alerts) in one transaction.
  return seedEvents(pool, tenant, vehicleId, decoded.batch.events);
}

const range = { from: TODAY - 14 * DAY, to: TODAY + DAY };

beforeAll(async () => {
  await requireServices({ postgres: true });
  db = await openTestPool('t_inspect');
  pool = db.pool;
  await migrate(pool, log);
  for (const t of [A, B]) {
    await pool.query('INSERT INTO tenants (id, name) VALUES ($1, $1)', [t]);
    for (const v of ['van', 'new-van'])
      await pool.query('INSERT INTO vehicles (id, tenant_id, online) VALUES ($1, $2, true)', [
        `${t}-${v}`,
        t,
      ]);
    for (const role of ['fleet_manager', 'technician', 'driver'] as const)
      await pool.query(
        `INSERT INTO users (id, tenant_id, email, name, role, vehicle_id, password_hash)
         VALUES ($1, $2, $3, $4, $5, $6, 'x')`,
        [`${t}-${role}`, t, `${role}@${t}.test`, role, role, role === 'driver' ? `${t}-van` : null],
      );
  }
  // 20 ordinary days (mean 0.30 +- 0.02), the van's model fitting it a little loosely: its p95
  // is over the threshold on normal days too, which the threshold rule alone would flag daily.
  const events: VehicleEvent[] = [];
  for (let d = 20; d >= 3; d--) events.push(segment(TODAY - d * DAY, 200, 0.3 + ((d % 3) - 1) * 0.02, 1.1));
  // Two days ago: coolant hot for the load, in two drives (two segments, summed into one day).
  events.push(
    segment(TODAY - 2 * DAY, 150, 0.9, 2.4, HOT_SHARES),
    segment(TODAY - 2 * DAY, 150, 0.7, 1.9, HOT_SHARES),
  );
  // Yesterday: a bit above the usual but within it (0.33 < the limit), and a day too short to judge.
  events.push(segment(TODAY - DAY, 220, 0.33, 1.1), segment(TODAY, 10, 5, 9, HOT_SHARES));
  expect(await ingest(A, VAN, events)).toBe(events.length);
  // A new van: two days only, the second with 10 % anomalous windows (threshold rule).
  expect(
    await ingest(A, NEW_VAN, [
      segment(TODAY - 2 * DAY, 100, 0.2, 0.6),
      segment(TODAY - DAY, 100, 0.6, 1.5, HOT_SHARES),
    ]),
  ).toBe(2);
  // Tenant B's van has a hot day on the same dates and vehicle name: none of it may show in A.
  expect(await ingest(B, `${B}-van`, [segment(TODAY - DAY, 100, 3, 6, HOT_SHARES)])).toBe(1);
}, 120_000);

afterAll(async () => {
  await db?.drop();
});

describe('inspect suggestions from the engine model daily scores', () => {
  it('a day high for the vehicle own history becomes a suggestion naming the PIDs that drove it; normal days do not', async () => {
    const t0 = performance.now();
    const { days, suggestions } = await as('technician').vehicleHealth.engineScores({
      vehicleId: VAN,
      ...range,
    });
    const hot = days.find((d) => d.day === dayOf(TODAY - 2 * DAY));
    // The two drives of that day, added up: 300 windows, window-weighted mean 0.8.
    expect(hot).toMatchObject({ windows: 300, mean: 0.8, p95: 2.4, modelVersions: ['engine-anomaly@3'] });
    expect(hot!.features[0]).toEqual({ feature: 'coolant_c', share: 0.7 });
    expect(suggestions.map((s) => s.day)).toEqual([dayOf(TODAY - 2 * DAY)]);
    const s = suggestions[0]!;
    expect(s).toMatchObject({ vehicleId: VAN, ref: `${VAN}/${dayOf(TODAY - 2 * DAY)}`, rule: 'history' });
    expect(s.features.map((f) => f.feature)).toEqual(['coolant_c', 'fuel_rate_lph', 'rpm']);
    // Judged against the van's own median (0.30), not the model threshold (1).
    expect(s.baseline).toBeCloseTo(0.3, 2);
    expect(s.mean).toBeGreaterThan(s.limit);
    // The ordinary days had p95 1.1 > threshold: with history, they are not suggestions.
    expect(days.filter((d) => d.p95 > d.threshold).length).toBeGreaterThan(5);
    // Today's 10 windows (5 min would be 30) are listed but not judged.
    expect(days.find((d) => d.day === dayOf(TODAY))?.windows).toBe(10);
    console.log(`engineScores over ${days.length} days: ${(performance.now() - t0).toFixed(0)} ms`);
  });

  it('a vehicle with too little history is judged on the model threshold', async () => {
    const { suggestions } = await as('fleet_manager').vehicleHealth.engineScores({
      vehicleId: NEW_VAN,
      ...range,
    });
    expect(suggestions).toEqual([
      expect.objectContaining({ day: dayOf(TODAY - DAY), rule: 'threshold', limit: 1 }),
    ]);
    expect(suggestions[0]!.features[0]!.feature).toBe('coolant_c');
  });

  it('opening a work order from a suggestion twice gives one order', async () => {
    const tech = as('technician');
    const [s] = (await tech.vehicleHealth.engineScores({ vehicleId: VAN, ...range })).suggestions;
    const open = () =>
      tech.workOrders.create({
        vehicleId: VAN,
        title: `Inspect: engine scores high on ${s!.day} (${s!.features.map((f) => f.feature).join(', ')})`,
        source: { kind: 'anomaly', ref: s!.ref },
      });
    const first = await open();
    const second = await open();
    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(second.workOrder.id).toBe(first.workOrder.id);
    const orders = await tech.workOrders.list({ vehicleId: VAN });
    expect(orders.filter((o) => o.source.kind === 'anomaly' && o.source.ref === s!.ref)).toHaveLength(1);
  });

  it('tenants are isolated and the driver cannot read it', async () => {
    // Tenant B cannot see A's van (not found); A sees none of B's hot day under RLS.
    await expect(
      as('technician', B).vehicleHealth.engineScores({ vehicleId: VAN, ...range }),
    ).rejects.toThrow(TRPCError);
    const other = await as('technician', B).vehicleHealth.engineScores({ vehicleId: `${B}-van`, ...range });
    expect(other.days.map((d) => d.mean)).toEqual([3]);
    const raw = await inTenant(
      pool,
      A,
      async (c) =>
        (await c.query(`SELECT DISTINCT tenant_id FROM vehicle_events WHERE type = 'engine_scores'`)).rows,
    );
    expect(raw).toEqual([{ tenant_id: A }]);
    await expect(
      as('driver', A, VAN).vehicleHealth.engineScores({ vehicleId: VAN, ...range }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('a summary the contract refuses is refused by the decoder, with its reason', () => {
    const bad = { ...segment(TODAY, 10, 1, 1), type: 'engine_score' };
    const r = decodeVehicleEventBatch(
      Buffer.from(JSON.stringify({ v: 1, vehicleId: VAN, batchSeq: 1, events: [bad] })),
    );
    expect(r.ok).toBe(false);
  });
});
