/**
 * Web Push (RFC 8030) with VAPID (RFC 8292) and aes128gcm (RFC 8188) through `web-push`, which
 * builds the encrypted request; our guarded client sends it (a subscription's endpoint comes from
 * a browser, so it is an address someone else chose). The payload carries the idempotency key;
 * the service worker uses it as the notification's tag, so a repeat replaces, never stacks.
 */
import type pg from 'pg';
import webpush from 'web-push';
import { CloudError, CloudErrorCode } from '../../errors.ts';
import type { Delivery } from '../model.ts';
import type { AddressGuard } from './address-guard.ts';
import type { ChannelSender } from './channel.ts';
import { classifyHttp, networkFailure, sendHttp } from './http.ts';

export interface PushSettings {
  publicKey: string;
  privateKey: string;
  /** mailto: or https: contact for push services (VAPID `sub`). */
  subject: string;
}

/** What the service worker receives (web/sw/sw.ts). */
export interface PushPayload {
  key: string;
  title: string;
  body: string;
  url: string | null;
  severity: string;
  alertId: number | null;
}

interface SubscriptionRow {
  id: number;
  endpoint: string;
  p256dh: string;
  auth: string;
}

export class PushSender implements ChannelSender {
  constructor(
    private readonly pool: pg.Pool,
    private readonly guard: AddressGuard,
    private readonly settings: PushSettings,
  ) {}

  async send(d: Delivery): Promise<string> {
    const { rows } = await this.pool.query<SubscriptionRow>(
      'SELECT id, endpoint, p256dh, auth FROM push_subscriptions WHERE tenant_id = $1 AND user_id = $2 ORDER BY id',
      [d.tenantId, d.target],
    );
    if (rows.length === 0)
      throw new CloudError(CloudErrorCode.DeliveryPermanent, 'the user has no push subscription');
    const payload: PushPayload = {
      key: d.idempotencyKey,
      title: d.subject,
      body: d.text.slice(0, 500),
      url: d.link,
      severity: d.severity,
      alertId: d.alertId,
    };
    let delivered = 0;
    let transient: CloudError | null = null;
    for (const sub of rows) {
      const req = webpush.generateRequestDetails(
        { endpoint: sub.endpoint, keys: { p256dh: sub.p256dh, auth: sub.auth } },
        JSON.stringify(payload),
        {
          vapidDetails: this.settings,
          contentEncoding: 'aes128gcm',
          TTL: d.severity === 'critical' ? 24 * 3600 : 4 * 3600,
          urgency: d.severity === 'critical' ? 'high' : 'normal',
        },
      );
      let status: number;
      try {
        const answer = await sendHttp({
          url: req.endpoint,
          guard: this.guard,
          headers: req.headers as Record<string, string>,
          body: req.body ?? Buffer.alloc(0),
        });
        status = answer.status;
      } catch (err) {
        const f = networkFailure(err, 'push service');
        if (f.code === CloudErrorCode.DeliveryTransient) transient = f;
        continue;
      }
      if (status === 404 || status === 410) {
        // The browser unsubscribed: the push service says so once and forever.
        await this.pool.query('DELETE FROM push_subscriptions WHERE id = $1', [sub.id]);
        continue;
      }
      const f = classifyHttp(status, 'push service');
      if (!f) delivered++;
      else if (f.code === CloudErrorCode.DeliveryTransient) transient = f;
    }
    // Another try resends to every subscription: the tag makes the repeat replace the first.
    if (transient) throw transient;
    if (delivered === 0)
      throw new CloudError(CloudErrorCode.DeliveryPermanent, 'no push subscription took it');
    return `${delivered} of ${rows.length} subscriptions`;
  }
}
