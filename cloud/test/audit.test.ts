/**
 * The audit log (migration 000004) on the real PostgreSQL: append-only for the application role
 * and for the owner, and a hash chain whose verification names the first entry that a superuser
 * edited, deleted or moved (the tampering is done with superuser rights, triggers switched off).
 */
import { createLogger } from '@fleet/shared/log';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditVerify } from '../src/cli/main.ts';
import { migrate } from '../src/db/migrate.ts';
import { appendAudit, verifyAuditChain } from '../src/db/queries/audit-log.ts';
import { openTestPool, POSTGRES_URL, requireServices } from './support/services.ts';

const log = createLogger('audit-test').child({}, { level: 'error' });
const pools: Awaited<ReturnType<typeof openTestPool>>[] = [];

beforeAll(async () => {
  await requireServices({ postgres: true });
});
afterAll(async () => {
  for (const p of pools) await p.drop();
});

/** A fresh schema with 8 entries of two tenants, before and after values of every shape. */
async function logOf8() {
  const db = await openTestPool('t_audit');
  pools.push(db);
  await migrate(db.pool, log);
  for (let i = 1; i <= 8; i++) {
    await appendAudit(db.pool, {
      tenantId: i % 3 === 0 ? 'globex' : 'acme',
      actor: `user:u${i}`,
      action: 'vehicle.update',
      entity: `vehicle:VAN-${i}`,
      before: { name: `van ${i}`, tank_l: 80, tags: ['a'], note: null },
      after: { name: `van ${i}b`, tank_l: 80.5, tags: ['a', 'b'], note: 'ünïcode ✓' },
    });
  }
  return db;
}

/** Runs `sql` as superuser with triggers off: what an attacker with database rights could do. */
async function tamper(pool: pg.Pool, ...sql: string[]) {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    await c.query('SET LOCAL session_replication_role = replica');
    for (const s of sql) await c.query(s);
    await c.query('COMMIT');
  } finally {
    c.release();
  }
}

async function asApp<T>(pool: pg.Pool, tenant: string, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    await c.query('SET LOCAL ROLE fleet_app');
    await c.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenant]);
    return await fn(c);
  } finally {
    await c.query('ROLLBACK').catch(() => {});
    c.release();
  }
}

describe('audit log (real PostgreSQL)', () => {
  it('an intact chain verifies, and `fleet-cloud audit verify` says so (exit 0)', async () => {
    const db = await logOf8();
    expect(await verifyAuditChain(db.pool)).toEqual({ ok: true, entries: 8 });
    const out: string[] = [];
    const code = await auditVerify(
      { databaseUrl: POSTGRES_URL, schema: db.schema, json: true },
      { out: (l) => out.push(l), err: (l) => out.push(l) },
    );
    expect(code).toBe(0);
    expect(JSON.parse(out[0]!)).toEqual({ ok: true, entries: 8 });
  });

  it('refuses UPDATE, DELETE and TRUNCATE, even for the owner', async () => {
    const db = await logOf8();
    await expect(db.pool.query(`UPDATE audit_log SET actor = 'user:x' WHERE id = 2`)).rejects.toThrow(
      /append-only/,
    );
    await expect(db.pool.query('DELETE FROM audit_log WHERE id = 2')).rejects.toThrow(/append-only/);
    await expect(db.pool.query('TRUNCATE audit_log')).rejects.toThrow(/append-only/);
    expect(await verifyAuditChain(db.pool)).toEqual({ ok: true, entries: 8 });
  });

  it('the application role appends for its own tenant only, reads only its tenant, and cannot change anything', async () => {
    const db = await logOf8();
    const seen = await asApp(db.pool, 'acme', async (c) => {
      const id = await appendAudit(c, {
        tenantId: 'acme',
        actor: 'user:app',
        action: 'alert.ack',
        entity: 'alert:1',
      });
      expect(id).toBe(9);
      const { rows } = await c.query<{ tenant_id: string }>('SELECT DISTINCT tenant_id FROM audit_log');
      return rows.map((r) => r.tenant_id);
    });
    expect(seen).toEqual(['acme']);
    await expect(
      asApp(db.pool, 'acme', (c) => appendAudit(c, { tenantId: 'globex', actor: 'user:app', action: 'x.y' })),
    ).rejects.toThrow(/outside the transaction's tenant/);
    await expect(
      asApp(db.pool, 'acme', (c) => c.query('UPDATE audit_log SET actor = $1', ['x'])),
    ).rejects.toThrow(/permission denied/);
    await expect(asApp(db.pool, 'acme', (c) => c.query('DELETE FROM audit_log'))).rejects.toThrow(
      /permission denied/,
    );
    await expect(
      asApp(db.pool, 'acme', (c) =>
        c.query(
          `INSERT INTO audit_log (at, actor, action, prev_hash, hash) VALUES (now(), 'a', 'b', '\\x00', '\\x01')`,
        ),
      ),
    ).rejects.toThrow(/permission denied/);
  });

  it.each([
    {
      name: 'an edited entry',
      sql: [`UPDATE audit_log SET after = '{"name": "someone else"}' WHERE id = 4`],
      firstBadId: 4,
      problem: 'edited',
    },
    {
      name: 'an edited time (a backdated entry)',
      sql: [`UPDATE audit_log SET at = at - interval '1 day' WHERE id = 2`],
      firstBadId: 2,
      problem: 'edited',
    },
    {
      name: 'a deleted entry',
      sql: ['DELETE FROM audit_log WHERE id = 6'],
      firstBadId: 7,
      problem: 'unchained',
    },
    {
      name: 'the last entry deleted',
      sql: ['DELETE FROM audit_log WHERE id = 8'],
      firstBadId: null,
      problem: null,
    },
    {
      name: 'two entries swapped (reordered)',
      sql: [
        'UPDATE audit_log SET id = -3 WHERE id = 3',
        'UPDATE audit_log SET id = 3 WHERE id = 5',
        'UPDATE audit_log SET id = 5 WHERE id = -3',
      ],
      firstBadId: 3,
      problem: 'unchained',
    },
  ])('names the first bad entry: $name', async ({ sql, firstBadId, problem }) => {
    const db = await logOf8();
    await tamper(db.pool, ...sql);
    const verdict = await verifyAuditChain(db.pool);
    if (firstBadId === null) {
      // Cutting the tail leaves a valid shorter chain: that is what anchoring the head
      // (publishing the latest hash elsewhere) is for. Stated, not hidden.
      expect(verdict).toEqual({ ok: true, entries: 7 });
      return;
    }
    expect(verdict).toMatchObject({ ok: false, firstBadId, problem });
    const out: string[] = [];
    const code = await auditVerify(
      { databaseUrl: POSTGRES_URL, schema: db.schema },
      { out: (l) => out.push(l), err: (l) => out.push(l) },
    );
    expect(code).toBe(1);
    expect(out[0]).toContain(`first bad entry is id ${firstBadId}`);
  });
});
