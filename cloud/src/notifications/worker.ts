/**
 *   enqueueNotifications (caller's transaction)
 *        │  notification_deliveries: queued
 *        ▼
 *   relay (this worker, every relayMs) ── same transaction ──▶ pg-boss job  (status scheduled)
 *        ▼
 *   pg-boss work loop ─▶ policy: quiet hours / throttle → held (→ digest), webhook rate → later
 *        │                 else: sending (a lease)
 *        ▼
 *   channels/ (email, webhook, push, sms) ─▶ sent │ retrying (pg-boss retries: exponential
 *        backoff with jitter) │ dead (permanent, or older than the channel's limit)
 *   digests (every digestPollMs): due digests become one delivery each, through the same path.
 *
 * At least once: a worker killed mid-send leaves the job active and the delivery `sending`; pg-boss
 * expires the job after `expireSeconds` and runs it again, the lease has run out by then, and the
 * message goes again with the same idempotency key (Message-ID, header, push tag) for the
 * receiver to drop. Nothing is lost to a dropped database connection either: every step is a
 * transaction, and an unfinished one leaves the job to expire and run again.
 */
import { type Logger, traceIdOf, withTrace } from '@fleet/shared/log';
import type pg from 'pg';
import PgBoss from 'pg-boss';
import { CloudError, CloudErrorCode } from '../errors.ts';
import { countDelivery } from '../metrics/notification-metrics.ts';
import type { SecretBox } from '../security/secret-box.ts';
import { AddressGuard } from './channels/address-guard.ts';
import type { ChannelSender } from './channels/channel.ts';
import { EmailSender, type EmailSettings } from './channels/email.ts';
import { PushSender, type PushSettings } from './channels/push.ts';
import { SmsSender, type SmsSettings } from './channels/sms.ts';
import { getWebhookEndpoint, WebhookSender } from './channels/webhook.ts';
import type { Channel, Delivery } from './model.ts';
import {
  appendLog,
  closeDueDigests,
  hold,
  lockDelivery,
  markFailed,
  markSending,
  markSent,
  recentSends,
  takeQueued,
  transaction,
} from './outbox.ts';
import { quietUntil } from './quiet-hours.ts';

export const DELIVERY_QUEUE = 'notification-delivery';

export interface NotificationSettings {
  email?: EmailSettings | undefined;
  push?: PushSettings | undefined;
  sms?: SmsSettings | undefined;
  /** Opens webhook secrets (tenant_secrets). */
  secretBox?: SecretBox | undefined;
  /** IPs / CIDR blocks that webhooks and push may reach although private or loopback. */
  allowAddresses: readonly string[];
  /** The web app's address, for the digest's link. */
  publicUrl?: string | undefined;
  /** Messages per recipient per channel in `throttleWindowMs` (default 10 an hour). */
  throttlePerHour: number;
  /** SMS: the hardest throttle (default 3 an hour). */
  smsPerHour: number;
  throttleWindowMs: number;
  /** First retry after this many seconds, then doubling with jitter (pg-boss retryBackoff). */
  retryDelaySeconds: number;
  /** Give up (dead) once a delivery has been failing this long: webhooks 24 h, others less. */
  maxAgeMs: Record<Channel, number>;
  /** A send not finished in this time is taken to have died with its worker and is run again. */
  expireSeconds: number;
  /** pg-boss's schema (its tables live apart from ours). */
  queueSchema: string;
  batchSize: number;
  pollSeconds: number;
  relayMs: number;
  digestPollMs: number;
  /** How often pg-boss looks for expired (crashed) jobs. */
  maintenanceSeconds: number;
}

export const DEFAULT_NOTIFICATION_SETTINGS: NotificationSettings = {
  allowAddresses: [],
  throttlePerHour: 10,
  smsPerHour: 3,
  throttleWindowMs: 3_600_000,
  retryDelaySeconds: 30,
  maxAgeMs: { webhook: 24 * 3_600_000, email: 24 * 3_600_000, push: 4 * 3_600_000, sms: 3_600_000 },
  expireSeconds: 120,
  queueSchema: 'notification_queue',
  batchSize: 20,
  pollSeconds: 1,
  relayMs: 250,
  digestPollMs: 15_000,
  maintenanceSeconds: 30,
};

