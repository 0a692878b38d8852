/**
 * The contract for the rules engine: `enqueueNotifications(db, items)` inside its own
 * transaction. Every item is checked first; one bad item refuses the whole call with a field
 * error per problem (CloudError NotificationInvalid) and nothing is queued. Good items become
 * rows of the outbox (`notification_deliveries`, status queued) plus a `queued` log entry, in the
 * caller's transaction: rolled back with it, or committed and then certainly delivered (the
 * worker moves them into the job queue).
 *
 * Runs as the owner or as the tenant (`inTenant()`, fleet_app under RLS): it reads only the
 * tenant's users, settings and webhook endpoints and writes only the tenant's outbox.
 */
import { createHash } from 'node:crypto';
import { currentTrace } from '@fleet/shared/log';
import type pg from 'pg';
import type { z } from 'zod';
import { CloudError, CloudErrorCode } from '../errors.ts';
import { emailProblem, headerTextProblem, phoneProblem } from './addresses.ts';
import { type Channel, NotificationItem } from './model.ts';

export interface EnqueueResult {
  /** One per new delivery; an item queued before (same idempotency key) is not repeated here. */
  queued: { index: number; deliveryId: string; idempotencyKey: string }[];
  /** Items the recipient's settings turned away (channel off, no phone): not errors. */
  skipped: { index: number; reason: string }[];
  /** Items whose idempotency key was already in the outbox. */
  duplicates: number[];
}

/** The default key: one per (alert, recipient, channel); it leaks neither address nor tenant. */
export function deliveryKey(tenantId: string, alertId: number, recipient: string, channel: Channel): string {
  const h = createHash('sha256').update(`${tenantId}\n${alertId}\n${recipient}\n${channel}`).digest('hex');
  return `alert-${alertId}-${channel}-${h.slice(0, 20)}`;
}

type Parsed = z.output<typeof NotificationItem>;
interface Resolved {
  index: number;
  item: Parsed;
  recipient: string;
  recipientUserId: string | null;
  target: string;
}

function withCurrentTrace(data: Record<string, unknown> | undefined): Record<string, unknown> {
  const trace = currentTrace();
  return trace ? { ...data, trace } : (data ?? {});
}

