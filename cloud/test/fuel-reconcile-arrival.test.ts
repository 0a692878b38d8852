/**
 * Reconciliation on arrival (issue 17 §1) against the real PostgreSQL: a signed webhook's purchase
 * is judged when the inbox drain stores it, a driver's logged refuel in the same transaction as
 * `refuels.log`, and the sweep judges again when a detected refuel arrives after its purchase.
 * Nobody calls reconcileTenant here: every verdict comes from the arrival paths themselves.
 */
import { randomUUID } from 'node:crypto';
import { createLogger } from '@fleet/shared/log';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../src/db/migrate.ts';
import { insertVehicleEvents } from '../src/db/queries/insert-vehicle-events.ts';
import { sweepFuelReconciliation } from '../src/fuel/reconcile-sweep.ts';
import { drainFuelCardInbox, FUEL_CARD_SOURCE } from '../src/fuel/webhook-inbox.ts';
import { openTestPool, requireServices } from './support/services.ts';
import { callerAs, sessionOf } from './support/sessions.ts';

const log = createLogger('test').child({}, { level: 'fatal' });
const MIN = 60_000;
// refuels.log takes the last 31 days only: everything happens a few hours ago.
const T = Math.floor((Date.now() - 6 * 60 * MIN) / MIN) * MIN;
const STATION = { lat: 48.137, lon: 11.575 };

let db: Awaited<ReturnType<typeof openTestPool>>;

beforeAll(async () => {
  await requireServices({ postgres: true });
  db = await openTestPool('t_fuel_arrival');
  await migrate(db.pool, log);
  await db.pool.query(`INSERT INTO tenants (id, name) VALUES ('acme', 'Acme')`);
  await db.pool.query(
    `INSERT INTO vehicles (id, tenant_id, tank_litres) VALUES ('van-1', 'acme', 70), ('van-2', 'acme', 60), ('van-3', 'acme', 80)`,
  );
});
afterAll(async () => {
  await db?.drop();
});

let nextEventId = 1;
/** A refuel the vehicle detected, as the event ingest stores it. */
async function detectedRefuel(vehicleId: string, start: number, volumeL: number) {
  const c = await db.pool.connect();
  try {
    await insertVehicleEvents(c, [
      {
        tenantId: 'acme',
        vehicleId,
        event: {
          id: nextEventId++,
          type: 'refuel',
          start,
          end: start + 6 * MIN,
          volumeL,
          ...STATION,
          driverId: null,
          confidence: 0.9,
          modelVersion: null,
          details: { levelBeforeL: 10, levelAfterL: 10 + volumeL },
        },
      },
    ]);
  } finally {
    c.release();
  }
}

/** Minute rollups of a steady level: the vehicle was reporting its tank around `from`. */
async function tankReadings(vehicleId: string, from: number, minutes: number, pct: number) {
  await db.pool.query(
    `INSERT INTO telemetry_minute (tenant_id, vehicle_id, minute, samples, speed_n, rpm_n, fuel_min, fuel_max)
     SELECT 'acme', $1, to_timestamp($2 / 1000.0) + make_interval(mins => g), 60, 0, 0, $3, $3
       FROM generate_series(0, $4 - 1) AS g`,
    [vehicleId, from, pct, minutes],
  );
}

/** A signed body as the receiver queues it (the signature itself: webhooks.test.ts). */
async function webhook(body: unknown) {
  await db.pool.query(`INSERT INTO webhook_inbox (tenant_id, source, body) VALUES ('acme', $1, $2)`, [
    FUEL_CARD_SOURCE,
    JSON.stringify(body),
  ]);
  return drainFuelCardInbox(db.pool, log);
}

const finance = () => callerAs(db.pool, sessionOf('finance', 'acme'));
const purchases = async () =>
  new Map(
    (await finance().fuel.transactions({ limit: 50 })).items.map((t) => [
      t.litres,
      { status: t.status, flags: t.flags, reasons: t.reasons },
    ]),
  );
