/**
 * Tenant webhook endpoints and users' push subscriptions: stored only after their address passed
 * the AddressGuard (SSRF), so nothing is ever queued for a refused one. Called by the API (as the
 * tenant) and by tests.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { putTenantSecret } from '../db/queries/tenant-secrets.ts';
import { CloudError, CloudErrorCode } from '../errors.ts';
import type { SecretBox } from '../security/secret-box.ts';
import type { AddressGuard } from './channels/address-guard.ts';
import { webhookSecretName } from './channels/webhook.ts';
import type { WebhookFormat } from './channels/webhook-formats.ts';

export interface NewWebhookEndpoint {
  tenantId: string;
  name: string;
  url: string;
  format: WebhookFormat;
  ratePerMinute: number;
  actor: string;
}

/** Creates the endpoint and its signing secret; the secret is returned once, then only sealed. */
export async function createWebhookEndpoint(
  db: pg.PoolClient,
  guard: AddressGuard,
  box: SecretBox | undefined,
  e: NewWebhookEndpoint,
): Promise<{ id: number; secret: string }> {
  const problem = await guard.checkUrl(e.url);
  if (problem)
    throw new CloudError(CloudErrorCode.NotificationAddressRefused, `url ${problem}`, {
      fields: { url: `URL ${problem}` },
    });
  if (!box)
    throw new CloudError(
      CloudErrorCode.ChannelNotConfigured,
      'FLEET_SECRET_KEYS is not set: a webhook secret cannot be stored',
      {
        fields: { url: 'webhooks need FLEET_SECRET_KEYS on the server' },
      },
    );
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO notification_webhooks (tenant_id, name, url, format, rate_per_minute) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (tenant_id, name) DO NOTHING RETURNING id`,
    [e.tenantId, e.name, e.url, e.format, e.ratePerMinute],
  );
  const id = rows[0]?.id;
  if (!id)
    throw new CloudError(CloudErrorCode.NotificationInvalid, 'name taken', {
      fields: { name: 'an endpoint has this name already' },
    });
  const secret = `whsec_${randomBytes(24).toString('base64url')}`;
  await putTenantSecret(db, box, {
    tenantId: e.tenantId,
    name: webhookSecretName(id),
    value: secret,
    actor: e.actor,
  });
  return { id, secret };
}

/**
 * Deletes an endpoint and its signing secret; false when there is no such endpoint. Deliveries
 * already queued for it end as dead letters ("endpoint removed"), visible and redeliverable.
 */
export async function deleteWebhookEndpoint(
  db: pg.PoolClient,
  tenantId: string,
  id: number,
): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM notification_webhooks WHERE tenant_id = $1 AND id = $2', [
    tenantId,
    id,
  ]);
  if (!rowCount) return false;
  await db.query('DELETE FROM tenant_secrets WHERE tenant_id = $1 AND name = $2', [
    tenantId,
    webhookSecretName(id),
  ]);
  return true;
}

export interface PushSubscriptionInput {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

/** Stores (or moves to this user) a browser's push subscription. */
export async function savePushSubscription(
  db: pg.ClientBase,
  guard: AddressGuard,
  tenantId: string,
  userId: string,
  sub: PushSubscriptionInput,
): Promise<void> {
  const problem = await guard.checkUrl(sub.endpoint);
  if (problem)
    throw new CloudError(CloudErrorCode.NotificationAddressRefused, `endpoint ${problem}`, {
      fields: { endpoint: `endpoint ${problem}` },
    });
  await db.query(
    `INSERT INTO push_subscriptions (tenant_id, user_id, endpoint, p256dh, auth) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (endpoint) DO UPDATE SET user_id = EXCLUDED.user_id, p256dh = EXCLUDED.p256dh, auth = EXCLUDED.auth
     WHERE push_subscriptions.tenant_id = EXCLUDED.tenant_id`,
    [tenantId, userId, sub.endpoint, sub.keys.p256dh, sub.keys.auth],
  );
}
