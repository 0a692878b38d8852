import type { Logger } from '@fleet/shared/log';
import type pg from 'pg';
import { appendAudit } from '../db/queries/audit-log.ts';
import { createUser } from './auth-service.ts';

/**
 * The first administrator of a fresh installation, from FLEET_BOOTSTRAP_ADMIN_EMAIL and
 * FLEET_BOOTSTRAP_ADMIN_PASSWORD (tenant FLEET_BOOTSTRAP_TENANT, default "demo"; checked by
 * config.ts). Does nothing when that email already exists, so it is safe at every start; the
 * password never reaches a log.
 */
export async function bootstrapAdmin(
  pool: pg.Pool,
  admin: { email: string; password: string; tenantId: string },
  log: Logger,
): Promise<void> {
  const { email, password, tenantId } = admin;
  const { rows } = await pool.query('SELECT 1 FROM users WHERE email = $1', [email]);
  if (rows.length > 0) return;
  await pool.query('INSERT INTO tenants (id, name) VALUES ($1, $1) ON CONFLICT DO NOTHING', [tenantId]);
  const id = await createUser(pool, { tenantId, email, name: 'Administrator', role: 'admin', password });
  await appendAudit(pool, {
    tenantId,
    actor: 'system',
    action: 'user.create',
    entity: `user:${id}`,
    after: { role: 'admin' }, // no email: the trail is permanent, personal data is not
  });
  log.info({ email, tenantId }, 'bootstrap administrator created');
}
