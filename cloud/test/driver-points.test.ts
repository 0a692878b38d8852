/**
 * The points ledger on the real PostgreSQL (issue 19 §3, must-show 4):
 *   - 50 concurrent redemptions, each on its own pool connection, against one balance: the balance
 *     never goes below zero and exactly as many are accepted as the balance can pay;
 *   - a rejected request is refunded, a decided one cannot be decided again, limited stock holds;
 *   - ledger rows can be neither updated nor deleted (by the application role or the owner);
 *   - every ledger entry has its audit entry, and the hash chain holds.
 */
import { createLogger } from '@fleet/shared/log';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCaller } from '../src/api/root.ts';
import { createUser } from '../src/auth/auth-service.ts';
import { migrate } from '../src/db/migrate.ts';
import { openPool } from '../src/db/pool.ts';
import { verifyAuditChain } from '../src/db/queries/audit-log.ts';
import { inTenant } from '../src/db/tenant.ts';
import { appendPoints, awardScoreBand, pointsBalance } from '../src/drivers/points/ledger.ts';
import { openTestPool, POSTGRES_URL, requireServices } from './support/services.ts';

const log = createLogger('driver-points-test').child({}, { level: 'error' });
const TENANT = 'acme';
let db: Awaited<ReturnType<typeof openTestPool>>;
let pool: pg.Pool;
let wide: pg.Pool;
let driverId = '';
let managerId = '';

const session = (userId: string, role: 'driver' | 'fleet_manager') => ({
  userId,
  tenantId: TENANT,
  email: `${userId}@acme.test`,
  name: userId,
  role,
  vehicleId: null,
});

beforeAll(async () => {
  await requireServices({ postgres: true });
  db = await openTestPool('t_points');
  pool = db.pool;
  await migrate(pool, log);
  await pool.query(`INSERT INTO tenants (id, name) VALUES ($1, $1)`, [TENANT]);
  driverId = await createUser(pool, {
    tenantId: TENANT,
    email: 'dora@acme.test',
    name: 'Dora Driver',
    role: 'driver',
    password: 'dora-password-1',
  });
  managerId = await createUser(pool, {
    tenantId: TENANT,
    email: 'max@acme.test',
    name: 'Max Manager',
    role: 'fleet_manager',
    password: 'max-password-12',
  });
  // One pool wide enough that each of the 50 requests holds a connection of its own.
  wide = await openPool({ url: POSTGRES_URL, schema: db.schema, max: 50 });
});

afterAll(async () => {
  await wide?.end();
  await db?.drop();
});

const INITIAL = 1000;
const COST = 70;

