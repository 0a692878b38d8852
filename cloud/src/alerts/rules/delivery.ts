/**
 *   alert opened (rule-alerts.ts) / escalated (sweep.ts)
 *      ──> the rule's channels for its severity ──> recipients: users (by id, by role, the
 *          vehicle's driver), external e-mail addresses, the tenant's webhook endpoints
 *      ──> enqueueNotifications (notifications/): the outbox, in the same transaction
 *
 * A delivery problem never loses the data that raised the alert: the enqueue runs under a
 * savepoint, and a failure is logged and rolled back to it, so the events and the alert commit
 * anyway (the alert shows in the inbox; its delivery log says nothing was queued).
 */
import type { Logger } from '@fleet/shared/log';
import type pg from 'pg';
import type { RaisedAlert } from '../../db/queries/rule-alerts.ts';
import { findRecipientUsers, findTenantWebhooks } from '../../db/queries/rule-recipients.ts';
import { alertLink, enqueueNotifications, type NotificationItem } from '../../notifications/index.ts';
import type { AlertRule, RuleRecipients } from './rule.ts';
import type { AlertDelivery } from './rule-alerts.ts';
import type { EscalationDelivery } from './sweep.ts';

interface AlertFacts {
  id: number;
  tenantId: string;
  vehicleId: string | null;
  title: string;
  severity: string;
  ts?: number;
  lat?: number | null;
  lon?: number | null;
  details?: Record<string, unknown>;
}

export function ruleDelivery(publicUrl: string, log: Logger): AlertDelivery & EscalationDelivery {
  const send = async (
    db: pg.ClientBase,
    rule: AlertRule,
    alert: AlertFacts,
    recipients: RuleRecipients,
    keyPrefix: string | null,
  ) => {
    const channels = (rule.channels[rule.severity] ?? []).filter((c) => c !== 'in_app');
    if (channels.length === 0) return;
    await db.query('SAVEPOINT alert_delivery');
    try {
      const items = await itemsFor(db, alert, rule, recipients, channels, publicUrl, keyPrefix);
      if (items.length > 0) await enqueueNotifications(db, items);
      await db.query('RELEASE SAVEPOINT alert_delivery');
      // Under the ingest's trace (shared/src/log.ts) when an agent's event batch raised it.
      log.info(
        { alertId: alert.id, ruleId: rule.id, vehicleId: alert.vehicleId, deliveries: items.length },
        'alert queued for delivery',
      );
    } catch (err) {
      await db.query('ROLLBACK TO SAVEPOINT alert_delivery');
      log.error(
        { alertId: alert.id, ruleId: rule.id, err: (err as Error).message },
        'alert not queued for delivery',
      );
    }
  };
  return {
    async opened(db, raised: readonly RaisedAlert[]) {
      for (const r of raised) {
        const f = r.fire;
        await send(
          db,
          f.rule,
          {
            id: r.id,
            tenantId: f.tenantId,
            vehicleId: f.vehicleId,
            title: f.title,
            severity: f.severity,
            ts: f.ts,
            lat: f.lat,
            lon: f.lon,
            details: f.details,
          },
          f.rule.recipients,
          null,
        );
      }
    },
    async escalated(db, alert, level, rule) {
      const recipients = rule.escalation[level - 1]?.recipients;
      if (recipients) await send(db, rule, alert, recipients, `escalation-${level}`);
    },
  };
}

async function itemsFor(
  db: pg.ClientBase,
  alert: AlertFacts,
  rule: AlertRule,
  recipients: RuleRecipients,
  channels: readonly string[],
  publicUrl: string,
  keyPrefix: string | null,
): Promise<NotificationItem[]> {
  const users = await findRecipientUsers(db, alert.tenantId, recipients, alert.vehicleId);
  const webhooks = channels.includes('webhook') ? await findTenantWebhooks(db, alert.tenantId) : [];
  const link = alertLink(publicUrl, alert.id);
  const volume = typeof alert.details?.volumeL === 'number' ? alert.details.volumeL : null;
  const lines = [
    alert.title,
    alert.vehicleId ? `Vehicle: ${alert.vehicleId}` : null,
    alert.ts !== undefined ? `When: ${new Date(alert.ts).toISOString()}` : null,
    alert.lat != null && alert.lon != null ? `Place: ${alert.lat.toFixed(5)}, ${alert.lon.toFixed(5)}` : null,
    volume !== null ? `Litres: ${volume.toFixed(1)}` : null,
    `Rule: ${rule.name}`,
    keyPrefix ? `Escalated: not acknowledged in time (${keyPrefix.replace('-', ' level ')})` : null,
    `Open: ${link}`,
  ].filter((l): l is string => l !== null);
  const base = {
    alertId: alert.id,
    tenantId: alert.tenantId,
    severity: rule.severity,
    subject:
      `${keyPrefix ? '[Escalated] ' : ''}${alert.title}${alert.vehicleId ? ` — ${alert.vehicleId}` : ''}`.slice(
        0,
        200,
      ),
    text: lines.join('\n'),
    link,
    data: {
      alertId: alert.id,
      vehicleId: alert.vehicleId,
      title: alert.title,
      severity: rule.severity,
      ts: alert.ts,
      lat: alert.lat ?? null,
      lon: alert.lon ?? null,
      litres: volume,
      rule: rule.name,
    },
  };
  const key = (channel: string, who: string) =>
    keyPrefix
      ? `alert-${alert.id}.${keyPrefix}.${channel}.${who}`.replace(/[^A-Za-z0-9._:-]/g, '_').slice(0, 120)
      : undefined;
  const items: NotificationItem[] = [];
  for (const channel of channels) {
    if (channel === 'webhook') {
      for (const id of webhooks)
        items.push({ ...base, channel, recipient: { webhookId: id }, ...optional(key(channel, `w${id}`)) });
      continue;
    }
    if (channel !== 'email' && channel !== 'push' && channel !== 'sms') continue;
    for (const userId of users)
      items.push({ ...base, channel, recipient: { userId }, ...optional(key(channel, userId)) });
    if (channel === 'email')
      for (const address of recipients.emails)
        items.push({ ...base, channel, recipient: { address }, ...optional(key(channel, address)) });
  }
  return items;
}

const optional = (idempotencyKey: string | undefined) => (idempotencyKey ? { idempotencyKey } : {});
