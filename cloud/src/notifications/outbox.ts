/**
 * The outbox's SQL, for the worker (as the owner, across tenants, every statement naming its
 * delivery) and for the API's dead-letter list and redeliver (as the tenant, under RLS).
 */
import type pg from 'pg';
import type { Channel, Delivery, DeliveryStatus, LogEvent, Severity } from './model.ts';

type Db = pg.Pool | pg.ClientBase;

/**
 * `fn` in a transaction on one pooled connection. A connection the server drops while it is
 * checked out emits 'error' on the client; without a listener that is an uncaught exception
 * (the process dies), with one the pending query fails and the caller retries later.
 */
export async function transaction<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  let broken: Error | undefined;
  const onError = (err: Error) => {
    broken = err;
  };
  c.on('error', onError);
  try {
    await c.query('BEGIN');
    const out = await fn(c);
    await c.query('COMMIT');
    return out;
  } catch (err) {
    await c.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    c.off('error', onError);
    // A broken connection is thrown away, not handed to the next caller.
    c.release(broken ?? undefined);
  }
}

interface DeliveryRow {
  id: string;
  tenant_id: string;
  alert_id: number | null;
  kind: 'alert' | 'digest';
  recipient: string;
  recipient_user_id: string | null;
  channel: Channel;
  target: string;
  severity: Severity;
  subject: string;
  body_text: string;
  body_html: string | null;
  link: string | null;
  data: Record<string, unknown>;
  idempotency_key: string;
  attempts: number;
  first_attempt_at: Date | null;
  created_at: Date;
  status: DeliveryStatus;
  lease_until: Date | null;
}

export const toDelivery = (r: DeliveryRow): Delivery => ({
  id: r.id,
  tenantId: r.tenant_id,
  alertId: r.alert_id,
  kind: r.kind,
  recipient: r.recipient,
  recipientUserId: r.recipient_user_id,
  channel: r.channel,
  target: r.target,
  severity: r.severity,
  subject: r.subject,
  text: r.body_text,
  html: r.body_html,
  link: r.link,
  data: r.data,
  idempotencyKey: r.idempotency_key,
  attempts: r.attempts,
  firstAttemptAt: r.first_attempt_at,
  createdAt: r.created_at,
});

export async function appendLog(
  db: Db,
  d: { tenantId: string; id: string },
  event: LogEvent,
  attempt: number,
  detail: string | null = null,
): Promise<void> {
  await db.query(
    'INSERT INTO notification_delivery_log (tenant_id, delivery_id, event, attempt, detail) VALUES ($1, $2, $3, $4, $5)',
    [d.tenantId, d.id, event, attempt, detail?.slice(0, 500) ?? null],
  );
}

/** Takes up to `limit` committed, not yet queued deliveries and marks them scheduled (caller's transaction). */
export async function takeQueued(
  db: pg.ClientBase,
  limit: number,
): Promise<{ id: string; tenant_id: string; channel: Channel }[]> {
  const { rows } = await db.query<{ id: string; tenant_id: string; channel: Channel }>(
    `WITH picked AS (
       SELECT id FROM notification_deliveries WHERE status = 'queued'
        ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED)
     UPDATE notification_deliveries d SET status = 'scheduled', updated_at = now()
       FROM picked WHERE d.id = picked.id
     RETURNING d.id, d.tenant_id, d.channel`,
    [limit],
  );
  return rows;
}

/** The delivery, locked for the caller's transaction; null when gone. */
export async function lockDelivery(
  db: pg.ClientBase,
  id: string,
): Promise<(Delivery & { status: DeliveryStatus; leaseUntil: Date | null }) | null> {
  const { rows } = await db.query<DeliveryRow>(
    'SELECT * FROM notification_deliveries WHERE id = $1 FOR UPDATE',
    [id],
  );
  const r = rows[0];
  return r ? { ...toDelivery(r), status: r.status, leaseUntil: r.lease_until } : null;
}