interface JobData {
  deliveryId: string;
}

type Decision = { send: Delivery; attempt: number } | { skip: string } | { deferMs: number };

export class NotificationWorker {
  private readonly boss: PgBoss;
  private readonly senders: Partial<Record<Channel, ChannelSender>> = {};
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly workerIds: string[] = [];
  private relaying = false;
  private digesting = false;
  private stopped = false;
  readonly guard: AddressGuard;
  readonly stats = { sent: 0, failed: 0, dead: 0, held: 0, relayed: 0 };

  constructor(
    private readonly pool: pg.Pool,
    private readonly settings: NotificationSettings,
    private readonly log: Logger,
  ) {
    this.guard = new AddressGuard(settings.allowAddresses);
    this.boss = new PgBoss({
      // Our pool (PostgreSQL or the PGlite socket): one set of connections per process.
      db: { executeSql: (text, values) => pool.query(text, values) },
      schema: settings.queueSchema,
      schedule: false,
      maintenanceIntervalSeconds: settings.maintenanceSeconds,
      monitorStateIntervalSeconds: 3600,
    });
    this.boss.on('error', (err: Error) => this.log.warn({ err: err.message }, 'job queue error'));
    if (settings.email) this.senders.email = new EmailSender(settings.email);
    this.senders.webhook = new WebhookSender(pool, this.guard, settings.secretBox);
    if (settings.push) this.senders.push = new PushSender(pool, this.guard, settings.push);
    if (settings.sms) this.senders.sms = new SmsSender(settings.sms);
  }

  async start(): Promise<void> {
    await this.startQueue();
    const id = await this.boss.work<JobData>(
      DELIVERY_QUEUE,
      { batchSize: this.settings.batchSize, pollingIntervalSeconds: this.settings.pollSeconds },
      (jobs) => this.handleBatch(jobs),
    );
    this.workerIds.push(id);
    this.every(this.settings.relayMs, () => this.relay());
    this.every(this.settings.digestPollMs, () => this.closeDigests());
    this.log.info(
      { channels: Object.keys(this.senders), queueSchema: this.settings.queueSchema },
      'notification worker started',
    );
  }

