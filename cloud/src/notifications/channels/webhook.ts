/**
 * Webhooks to the tenant's endpoints (notification_webhooks): a JSON body signed like the
 * webhooks we receive (webhooks/signature.ts) —
 *
 *   Fleet-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
 *   Fleet-Idempotency-Key: <one key per (alert, recipient, channel), the same on every retry>
 *
 * Receivers check the signature, refuse a timestamp more than 300 s from their clock (the replay
 * window, docs/notifications.md) and drop a key they have seen. Each retry is signed afresh (a
 * new timestamp), so a retry 20 hours later is still inside the window.
 */
import type pg from 'pg';
import { getTenantSecret } from '../../db/queries/tenant-secrets.ts';
import { CloudError, CloudErrorCode } from '../../errors.ts';
import type { SecretBox } from '../../security/secret-box.ts';
import { signWebhook } from '../../webhooks/signature.ts';
import type { Delivery } from '../model.ts';
import type { AddressGuard } from './address-guard.ts';
import type { ChannelSender } from './channel.ts';
import { classifyHttp, networkFailure, sendHttp } from './http.ts';
import { type WebhookFormat, webhookBody } from './webhook-formats.ts';

export const IDEMPOTENCY_HEADER = 'fleet-idempotency-key';

/** The tenant secret that signs endpoint `id`'s requests. */
export const webhookSecretName = (id: number | string) => `notify-webhook:${id}`;

export interface WebhookEndpoint {
  id: number;
  url: string;
  format: WebhookFormat;
  ratePerMinute: number;
}

export async function getWebhookEndpoint(
  db: pg.Pool | pg.ClientBase,
  tenantId: string,
  id: number,
): Promise<WebhookEndpoint | null> {
  const { rows } = await db.query<{
    id: number;
    url: string;
    format: WebhookFormat;
    rate_per_minute: number;
  }>('SELECT id, url, format, rate_per_minute FROM notification_webhooks WHERE tenant_id = $1 AND id = $2', [
    tenantId,
    id,
  ]);
  const r = rows[0];
  return r ? { id: r.id, url: r.url, format: r.format, ratePerMinute: r.rate_per_minute } : null;
}

export class WebhookSender implements ChannelSender {
  constructor(
    private readonly pool: pg.Pool,
    private readonly guard: AddressGuard,
    private readonly secretBox: SecretBox | undefined,
  ) {}

  async send(d: Delivery): Promise<string> {
    const endpoint = await getWebhookEndpoint(this.pool, d.tenantId, Number(d.target));
    if (!endpoint)
      throw new CloudError(CloudErrorCode.DeliveryPermanent, `webhook endpoint ${d.target} no longer exists`);
    if (!this.secretBox)
      throw new CloudError(
        CloudErrorCode.ChannelNotConfigured,
        'FLEET_SECRET_KEYS is not set: webhook secrets cannot be opened',
      );
    const secret = await getTenantSecret(
      this.pool,
      this.secretBox,
      d.tenantId,
      webhookSecretName(endpoint.id),
    );
    if (!secret)
      throw new CloudError(CloudErrorCode.DeliveryPermanent, `webhook endpoint ${endpoint.id} has no secret`);
    const body = JSON.stringify(webhookBody(endpoint.format, d));
    let answer: Awaited<ReturnType<typeof sendHttp>>;
    try {
      answer = await sendHttp({
        url: endpoint.url,
        guard: this.guard,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'user-agent': 'fleet-notifications/1',
          'fleet-signature': signWebhook(secret, body),
          [IDEMPOTENCY_HEADER]: d.idempotencyKey,
        },
        body,
      });
    } catch (err) {
      throw networkFailure(err, `webhook ${endpoint.id}`);
    }
    const failure = classifyHttp(answer.status, `webhook ${endpoint.id}`);
    if (failure) throw failure;
    return `HTTP ${answer.status}`;
  }
}