/**
 * Messages to this recipient on this channel that count against a limit: sent within the
 * window, or being sent now. Digests do not count (they are the relief valve).
 */
export async function recentSends(
  db: pg.ClientBase,
  d: Delivery,
  windowMs: number,
): Promise<{ count: number; oldest: Date | null }> {
  const { rows } = await db.query<{ count: number; oldest: Date | null }>(
    `SELECT count(*)::int AS count, min(coalesce(sent_at, updated_at)) AS oldest
       FROM notification_deliveries
      WHERE tenant_id = $1 AND recipient = $2 AND channel = $3 AND kind = 'alert' AND id <> $4
        AND ((status = 'sent' AND sent_at > now() - $5 * interval '1 millisecond')
          OR (status = 'sending' AND lease_until > now()))`,
    [d.tenantId, d.recipient, d.channel, d.id, windowMs],
  );
  return rows[0]!;
}

export async function markSending(db: pg.ClientBase, d: Delivery, leaseS: number): Promise<number> {
  const { rows } = await db.query<{ attempts: number }>(
    `UPDATE notification_deliveries
        SET status = 'sending', attempts = attempts + 1, first_attempt_at = coalesce(first_attempt_at, now()),
            lease_until = now() + $2 * interval '1 second', updated_at = now()
      WHERE id = $1 RETURNING attempts`,
    [d.id, leaseS],
  );
  return rows[0]!.attempts;
}

/**
 * A status change and its log entry in one statement: a reader (the dead-letter page, a test)
 * never sees "sent" without its log line, and a crash between the two cannot lose the line.
 */
async function setStatusLogged(
  db: Db,
  d: Delivery,
  set: string,
  params: unknown[],
  event: LogEvent,
  attempt: number,
  detail: string,
): Promise<void> {
  const n = params.length;
  await db.query(
    `WITH changed AS (
       UPDATE notification_deliveries SET ${set}, lease_until = NULL, updated_at = now() WHERE id = $1 RETURNING id
     )
     INSERT INTO notification_delivery_log (tenant_id, delivery_id, event, attempt, detail)
     SELECT $${n + 2}, id, $${n + 3}, $${n + 4}, $${n + 5} FROM changed`,
    [d.id, ...params, d.tenantId, event, attempt, detail.slice(0, 500)],
  );
}

export async function markSent(db: Db, d: Delivery, attempt: number, detail: string): Promise<void> {
  await setStatusLogged(
    db,
    d,
    `status = 'sent', sent_at = now(), last_error = NULL`,
    [],
    'sent',
    attempt,
    detail,
  );
}

export async function markFailed(
  db: Db,
  d: Delivery,
  attempt: number,
  status: 'retrying' | 'dead',
  detail: string,
): Promise<void> {
  await setStatusLogged(
    db,
    d,
    'status = $2, last_error = $3',
    [status, detail.slice(0, 500)],
    status === 'dead' ? 'dead' : 'failed',
    attempt,
    detail,
  );
}