  /**
   * pg-boss installs its schema and our queue (a partition) at the first start; two processes
   * starting at once (two API processes, a rolling deploy) can deadlock on that install. The
   * loser tries again: both steps are idempotent once the other one committed.
   */
  private async startQueue(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.boss.start();
        await this.boss.createQueue(DELIVERY_QUEUE, {
          name: DELIVERY_QUEUE,
          retryLimit: 1000, // the channel's maxAgeMs decides when to give up, not a count
          retryDelay: this.settings.retryDelaySeconds,
          retryBackoff: true,
          expireInSeconds: this.settings.expireSeconds,
        });
        return;
      } catch (err) {
        const code = (err as { code?: string }).code;
        const raced =
          code === '40P01' || code === '23505' || code === '42P07' || /deadlock/.test(String(err));
        if (!raced || attempt >= 5) throw err;
        this.log.info(
          { attempt, err: (err as Error).message },
          'job queue install raced another process; again',
        );
        await new Promise((r) => setTimeout(r, 200 * attempt + Math.random() * 300));
      }
    }
  }

  /** Jobs waiting in the queue (created, or failed and waiting for their retry): for the metrics. */
  queueDepth(): Promise<number> {
    return this.boss.getQueueSize(DELIVERY_QUEUE);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    await this.boss.stop({ graceful: true, timeout: 10_000, close: false, wait: true });
    for (const s of Object.values(this.senders)) await s.close?.();
  }

  private every(ms: number, fn: () => Promise<unknown>) {
    this.timers.push(
      setInterval(() => {
        if (!this.stopped)
          fn().catch((err: Error) => this.log.warn({ err: err.message }, 'notification loop failed'));
      }, ms),
    );
  }

  /** Moves committed outbox rows into the job queue, in one transaction (both or neither). */
  async relay(): Promise<number> {
    if (this.relaying) return 0;
    this.relaying = true;
    try {
      const moved = await transaction(this.pool, async (c) => {
        const rows = await takeQueued(c, 200);
        if (rows.length > 0)
          await this.boss.insert(
            rows.map((r) => ({ name: DELIVERY_QUEUE, data: { deliveryId: r.id } satisfies JobData })),
            { db: { executeSql: (text, values) => c.query(text, values) } },
          );
        return rows.length;
      });
      this.stats.relayed += moved;
      // Wake the work loop now instead of at its next poll.
      if (moved > 0) for (const id of this.workerIds) this.boss.notifyWorker(id);
      return moved;
    } finally {
      this.relaying = false;
    }
  }

  /** Due digests become deliveries (then relayed like any other). */
  async closeDigests(): Promise<number> {
    if (this.digesting) return 0;
    this.digesting = true;
    try {
      return await transaction(this.pool, (c) => closeDueDigests(c, this.settings.publicUrl));
    } finally {
      this.digesting = false;
    }
  }

  private async handleBatch(jobs: PgBoss.Job<JobData>[]): Promise<void> {
    // In parallel: the SMTP pool and the HTTP requests overlap; a failed one is failed alone.
    let unrecorded = 0;
    await Promise.all(
      jobs.map((job) =>
        this.handle(job).catch(async (err: Error) => {
          // Our own bookkeeping failed (the database went away): the job is failed and retried.
          this.log.warn({ delivery: job.data.deliveryId, err: err.message }, 'delivery step failed');
          await this.boss.fail(DELIVERY_QUEUE, job.id, { message: err.message }).catch(() => unrecorded++);
        }),
      ),
    );
    // pg-boss completes every job of a batch whose handler resolves. A job we could not even
    // mark failed must not be completed with it: throwing fails the batch (or, if that cannot
    // be written either, leaves it active to expire and run again); jobs already sent are
    // skipped when they come back (their delivery is no longer scheduled).
    if (unrecorded > 0) throw new Error(`${unrecorded} deliveries could not be recorded`);
  }

  private async handle(job: PgBoss.Job<JobData>): Promise<void> {
    const decision = await this.decide(job.data.deliveryId);
    if ('skip' in decision) return;
    if ('deferMs' in decision) {
      await this.boss.send(DELIVERY_QUEUE, job.data, { startAfter: new Date(Date.now() + decision.deferMs) });
      return;
    }
    const { send: d, attempt } = decision;
    // Logged under the trace the alert was queued with (shared/src/log.ts), when it has one.
    await withTrace(traceIdOf(d.data.trace), () => this.deliver(job, d, attempt));
  }

  private async deliver(job: PgBoss.Job<JobData>, d: Delivery, attempt: number): Promise<void> {
    const sender = this.senders[d.channel];
    try {
      if (!sender)
        throw new CloudError(
          CloudErrorCode.ChannelNotConfigured,
          `the ${d.channel} channel is not configured`,
        );
      const detail = await sender.send(d);
      await markSent(this.pool, d, attempt, detail);
      this.stats.sent++;
      countDelivery(d.channel, 'sent');
      this.log.info({ delivery: d.id, channel: d.channel, alertId: d.alertId, attempt }, 'delivery sent');
    } catch (err) {
      const e =
        err instanceof CloudError ? err : new CloudError(CloudErrorCode.DeliveryTransient, String(err));
      const age = Date.now() - (d.firstAttemptAt ?? new Date()).getTime();
      const transient = e.code === CloudErrorCode.DeliveryTransient;
      if (transient && age < this.settings.maxAgeMs[d.channel]) {
        await markFailed(this.pool, d, attempt, 'retrying', e.message);
        this.stats.failed++;
        countDelivery(d.channel, 'retrying');
        await this.boss.fail(DELIVERY_QUEUE, job.id, { message: `E${e.code}` });
        return;
      }
      const why = transient ? `${e.message}; gave up after ${attempt} attempts` : e.message;
      await markFailed(this.pool, d, attempt, 'dead', why);
      this.stats.dead++;
      countDelivery(d.channel, 'dead');
      this.log.warn({ delivery: d.id, channel: d.channel, code: e.code, attempt }, 'delivery dead');
    }
  }

  /** In one transaction: is this delivery still ours to send, and may it go now? */
  private async decide(id: string): Promise<Decision> {
    return transaction(this.pool, async (c) => {
      const d = await lockDelivery(c, id);
      return d ? this.policy(c, d) : { skip: 'gone' };
    });
  }

  private async policy(
    c: pg.ClientBase,
    d: Delivery & { status: string; leaseUntil: Date | null },
  ): Promise<Decision> {
    const now = new Date();
    const live = d.status === 'scheduled' || d.status === 'retrying';
    const abandoned = d.status === 'sending' && (!d.leaseUntil || d.leaseUntil <= now);
    // A job run again while another attempt's lease still holds (pg-boss expired the job of a
    // worker that lost its database connection mid-send): look again when the lease ends, never
    // drop it, or the delivery would stay 'sending' for good.
    if (d.status === 'sending' && !abandoned)
      return { deferMs: Math.max(100, d.leaseUntil!.getTime() - now.getTime() + 100) };
    if (!live && !abandoned) return { skip: d.status };
    if (d.kind === 'alert') {
      // One decision at a time per (recipient, channel): two jobs must not both see "9 sent".
      await c.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
        `${d.tenantId}\n${d.recipient}\n${d.channel}`,
      ]);
      if (d.channel === 'webhook') {
        const endpoint = await getWebhookEndpoint(c, d.tenantId, Number(d.target));
        if (endpoint) {
          const recent = await recentSends(c, d, 60_000);
          if (recent.count >= endpoint.ratePerMinute && recent.oldest)
            return { deferMs: Math.max(1000, recent.oldest.getTime() + 60_000 - now.getTime()) };
        }
      } else if (d.attempts === 0) {
        // People, not integrations: quiet hours, then the throttle (first attempt only: a retry
        // of a message already let through is not a new message).
        if (d.severity !== 'critical' && d.recipientUserId) {
          const until = await this.quietHoursEnd(c, d.recipientUserId, now);
          if (until) {
            await hold(c, d, 'quiet_hours', until);
            this.stats.held++;
            countDelivery(d.channel, 'held');
            return { skip: 'held' };
          }
        }
        const limit = d.channel === 'sms' ? this.settings.smsPerHour : this.settings.throttlePerHour;
        const windowMs = this.settings.throttleWindowMs;
        const recent = await recentSends(c, d, windowMs);
        if (recent.count >= limit) {
          const due = new Date((recent.oldest ?? now).getTime() + windowMs);
          await hold(c, d, 'throttle', due > now ? due : now);
          this.stats.held++;
          countDelivery(d.channel, 'held');
          return { skip: 'held' };
        }
      }
    }
    const attempt = await markSending(c, d, this.settings.expireSeconds);
    if (attempt > 1) await appendLog(c, d, 'retried', attempt);
    return { send: d, attempt };
  }

  private async quietHoursEnd(c: pg.ClientBase, userId: string, now: Date): Promise<Date | null> {
    const { rows } = await c.query<{
      quiet_start: string | null;
      quiet_end: string | null;
      time_zone: string;
    }>(
      `SELECT to_char(quiet_start, 'HH24:MI') AS quiet_start, to_char(quiet_end, 'HH24:MI') AS quiet_end, time_zone
         FROM notification_settings WHERE user_id = $1`,
      [userId],
    );
    const s = rows[0];
    if (!s?.quiet_start || !s.quiet_end) return null;
    return quietUntil({ start: s.quiet_start, end: s.quiet_end, timeZone: s.time_zone }, now);
  }
}