export async function enqueueNotifications(
  db: pg.ClientBase,
  items: readonly NotificationItem[],
): Promise<EnqueueResult> {
  const fields: Record<string, string> = {};
  const parsed: Parsed[] = [];
  items.forEach((raw, i) => {
    const r = NotificationItem.safeParse(raw);
    if (!r.success) {
      for (const issue of r.error.issues) fields[`items.${i}.${issue.path.join('.')}`] = issue.message;
      return;
    }
    const item = r.data;
    const subject = headerTextProblem(item.subject);
    if (subject) fields[`items.${i}.subject`] = `subject ${subject}`;
    if (item.alertId === null && !item.idempotencyKey)
      fields[`items.${i}.idempotencyKey`] = 'required when there is no alert id';
    const rcpt = item.recipient;
    if ('address' in rcpt) {
      const problem =
        item.channel === 'email'
          ? emailProblem(rcpt.address)
          : item.channel === 'sms'
            ? phoneProblem(rcpt.address)
            : `a ${item.channel} recipient must be ${item.channel === 'push' ? 'a user' : 'a webhook endpoint'}`;
      if (problem) fields[`items.${i}.recipient.address`] = `address ${problem}`;
    }
    if ('webhookId' in rcpt && item.channel !== 'webhook')
      fields[`items.${i}.recipient.webhookId`] = 'a webhook endpoint takes the webhook channel only';
    if ('userId' in rcpt && item.channel === 'webhook')
      fields[`items.${i}.recipient.userId`] = 'webhooks go to a tenant endpoint (webhookId), not to a user';
    parsed.push(item);
  });
  if (Object.keys(fields).length > 0) throw invalid(fields);

  const result: EnqueueResult = { queued: [], skipped: [], duplicates: [] };
  const resolved: Resolved[] = [];
  for (const [index, item] of parsed.entries()) {
    const r = await resolveRecipient(db, item);
    if ('problem' in r) fields[`items.${index}.recipient`] = r.problem;
    else if ('skip' in r) result.skipped.push({ index, reason: r.skip });
    else resolved.push({ index, item, ...r });
  }
  if (Object.keys(fields).length > 0) throw invalid(fields);

  for (const r of resolved) {
    const { item } = r;
    const key = item.idempotencyKey ?? deliveryKey(item.tenantId, item.alertId!, r.recipient, item.channel);
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO notification_deliveries
         (tenant_id, alert_id, recipient, recipient_user_id, channel, target, severity, subject,
          body_text, body_html, link, data, idempotency_key)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
       ON CONFLICT (tenant_id, idempotency_key) DO NOTHING RETURNING id`,
      [
        item.tenantId,
        item.alertId,
        r.recipient,
        r.recipientUserId,
        item.channel,
        r.target,
        item.severity,
        item.subject,
        item.text,
        item.html ?? null,
        item.link ?? null,
        // The trace it was queued under goes with it: the worker sends (and logs) under it again.
        JSON.stringify(withCurrentTrace(item.data)),
        key,
      ],
    );
    const id = rows[0]?.id;
    if (!id) {
      result.duplicates.push(r.index);
      continue;
    }
    await db.query(
      `INSERT INTO notification_delivery_log (tenant_id, delivery_id, event) VALUES ($1, $2, 'queued')`,
      [item.tenantId, id],
    );
    result.queued.push({ index: r.index, deliveryId: id, idempotencyKey: key });
  }
  return result;
}

function invalid(fields: Record<string, string>): CloudError {
  const list = Object.entries(fields).map(([f, m]) => `${f}: ${m}`);
  return new CloudError(CloudErrorCode.NotificationInvalid, `nothing queued: ${list.join('; ')}`, { fields });
}

interface UserTarget {
  email: string;
  settings_email: string | null;
  phone: string | null;
  channels: string[] | null;
}

/** Where the item goes: a problem (an error), a skip (the user's choice), or the target. */
async function resolveRecipient(
  db: pg.ClientBase,
  item: Parsed,
): Promise<{ problem: string } | { skip: string } | Omit<Resolved, 'index' | 'item'>> {
  const rcpt = item.recipient;
  if ('address' in rcpt)
    return {
      recipient: `${item.channel === 'sms' ? 'sms' : 'email'}:${rcpt.address.toLowerCase()}`,
      recipientUserId: null,
      target: item.channel === 'email' ? rcpt.address.toLowerCase() : rcpt.address,
    };
  if ('webhookId' in rcpt) {
    const { rows } = await db.query('SELECT 1 FROM notification_webhooks WHERE tenant_id = $1 AND id = $2', [
      item.tenantId,
      rcpt.webhookId,
    ]);
    if (rows.length === 0) return { problem: `no webhook endpoint ${rcpt.webhookId} in this tenant` };
    return { recipient: `webhook:${rcpt.webhookId}`, recipientUserId: null, target: String(rcpt.webhookId) };
  }
  const { rows } = await db.query<UserTarget>(
    `SELECT u.email, s.email AS settings_email, s.phone, s.channels
       FROM users u LEFT JOIN notification_settings s ON s.user_id = u.id
      WHERE u.tenant_id = $1 AND u.id = $2`,
    [item.tenantId, rcpt.userId],
  );
  const user = rows[0];
  if (!user) return { problem: `no user ${rcpt.userId} in this tenant` };
  const channels = user.channels ?? ['email', 'push'];
  if (!channels.includes(item.channel)) return { skip: `user turned ${item.channel} off` };
  const base = { recipient: `user:${rcpt.userId}`, recipientUserId: rcpt.userId };
  if (item.channel === 'email') return { ...base, target: user.settings_email ?? user.email };
  if (item.channel === 'sms')
    return user.phone ? { ...base, target: user.phone } : { skip: 'user has no phone number' };
  return { ...base, target: rcpt.userId };
}