/** Holds the delivery for the recipient's one open digest on this channel (created or moved later). */
export async function hold(
  db: pg.ClientBase,
  d: Delivery,
  reason: 'throttle' | 'quiet_hours',
  dueAt: Date,
): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO notification_digests (tenant_id, recipient, recipient_user_id, channel, target, reason, due_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (tenant_id, recipient, channel) WHERE status = 'open'
       DO UPDATE SET due_at = GREATEST(notification_digests.due_at, EXCLUDED.due_at)
     RETURNING id`,
    [d.tenantId, d.recipient, d.recipientUserId, d.channel, d.target, reason, dueAt],
  );
  const digestId = rows[0]!.id;
  await db.query(
    `UPDATE notification_deliveries SET status = 'held', held_reason = $2, digest_id = $3, lease_until = NULL,
            updated_at = now() WHERE id = $1`,
    [d.id, reason, digestId],
  );
  await appendLog(db, d, 'held', d.attempts, `${reason} until ${dueAt.toISOString()}`);
  return digestId;
}

const SEVERITY_RANK: Record<Severity, number> = { critical: 0, major: 1, minor: 2, warning: 3, info: 4 };

/**
 * Turns every due open digest into one delivery (kind digest, queued) listing what was held,
 * and marks the held ones digested; one transaction per call. Returns the digests closed.
 */
export async function closeDueDigests(
  client: pg.ClientBase,
  publicUrl: string | undefined,
  limit = 20,
): Promise<number> {
  const { rows: due } = await client.query<{
    id: string;
    tenant_id: string;
    recipient: string;
    recipient_user_id: string | null;
    channel: Channel;
    target: string;
    reason: string;
  }>(
    `SELECT id, tenant_id, recipient, recipient_user_id, channel, target, reason FROM notification_digests
      WHERE status = 'open' AND due_at <= now() ORDER BY due_at LIMIT $1 FOR UPDATE SKIP LOCKED`,
    [limit],
  );
  for (const g of due) {
    const { rows: held } = await client.query<DeliveryRow>(
      `SELECT * FROM notification_deliveries WHERE digest_id = $1 AND status = 'held' ORDER BY created_at`,
      [g.id],
    );
    let deliveryId: string | null = null;
    if (held.length > 0) {
      const items = held.map(toDelivery);
      const severity = items.reduce<Severity>(
        (worst, i) => (SEVERITY_RANK[i.severity] < SEVERITY_RANK[worst] ? i.severity : worst),
        'info',
      );
      const why = g.reason === 'quiet_hours' ? 'during your quiet hours' : 'over the hourly limit';
      const subject = `${items.length} alert${items.length === 1 ? '' : 's'} held back ${why}`;
      const text = items
        .map(
          (i) =>
            `- [${i.severity}] ${i.subject} (${i.createdAt.toISOString()})${i.link ? `\n  ${i.link}` : ''}`,
        )
        .join('\n');
      const { rows } = await client.query<{ id: string }>(
        `INSERT INTO notification_deliveries
           (tenant_id, kind, recipient, recipient_user_id, channel, target, severity, subject, body_text, link, data,
            idempotency_key)
         VALUES ($1, 'digest', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
        [
          g.tenant_id,
          g.recipient,
          g.recipient_user_id,
          g.channel,
          g.target,
          severity,
          subject,
          text,
          publicUrl ? new URL('/alerts', publicUrl).toString() : null,
          JSON.stringify({
            deliveries: items.map((i) => ({ id: i.id, alertId: i.alertId, key: i.idempotencyKey })),
          }),
          `digest-${g.id}`,
        ],
      );
      deliveryId = rows[0]!.id;
      await appendLog(
        client,
        { tenantId: g.tenant_id, id: deliveryId },
        'queued',
        0,
        `digest of ${items.length}`,
      );
      await client.query(
        `UPDATE notification_deliveries SET status = 'digested', updated_at = now() WHERE digest_id = $1 AND status = 'held'`,
        [g.id],
      );
      for (const i of items) await appendLog(client, i, 'digested', i.attempts, `in digest ${deliveryId}`);
    }
    await client.query(`UPDATE notification_digests SET status = 'sent', delivery_id = $2 WHERE id = $1`, [
      g.id,
      deliveryId,
    ]);
  }
  return due.length;
}

/** A dead delivery goes back to the outbox (as the tenant: RLS decides what "ours" is). */
export async function redeliver(
  db: pg.ClientBase,
  tenantId: string,
  id: string,
  actor: string,
): Promise<boolean> {
  const { rows } = await db.query<{ attempts: number }>(
    `UPDATE notification_deliveries SET status = 'queued', first_attempt_at = NULL, last_error = NULL, updated_at = now()
      WHERE tenant_id = $1 AND id = $2 AND status = 'dead' RETURNING attempts`,
    [tenantId, id],
  );
  if (!rows[0]) return false;
  await appendLog(db, { tenantId, id }, 'redelivered', rows[0].attempts, `by ${actor}`);
  return true;
}
