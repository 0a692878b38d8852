/**
 * Tenant secrets on the real PostgreSQL: only ciphertext in the table, row-level security for the
 * application role, and a key rotation that re-seals every row (and is audited) after which the
 * old key can be dropped.
 */
import { createLogger } from '@fleet/shared/log';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../src/db/migrate.ts';
import { getTenantSecret, putTenantSecret, rotateTenantSecrets } from '../src/db/queries/tenant-secrets.ts';
import { SecretBox } from '../src/security/secret-box.ts';
import { openTestPool, requireServices } from './support/services.ts';

let db: Awaited<ReturnType<typeof openTestPool>>;
const k1 = { id: 'k1', key: Buffer.alloc(32, 7) };
const k2 = { id: 'k2', key: Buffer.alloc(32, 9) };

beforeAll(async () => {
  await requireServices({ postgres: true });
  db = await openTestPool('t_secrets');
  await migrate(db.pool, createLogger('secrets-test').child({}, { level: 'error' }));
});
afterAll(async () => {
  await db?.drop();
});

async function inTx<T>(fn: (c: pg.PoolClient) => Promise<T>, tenant?: string): Promise<T> {
  const c = await db.pool.connect();
  try {
    await c.query('BEGIN');
    if (tenant) {
      await c.query('SET LOCAL ROLE fleet_app');
      await c.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenant]);
    }
    const r = await fn(c);
    await c.query('COMMIT');
    return r;
  } catch (err) {
    await c.query('ROLLBACK');
    throw err;
  } finally {
    c.release();
  }
}

describe('tenant secrets (real PostgreSQL)', () => {
  it('stores ciphertext only; each tenant reads its own through RLS; rotation re-seals and is audited', async () => {
    const box1 = new SecretBox([k1]);
    await inTx(
      (c) =>
        putTenantSecret(c, box1, {
          tenantId: 'acme',
          name: 'webhook',
          value: 'acme-secret-1',
          actor: 'user:a',
        }),
      'acme',
    );
    await inTx(
      (c) =>
        putTenantSecret(c, box1, {
          tenantId: 'globex',
          name: 'webhook',
          value: 'globex-secret',
          actor: 'user:g',
        }),
      'globex',
    );

    const { rows } = await db.pool.query<{ sealed: string; key_id: string }>(
      'SELECT sealed, key_id FROM tenant_secrets',
    );
    expect(rows).toHaveLength(2);
    for (const r of rows) {
      expect(r.sealed).not.toMatch(/secret/);
      expect(r.key_id).toBe('k1');
    }
    // The application role sees and opens its own tenant's only.
    expect(await inTx((c) => getTenantSecret(c, box1, 'acme', 'webhook'), 'acme')).toBe('acme-secret-1');
    expect(await inTx((c) => getTenantSecret(c, box1, 'globex', 'webhook'), 'acme')).toBeNull();
    // ...and cannot write into another tenant.
    await expect(
      inTx(
        (c) => putTenantSecret(c, box1, { tenantId: 'globex', name: 'x', value: 'v', actor: 'user:a' }),
        'acme',
      ),
    ).rejects.toThrow(/row-level security|outside the transaction's tenant/);
    // A row copied to another tenant does not open there (the context is bound).
    await db.pool.query(
      `INSERT INTO tenant_secrets (tenant_id, name, sealed, key_id)
       SELECT 'globex', 'stolen', sealed, key_id FROM tenant_secrets WHERE tenant_id = 'acme'`,
    );
    await expect(getTenantSecret(db.pool, box1, 'globex', 'stolen')).rejects.toThrow(/does not authenticate/);
    await db.pool.query(`DELETE FROM tenant_secrets WHERE name = 'stolen'`);

    // Rotation: new key first, every row re-sealed, then the old key can go.
    const both = new SecretBox([k2, k1]);
    expect(await inTx((c) => rotateTenantSecrets(c, both, 'user:ops'))).toBe(2);
    expect(await inTx((c) => rotateTenantSecrets(c, both, 'user:ops'))).toBe(0);
    const onlyK2 = new SecretBox([k2]);
    expect(await getTenantSecret(db.pool, onlyK2, 'acme', 'webhook')).toBe('acme-secret-1');
    expect(await getTenantSecret(db.pool, onlyK2, 'globex', 'webhook')).toBe('globex-secret');
    const { rows: audit } = await db.pool.query<{ action: string; entity: string }>(
      `SELECT action, entity FROM audit_log WHERE action LIKE 'secret.%' ORDER BY id`,
    );
    expect(audit).toEqual([
      { action: 'secret.put', entity: 'secret:webhook' },
      { action: 'secret.put', entity: 'secret:webhook' },
      { action: 'secret.rotate', entity: 'key:k2' },
    ]);
  });
});
