import type pg from 'pg';
import type { SecretBox } from '../../security/secret-box.ts';
import { appendAudit } from './audit-log.ts';

/** The AAD a secret is sealed with: it opens only as this tenant's secret of this name. */
const context = (tenantId: string, name: string) => `tenant:${tenantId}/secret:${name}`;

export async function putTenantSecret(
  db: pg.PoolClient,
  box: SecretBox,
  s: { tenantId: string; name: string; value: string; actor: string },
): Promise<void> {
  const sealed = box.seal(s.value, context(s.tenantId, s.name));
  await db.query(
    `INSERT INTO tenant_secrets (tenant_id, name, sealed, key_id) VALUES ($1, $2, $3, $4)
     ON CONFLICT (tenant_id, name) DO UPDATE SET sealed = EXCLUDED.sealed, key_id = EXCLUDED.key_id, updated_at = now()`,
    [s.tenantId, s.name, sealed, box.activeKeyId],
  );
  // The audit entry says that it changed, never what it is.
  await appendAudit(db, {
    tenantId: s.tenantId,
    actor: s.actor,
    action: 'secret.put',
    entity: `secret:${s.name}`,
  });
}

export async function getTenantSecret(
  db: pg.Pool | pg.PoolClient,
  box: SecretBox,
  tenantId: string,
  name: string,
): Promise<string | null> {
  const { rows } = await db.query<{ sealed: string }>(
    'SELECT sealed FROM tenant_secrets WHERE tenant_id = $1 AND name = $2',
    [tenantId, name],
  );
  return rows[0] ? box.open(rows[0].sealed, context(tenantId, name)) : null;
}

/** Re-seals every secret not under the active key, one transaction; returns how many changed. */
export async function rotateTenantSecrets(db: pg.PoolClient, box: SecretBox, actor: string): Promise<number> {
  await db.query('BEGIN');
  try {
    const { rows } = await db.query<{ tenant_id: string; name: string; sealed: string }>(
      'SELECT tenant_id, name, sealed FROM tenant_secrets WHERE key_id <> $1 FOR UPDATE',
      [box.activeKeyId],
    );
    for (const r of rows) {
      const resealed = box.reseal(r.sealed, context(r.tenant_id, r.name))!;
      await db.query(
        'UPDATE tenant_secrets SET sealed = $3, key_id = $4, updated_at = now() WHERE tenant_id = $1 AND name = $2',
        [r.tenant_id, r.name, resealed, box.activeKeyId],
      );
    }
    if (rows.length > 0)
      await appendAudit(db, {
        tenantId: null,
        actor,
        action: 'secret.rotate',
        entity: `key:${box.activeKeyId}`,
        after: { resealed: rows.length },
      });
    await db.query('COMMIT');
    return rows.length;
  } catch (err) {
    await db.query('ROLLBACK').catch(() => {});
    throw err;
  }
}