describe('points ledger', () => {
  it('50 concurrent redemptions on 50 connections never overdraw one balance', async () => {
    await inTenant(pool, TENANT, (c) =>
      appendPoints(c, {
        tenantId: TENANT,
        userId: driverId,
        delta: INITIAL,
        reason: 'adjustment',
        ref: null,
        note: 'opening balance',
        idemKey: 'opening',
        actor: `user:${managerId}`,
      }),
    );
    const manager = createCaller({ db: pool, session: session(managerId, 'fleet_manager') });
    const reward = await manager.rewards.create({ name: 'Fuel voucher', costPoints: COST });
    // Open the 50 connections first, so the requests really run side by side.
    const held = await Promise.all(Array.from({ length: 50 }, () => wide.connect()));
    for (const c of held) c.release();
    expect(wide.totalCount).toBe(50);

    const driver = createCaller({ db: wide, session: session(driverId, 'driver') });
    const began = performance.now();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 50 }, () => driver.rewards.redeem({ rewardId: reward.id })),
    );
    const took = performance.now() - began;
    const approved = outcomes.filter((o) => o.status === 'fulfilled').length;
    const refusals = outcomes
      .filter((o): o is PromiseRejectedResult => o.status === 'rejected')
      .map((o) => (o.reason as { code?: string }).code);
    const balance = await inTenant(pool, TENANT, (c) => pointsBalance(c, driverId));
    console.log(
      `50 concurrent redemptions of ${COST} against ${INITIAL}: ${approved} accepted, ${refusals.length} refused, balance ${balance}, ${took.toFixed(0)} ms`,
    );
    expect(balance).toBeGreaterThanOrEqual(0);
    expect(approved * COST).toBeLessThanOrEqual(INITIAL);
    // Serialised per driver: every request the balance could pay was accepted, the rest refused as such.
    expect(approved).toBe(Math.floor(INITIAL / COST));
    expect(balance).toBe(INITIAL - approved * COST);
    expect(new Set(refusals)).toEqual(new Set(['PRECONDITION_FAILED']));
    const { rows } = await pool.query<{ n: number; min_after: number; sum: number }>(
      `SELECT count(*)::int AS n, min(balance_after)::int AS min_after, sum(delta)::int AS sum
         FROM points_ledger WHERE user_id = $1`,
      [driverId],
    );
    expect(rows[0]).toEqual({ n: 1 + approved, min_after: balance, sum: balance });
    const pending = await manager.rewards.redemptions({ status: 'pending' });
    expect(pending.items).toHaveLength(approved);
  });

  it('a rejected request is refunded once; a decided one cannot be decided again', async () => {
    const manager = createCaller({ db: pool, session: session(managerId, 'fleet_manager') });
    const [first, second] = (await manager.rewards.redemptions({ status: 'pending' })).items;
    const before = await inTenant(pool, TENANT, (c) => pointsBalance(c, driverId));
    const rejected = await manager.rewards.reject({ redemptionId: first!.id, note: 'not this month' });
    expect(rejected.status).toBe('rejected');
    await manager.rewards.approve({ redemptionId: second!.id });
    await expect(manager.rewards.approve({ redemptionId: first!.id })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    await expect(manager.rewards.reject({ redemptionId: second!.id })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    const after = await inTenant(pool, TENANT, (c) => pointsBalance(c, driverId));
    expect(after).toBe(before + COST);
    const driver = createCaller({ db: pool, session: session(driverId, 'driver') });
    const history = await driver.points.history({ limit: 5 });
    expect(history.items[0]).toMatchObject({ reason: 'redemption_refund', delta: COST, balanceAfter: after });
  });

  it('limited stock: 5 concurrent requests for 3 units, 3 accepted', async () => {
    const manager = createCaller({ db: pool, session: session(managerId, 'fleet_manager') });
    const reward = await manager.rewards.create({ name: 'Cap', costPoints: 1, stock: 3 });
    const driver = createCaller({ db: wide, session: session(driverId, 'driver') });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 5 }, () => driver.rewards.redeem({ rewardId: reward.id })),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(3);
    const list = await manager.rewards.list({ includeRetired: true });
    expect(list.items.find((r) => r.id === reward.id)?.stock).toBe(0);
  });

  it('score bands pay once per period from the dataset', async () => {
    const paid = await inTenant(pool, TENANT, (c) =>
      awardScoreBand(c, {
        tenantId: TENANT,
        userId: driverId,
        score: 92,
        period: '2026-11',
        actor: 'system',
      }),
    );
    expect(paid?.delta).toBe(30);
    const again = await inTenant(pool, TENANT, (c) =>
      awardScoreBand(c, {
        tenantId: TENANT,
        userId: driverId,
        score: 92,
        period: '2026-11',
        actor: 'system',
      }),
    );
    expect(again).toBeNull();
    const low = await inTenant(pool, TENANT, (c) =>
      awardScoreBand(c, {
        tenantId: TENANT,
        userId: driverId,
        score: 40,
        period: '2026-10',
        actor: 'system',
      }),
    );
    expect(low).toBeNull();
  });

  it('ledger rows cannot be updated or deleted, by the application role or the owner', async () => {
    const { rows } = await pool.query<{ id: number }>('SELECT id FROM points_ledger ORDER BY id LIMIT 1');
    const id = rows[0]!.id;
    for (const sql of [
      `UPDATE points_ledger SET delta = 100000 WHERE id = ${id}`,
      `DELETE FROM points_ledger WHERE id = ${id}`,
    ]) {
      await expect(inTenant(pool, TENANT, (c) => c.query(sql))).rejects.toThrow(/permission denied/);
      await expect(pool.query(sql)).rejects.toThrow(/append-only/);
    }
    await expect(pool.query('TRUNCATE points_ledger CASCADE')).rejects.toThrow(/append-only/);
    // A debit past the balance is refused by the database itself, not only by the API.
    await expect(
      pool.query(
        `INSERT INTO points_ledger (tenant_id, user_id, delta, reason, idem_key, created_by, balance_after)
         VALUES ($1, $2, -1000000, 'adjustment', 'overdraw', 'test', 0)`,
        [TENANT, driverId],
      ),
    ).rejects.toThrow(/cannot pay/);
    // Nor can an entry name a person of another tenant, even written as the owner.
    await pool.query(`INSERT INTO tenants (id, name) VALUES ('globex', 'globex')`);
    await expect(
      pool.query(
        `INSERT INTO points_ledger (tenant_id, user_id, delta, reason, idem_key, created_by, balance_after)
         VALUES ('globex', $1, 5, 'adjustment', 'foreign', 'test', 0)`,
        [driverId],
      ),
    ).rejects.toThrow(/not in tenant/);
  });

  it('every ledger entry is audited and the chain holds', async () => {
    const { rows } = await pool.query<{ id: number; delta: number; user_id: string }>(
      'SELECT id, delta, user_id FROM points_ledger ORDER BY id',
    );
    const { rows: audit } = await pool.query<{ entity: string; action: string; after: { delta: number } }>(
      `SELECT entity, action, after FROM audit_log WHERE action IN ('points.credit', 'points.debit')`,
    );
    const byEntity = new Map(audit.map((a) => [a.entity, a]));
    expect(audit).toHaveLength(rows.length);
    for (const r of rows) {
      const a = byEntity.get(`points_ledger:${r.id}`);
      expect(a, `ledger ${r.id}`).toBeDefined();
      expect(a!.action).toBe(r.delta > 0 ? 'points.credit' : 'points.debit');
      expect(a!.after.delta).toBe(r.delta);
    }
    expect(await verifyAuditChain(pool)).toMatchObject({ ok: true });
  });
});
