/**
 * POST /webhooks/<tenant>/<source>: verify (signature.ts) with the tenant's secret
 * `webhook:<source>` (tenant_secrets, sealed), refuse a replay, then queue the JSON body in
 * webhook_inbox for its consumer. Every refusal is audited with its reason; the answer to the
 * caller stays generic so it learns nothing about which check failed beyond what it needs.
 */
import { ID_PATTERN } from '@fleet/shared';
import type pg from 'pg';
import { appendAudit } from '../db/queries/audit-log.ts';
import { getTenantSecret } from '../db/queries/tenant-secrets.ts';
import type { SecretBox } from '../security/secret-box.ts';
import { DEFAULT_TOLERANCE_S, SIGNATURE_HEADER, verifyWebhook } from './signature.ts';

export const MAX_WEBHOOK_BYTES = 256 * 1024;

export interface WebhookAnswer {
  status: 202 | 400 | 401 | 404 | 409 | 503;
  message: string;
}

export async function receiveWebhook(
  pool: pg.Pool,
  box: SecretBox | undefined,
  req: { tenantId: string; source: string; signature: string | undefined; body: Buffer; ip: string },
  nowS = Math.floor(Date.now() / 1000),
): Promise<WebhookAnswer> {
  if (!box) return { status: 503, message: 'webhooks are not configured (FLEET_SECRET_KEYS)' };
  if (!ID_PATTERN.test(req.tenantId) || !ID_PATTERN.test(req.source))
    return { status: 404, message: 'no such webhook' };
  const refuse = async (status: WebhookAnswer['status'], reason: string, action = 'webhook.refused') => {
    await appendAudit(pool, {
      tenantId: req.tenantId,
      actor: `ip:${req.ip}`,
      action,
      entity: `webhook:${req.source}`,
      after: { reason },
    });
    return {
      status,
      message: status === 409 ? 'already received' : status === 400 ? reason : 'signature refused',
    };
  };
  const secret = await getTenantSecret(pool, box, req.tenantId, `webhook:${req.source}`);
  if (secret === null) return { status: 404, message: 'no such webhook' };
  const check = verifyWebhook(secret, req.signature, req.body, nowS, DEFAULT_TOLERANCE_S);
  if (!check.ok) return refuse(401, check.reason);
  let body: unknown;
  try {
    body = JSON.parse(req.body.toString('utf8'));
  } catch (err) {
    return refuse(400, `body is not JSON: ${(err as Error).message}`);
  }
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    const { rowCount } = await c.query(
      'INSERT INTO webhook_receipts (tenant_id, signature) VALUES ($1, $2) ON CONFLICT DO NOTHING',
      [req.tenantId, check.signature],
    );
    if (rowCount === 0) {
      await c.query('ROLLBACK');
      return refuse(409, 'replay of an already accepted request', 'webhook.replay-refused');
    }
    await c.query('INSERT INTO webhook_inbox (tenant_id, source, body) VALUES ($1, $2, $3)', [
      req.tenantId,
      req.source,
      JSON.stringify(body),
    ]);
    // Receipts older than the window can go: their timestamps would be refused anyway.
    await c.query(
      `DELETE FROM webhook_receipts WHERE tenant_id = $1 AND received_at < now() - make_interval(secs => $2)`,
      [req.tenantId, 2 * DEFAULT_TOLERANCE_S],
    );
    await appendAudit(c, {
      tenantId: req.tenantId,
      actor: `ip:${req.ip}`,
      action: 'webhook.accepted',
      entity: `webhook:${req.source}`,
    });
    await c.query('COMMIT');
  } catch (err) {
    await c.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    c.release();
  }
  return { status: 202, message: 'accepted' };
}

export { SIGNATURE_HEADER };
