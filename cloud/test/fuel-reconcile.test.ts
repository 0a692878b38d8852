/**
 * Fuel-card reconciliation against the real PostgreSQL: purchases, detected refuels and minute
 * rollups written as the ingest and importers write them, then `reconcileTenant` as the API and
 * the CLI call it (as the tenant, under row-level security).
 */
import { createLogger } from '@fleet/shared/log';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli } from '../src/cli/main.ts';
import { migrate } from '../src/db/migrate.ts';
import { insertFuelTransactions } from '../src/db/queries/insert-fuel-transactions.ts';
import { insertVehicleEvents } from '../src/db/queries/insert-vehicle-events.ts';
import { inTenant } from '../src/db/tenant.ts';
import { reconcileTenant } from '../src/fuel/reconcile.ts';
import { reconcileFuel } from '../src/fuel/reconciliation.ts';
import { parseTransaction } from '../src/fuel/transaction.ts';
import { openTestPool, POSTGRES_URL, requireServices } from './support/services.ts';

const log = createLogger('test').child({}, { level: 'fatal' });
const T = Date.UTC(2026, 9, 5, 10, 0, 0);
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
// A station in Munich and points at a given distance north of it (1e-5 deg latitude = 1.11 m).
const STATION = { lat: 48.137, lon: 11.575 };
const north = (m: number) => ({ lat: STATION.lat + m / 111_195, lon: STATION.lon });

let db: Awaited<ReturnType<typeof openTestPool>>;

beforeAll(async () => {
  await requireServices({ postgres: true });
  db = await openTestPool('t_fuel_rec');
  await migrate(db.pool, log);
  await db.pool.query(`INSERT INTO tenants (id, name) VALUES ('acme', 'Acme'), ('globex', 'Globex')`);
  await db.pool.query(
    `INSERT INTO vehicles (id, tenant_id, tank_litres) VALUES
       ('van-1', 'acme', 70), ('van-2', 'acme', 60), ('van-3', 'acme', 80), ('gx-1', 'globex', 50)`,
  );
});
afterAll(async () => {
  await db?.drop();
});

let nextEventId = 1;
async function refuel(
  vehicleId: string,
  start: number,
  volumeL: number,
  levelBeforeL: number,
  at = north(40),
) {
  const c = await db.pool.connect();
  try {
    await insertVehicleEvents(c, [
      {
        tenantId: vehicleId.startsWith('gx') ? 'globex' : 'acme',
        vehicleId,
        event: {
          id: nextEventId++,
          type: 'refuel',
          start,
          end: start + 6 * MIN,
          volumeL,
          ...at,
          driverId: null,
          confidence: 0.9,
          modelVersion: null,
          details: { levelBeforeL, levelAfterL: levelBeforeL + volumeL },
        },
      },
    ]);
  } finally {
    c.release();
  }
}

/** Minute rollups of a steady tank level (what the ingest writes while the vehicle reports). */
async function steadyLevel(vehicleId: string, from: number, minutes: number, pct: number) {
  await db.pool.query(
    `INSERT INTO telemetry_minute (tenant_id, vehicle_id, minute, samples, speed_n, rpm_n, fuel_min, fuel_max)
     SELECT 'acme', $1, to_timestamp($2 / 1000.0) + make_interval(mins => g), 60, 0, 0, $3, $3
       FROM generate_series(0, $4 - 1) AS g`,
    [vehicleId, from, pct, minutes],
  );
}

async function purchase(tenantId: string, externalId: string, fields: Record<string, unknown>) {
  const parsed = parseTransaction({ externalId, station: 'Aral Leopoldstr.', ...STATION, ...fields });
  if (!parsed.ok) throw new Error(parsed.reason);
  await inTenant(db.pool, tenantId, (c) =>
    insertFuelTransactions(c, tenantId, 'manual', [{ tx: parsed.tx, raw: fields }]),
  );
}