const refuelWithoutPurchase = async () =>
  (
    await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM fuel_reconciliations WHERE 'refuel_without_purchase' = ANY (flags)`,
    )
  ).rows[0]!.n;

describe('reconciliation on arrival', () => {
  it('a webhook purchase is matched or flagged, with reasons, by the drain that stores it', async () => {
    await detectedRefuel('van-1', T - 8 * MIN, 45);
    await tankReadings('van-1', T + 20 * MIN, 80, 20);
    const drained = await webhook({
      transactions: [
        // The fill the tank saw.
        { externalId: 'wh-1', ts: new Date(T).toISOString(), litres: 46.2, vehicleId: 'van-1', ...STATION },
        // An hour later, the tank reported all along and never rose: the classic fraud signal.
        {
          externalId: 'wh-2',
          ts: new Date(T + 60 * MIN).toISOString(),
          litres: 40,
          vehicleId: 'van-1',
          ...STATION,
        },
      ],
    });
    expect(drained.stored).toBe(2);
    const p = await purchases();
    expect(p.get(46.2)).toEqual({ status: 'matched', flags: [], reasons: [] });
    expect(p.get(40)!.status).toBe('flagged');
    expect(p.get(40)!.flags).toEqual(['no_tank_rise']);
    expect(p.get(40)!.reasons[0]).toMatch(/no refuel detected within ±30 min of the purchase of 40\.0 L/);
  });

  it("a driver's logged refuel is judged in the transaction that stores it: cash fill matched, card fill compared", async () => {
    // van-2 filled up paid in cash: the tank rose, no purchase explains it.
    await detectedRefuel('van-2', T + 120 * MIN, 30);
    expect(await refuelWithoutPurchase()).toBe(0); // nothing ran yet: only arrivals reconcile
    const driver = callerAs(db.pool, sessionOf('driver', 'acme', 'van-2'));
    await driver.refuels.log({
      clientId: randomUUID(),
      vehicleId: 'van-2',
      ts: T + 124 * MIN,
      litres: 31,
      fuelType: 'diesel',
      station: 'Shell Ring',
    });
    // van-1's card fill (wh-1) also logged by its driver, with the wrong litres.
    await callerAs(db.pool, sessionOf('driver', 'acme', 'van-1')).refuels.log({
      clientId: randomUUID(),
      vehicleId: 'van-1',
      ts: T + 2 * MIN,
      litres: 60,
      fuelType: 'diesel',
    });
    const logs = new Map(
      (await finance().fuel.driverRefuels({ limit: 50 })).items.map((l) => [l.vehicleId, l]),
    );
    expect(logs.get('van-2')).toMatchObject({ status: 'matched', flags: [], reasons: [] });
    expect(logs.get('van-1')).toMatchObject({ status: 'flagged', flags: ['volume_mismatch'] });
    expect(logs.get('van-1')!.reasons[0]).toMatch(/logged 60\.0 L, the card purchase #\d+ says 46\.2 L/);
    // The cash fill explains the tank's rise: not reported as a refuel without a purchase, and the
    // card purchase kept the refuel it matched.
    expect(await refuelWithoutPurchase()).toBe(0);
    expect((await purchases()).get(46.2)!.status).toBe('matched');
  });

  it('the sweep judges a purchase again when its detected refuel arrives late', async () => {
    const first = await sweepFuelReconciliation(db.pool, null, log);
    await tankReadings('van-3', T + 200 * MIN, 60, 20);
    await webhook({
      transactions: [
        {
          externalId: 'wh-3',
          ts: new Date(T + 230 * MIN).toISOString(),
          litres: 52,
          vehicleId: 'van-3',
          ...STATION,
        },
      ],
    });
    expect((await purchases()).get(52)!.flags).toEqual(['no_tank_rise']);

    // The agent was offline; its refuel event arrives now.
    await detectedRefuel('van-3', T + 222 * MIN, 51);
    const swept = await sweepFuelReconciliation(db.pool, first.watermark, log);
    expect(swept.result.tenants).toBe(1);
    expect((await purchases()).get(52)).toEqual({ status: 'matched', flags: [], reasons: [] });
    expect(swept.watermark.getTime()).toBeGreaterThan(first.watermark.getTime());
  });
});