async function verdicts(tenantId = 'acme') {
  return inTenant(db.pool, tenantId, async (c) => {
    const { rows } = await c.query<{
      external_id: string | null;
      event_id: number | null;
      status: string;
      flags: string[];
      reasons: string[];
    }>(
      `SELECT t.external_id, r.event_id, r.status, r.flags, r.reasons
         FROM fuel_reconciliations r LEFT JOIN fuel_transactions t ON t.id = r.transaction_id
        ORDER BY r.ts, r.id`,
    );
    return rows;
  });
}

describe('fuel-card reconciliation (real PostgreSQL)', () => {
  it('matches refuels, flags a purchase with no tank rise and one over the free tank volume, with reasons', async () => {
    // 1. An honest fill: 46.2 L paid 2 min after the tank rose 45 L, 40 m from the station.
    await refuel('van-1', T - 8 * MIN, 45, 15);
    await purchase('acme', 'TX-1', { ts: new Date(T).toISOString(), litres: 46.2, vehicleId: 'van-1' });
    // 2. 40 L paid for van-2 while its tank level sat at 30 % the whole hour around it.
    await steadyLevel('van-2', T + 3 * HOUR - 30 * MIN, 61, 30);
    await purchase('acme', 'TX-2', { ts: T + 3 * HOUR, litres: 40, vehicleId: 'van-2' });
    // 3. 95 L paid for van-1 (70 L tank, 12 L in it): the tank rose 52 L.
    await refuel('van-1', T + DAY - 5 * MIN, 52, 12);
    await purchase('acme', 'TX-3', { ts: T + DAY, litres: 95, vehicleId: 'van-1' });
    // 4. van-2's tank rose 30 L and nobody paid with a card.
    await refuel('van-2', T + 2 * DAY, 30, 20);
    // 5. A card not assigned to any vehicle, and 6. a purchase for a vehicle that reported nothing.
    await purchase('acme', 'TX-5', { ts: T + 2 * HOUR, litres: 30, cardId: 'CARD-9' });
    await purchase('acme', 'TX-6', { ts: T + 2 * HOUR, litres: 30, vehicleId: 'van-3' });
    // 7. Volumes agree but the tank rose 5 km from the station the card was used at.
    await refuel('van-1', T + 3 * DAY - 10 * MIN, 40, 20, north(5000));
    await purchase('acme', 'TX-7', { ts: T + 3 * DAY, litres: 40.5, vehicleId: 'van-1' });
    // Another tenant's refuel at the same time as TX-1 must not explain it.
    await refuel('gx-1', T - 5 * MIN, 46, 10);

    const summary = await reconcileTenant(db.pool, 'acme');
    expect(summary).toMatchObject({ matched: 1, flagged: 4, unmatched: 2, refuelsWithoutPurchase: 1 });

    const rows = await verdicts();
    const byTx = new Map(rows.map((r) => [r.external_id ?? `event:${r.event_id}`, r]));
    expect(byTx.get('TX-1')).toMatchObject({ status: 'matched', event_id: 1, flags: [] });
    expect(byTx.get('TX-2')).toMatchObject({ status: 'flagged', event_id: null, flags: ['no_tank_rise'] });
    expect(byTx.get('TX-2')!.reasons[0]).toMatch(
      /no refuel detected within ±30 min of the purchase of 40\.0 L.*61 min of readings/,
    );
    expect(byTx.get('TX-3')).toMatchObject({
      status: 'flagged',
      event_id: 2,
      flags: ['over_free_volume', 'volume_mismatch'],
    });
    expect(byTx.get('TX-3')!.reasons).toEqual([
      'purchased 95.0 L but the tank had room for 58.0 L (capacity 70.0 L, 12.0 L before)',
      'purchased 95.0 L, the tank rose 52.0 L: 43.0 L apart, tolerance 9.5 L',
    ]);
    expect(byTx.get('event:3')).toMatchObject({ status: 'flagged', flags: ['refuel_without_purchase'] });
    expect(byTx.get('TX-5')).toMatchObject({ status: 'unmatched', flags: ['no_vehicle'] });
    expect(byTx.get('TX-6')).toMatchObject({ status: 'unmatched', flags: ['no_vehicle_data'] });
    expect(byTx.get('TX-7')).toMatchObject({ status: 'flagged', event_id: 4, flags: ['far_from_station'] });
    expect(byTx.get('TX-7')!.reasons[0]).toMatch(
      /^the tank rose 50\d\d m from the station \(window 500 m\)$/,
    );
    expect(rows).toHaveLength(7);

    // A rerun replaces the verdicts instead of adding to them; another tenant sees none of them.
    await reconcileTenant(db.pool, 'acme');
    expect(await verdicts()).toHaveLength(7);
    const other = await reconcileTenant(db.pool, 'globex');
    expect(other).toMatchObject({ matched: 0, flagged: 1, refuelsWithoutPurchase: 1 });
    expect(await verdicts('globex')).toHaveLength(1);
  });

  it('fleet-cloud fuel reconcile and forecast print the same verdicts and a forecast', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const run = async (args: string[]) => {
      process.exitCode = undefined;
      await buildCli({ out: (l) => out.push(l), err: (l) => err.push(l) })
        .exitOverride()
        .parseAsync(['node', 'fleet-cloud', '--database-url', POSTGRES_URL, '--schema', db.schema, ...args]);
      const code = process.exitCode;
      process.exitCode = undefined;
      return code;
    };
    expect(await run(['fuel', 'reconcile', '--tenant', 'acme', '--json'])).toBe(0);
    expect(JSON.parse(out.at(-1)!)).toMatchObject({ matched: 1, flagged: 4, unmatched: 2 });
    out.length = 0;
    expect(await run(['fuel', 'reconcile', '--tenant', 'acme'])).toBe(0);
    expect(out[0]).toBe('1 matched, 4 flagged, 2 unmatched (1 refuels without a purchase)');
    expect(out.some((l) => /^ {2}flagged purchase \d+ .*room for 58\.0 L/.test(l))).toBe(true);
    expect(await run(['fuel', 'reconcile', '--tenant', 'acme', '--window-min', '0'])).toBe(2);
    expect(err.at(-1)).toMatch(/--window-min must be a number in \[1\.\.\.240\]/);
    out.length = 0;
    expect(await run(['fuel', 'forecast', '--tenant', 'acme', '--weeks', '2', '--json'])).toBe(0);
    expect(JSON.parse(out.at(-1)!)).toMatchObject({ fleet: { scope: 'fleet', weeks: [{}, {}] } });
  });

  it('a purchase larger than the whole tank is flagged even when no refuel was detected', () => {
    const out = reconcileFuel({
      purchases: [
        {
          id: 1,
          vehicleId: 'v',
          ts: T,
          litres: 120,
          lat: null,
          lon: null,
          cardId: null,
          readingsAround: 0,
          levelBeforeL: null,
        },
      ],
      refuels: [],
      tanks: new Map([['v', 80]]),
    });
    expect(out).toMatchObject([{ status: 'flagged', flags: ['over_free_volume'] }]);
    expect(out[0]!.reasons[0]).toBe('purchased 120.0 L, more than the whole tank holds (80.0 L)');
  });

  it('pairs each refuel with one purchase only, the closest in time first', () => {
    const p = (id: number, ts: number) => ({
      id,
      vehicleId: 'v',
      ts,
      litres: 40,
      lat: null,
      lon: null,
      cardId: null,
      readingsAround: 10,
      levelBeforeL: 10,
    });
    const out = reconcileFuel({
      purchases: [p(1, T + 20 * MIN), p(2, T + 7 * MIN)],
      refuels: [
        {
          vehicleId: 'v',
          eventId: 9,
          start: T,
          end: T + 5 * MIN,
          volumeL: 40,
          lat: null,
          lon: null,
          levelBeforeL: 10,
        },
      ],
      tanks: new Map([['v', 70]]),
    });
    expect(out.map((v) => [v.transactionId, v.status, v.flags])).toEqual([
      [1, 'flagged', ['no_tank_rise']],
      [2, 'matched', []],
    ]);
  });
});
