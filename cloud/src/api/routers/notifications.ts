/**
 * Notification settings and delivery (cloud/src/notifications): each user's channels and quiet
 * hours, browsers' push subscriptions, the tenant's webhook endpoints, the dead-letter list with
 * redelivery, and an alert's delivery log. Every procedure runs as the tenant (RLS).
 */
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { appendAudit } from '../../db/queries/audit-log.ts';
import { LOW_RANGE_KM } from '../../drivers/push/driver-push.ts';
import { CloudError } from '../../errors.ts';
import { emailProblem, phoneProblem, TIME_OF_DAY, timeZoneProblem } from '../../notifications/addresses.ts';
import { AddressGuard } from '../../notifications/channels/address-guard.ts';
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  savePushSubscription,
} from '../../notifications/endpoints.ts';
import { CHANNELS, DELIVERY_STATUSES, LOG_EVENTS } from '../../notifications/model.ts';
import { redeliver } from '../../notifications/outbox.ts';
import type { SecretBox } from '../../security/secret-box.ts';
import { authedProcedure, createRouter } from '../trpc.ts';

const own = authedProcedure.meta({ permission: 'notifications:own' });
const manage = authedProcedure.meta({ permission: 'notifications:manage' });
const readAlerts = authedProcedure.meta({ permission: 'alerts:read' });

/** Set once at start (main.ts): what the API needs from the notification configuration. */
const api: { vapidPublicKey: string | null; guard: AddressGuard; secretBox: SecretBox | undefined } = {
  vapidPublicKey: null,
  guard: new AddressGuard(),
  secretBox: undefined,
};
export function configureNotificationsApi(o: {
  vapidPublicKey?: string | undefined;
  allowAddresses: readonly string[];
  secretBox?: SecretBox | undefined;
}) {
  api.vapidPublicKey = o.vapidPublicKey ?? null;
  api.guard = new AddressGuard(o.allowAddresses);
  api.secretBox = o.secretBox;
}

const check = (problem: (v: string) => string | null, what: string) => (v: string, ctx: z.RefinementCtx) => {
  const p = problem(v);
  if (p) ctx.addIssue({ code: 'custom', message: `${what} ${p}` });
};

const Settings = z.object({
  email: z.string().trim().toLowerCase().superRefine(check(emailProblem, 'E-mail address')).nullable(),
  phone: z.string().trim().superRefine(check(phoneProblem, 'Phone number')).nullable(),
  channels: z.array(z.enum(['email', 'push', 'sms'])).max(3),
  quietStart: z.string().regex(TIME_OF_DAY, 'Quiet hours start must be a time like 22:00').nullable(),
  quietEnd: z.string().regex(TIME_OF_DAY, 'Quiet hours end must be a time like 07:00').nullable(),
  timeZone: z.string().superRefine(check(timeZoneProblem, 'Time zone')),
});

const DriverPushSettings = z.object({
  lowRange: z.boolean(),
  serviceDue: z.boolean(),
  challengeResults: z.boolean(),
});
type PushSettingsRow = {
  push_low_range: boolean;
  push_service_due: boolean;
  push_challenge_results: boolean;
};
const pushSettingsOf = (r: PushSettingsRow) => ({
  lowRange: r.push_low_range,
  serviceDue: r.push_service_due,
  challengeResults: r.push_challenge_results,
});

/** A CloudError with field errors as a BAD_REQUEST; the error formatter gives forms its fields. */
function fieldError(err: unknown): never {
  if (err instanceof CloudError && err.fields)
    throw new TRPCError({ code: 'BAD_REQUEST', message: err.message, cause: err });
  throw err;
}

const DeadLetter = z.object({
  id: z.string(),
  alertId: z.number().nullable(),
  channel: z.enum(CHANNELS),
  recipient: z.string(),
  subject: z.string(),
  attempts: z.number(),
  lastError: z.string().nullable(),
  updatedAt: z.number(),
});

export const notificationsRouter = createRouter({
  /** The signed-in user's settings (defaults when never saved). */
  settings: own.output(Settings.extend({ accountEmail: z.string() })).query(({ ctx }) =>
    ctx.tenant(async (db) => {
      const { rows } = await db.query(
        `SELECT u.email AS account_email, s.email, s.phone, s.channels, to_char(s.quiet_start, 'HH24:MI') AS quiet_start,
                to_char(s.quiet_end, 'HH24:MI') AS quiet_end, s.time_zone
           FROM users u LEFT JOIN notification_settings s ON s.user_id = u.id WHERE u.id = $1`,
        [ctx.session.userId],
      );
      const r = rows[0];
      return {
        accountEmail: r.account_email,
        email: r.email ?? null,
        phone: r.phone ?? null,
        channels: r.channels ?? ['email', 'push'],
        quietStart: r.quiet_start ?? null,
        quietEnd: r.quiet_end ?? null,
        timeZone: r.time_zone ?? 'UTC',
      };
    }),
  ),

  updateSettings: own
    .input(
      Settings.superRefine((s, ctx) => {
        if ((s.quietStart === null) !== (s.quietEnd === null))
          ctx.addIssue({
            code: 'custom',
            path: [s.quietStart === null ? 'quietStart' : 'quietEnd'],
            message: 'Give both times of the quiet hours, or neither',
          });
        if (s.channels.includes('sms') && !s.phone)
          ctx.addIssue({ code: 'custom', path: ['phone'], message: 'Text messages need a phone number' });
      }),
    )
    .mutation(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        await db.query(
          `INSERT INTO notification_settings (tenant_id, user_id, email, phone, channels, quiet_start, quiet_end, time_zone)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (user_id) DO UPDATE SET email = EXCLUDED.email, phone = EXCLUDED.phone, channels = EXCLUDED.channels,
             quiet_start = EXCLUDED.quiet_start, quiet_end = EXCLUDED.quiet_end, time_zone = EXCLUDED.time_zone, updated_at = now()`,
          [
            ctx.session.tenantId,
            ctx.session.userId,
            input.email,
            input.phone,
            input.channels,
            input.quietStart,
            input.quietEnd,
            input.timeZone,
          ],
        );
        return { ok: true };
      }),
    ),

  /**
   * The signed-in user's driver pushes (drivers/push/driver-push.ts), each on or off; all on until
   * changed. Stored with their units and language (user_preferences).
   */
  driverPushSettings: own.output(DriverPushSettings.extend({ lowRangeKm: z.number() })).query(({ ctx }) =>
    ctx.tenant(async (db) => {
      const { rows } = await db.query<PushSettingsRow>(
        `SELECT push_low_range, push_service_due, push_challenge_results FROM user_preferences WHERE user_id = $1`,
        [ctx.session.userId],
      );
      // The threshold is the cloud's (the page names it in the driver's unit).
      const settings = rows[0]
        ? pushSettingsOf(rows[0])
        : { lowRange: true, serviceDue: true, challengeResults: true };
      return { ...settings, lowRangeKm: LOW_RANGE_KM };
    }),
  ),

  /** Changes the given kinds of the signed-in user only; the others keep their value. */
  setDriverPushSettings: own
    .input(DriverPushSettings.partial())
    .output(DriverPushSettings)
    .mutation(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        const { rows } = await db.query<PushSettingsRow>(
          `INSERT INTO user_preferences (tenant_id, user_id, push_low_range, push_service_due, push_challenge_results)
           VALUES ($1, $2, COALESCE($3, true), COALESCE($4, true), COALESCE($5, true))
           ON CONFLICT (tenant_id, user_id) DO UPDATE SET
             push_low_range = COALESCE($3, user_preferences.push_low_range),
             push_service_due = COALESCE($4, user_preferences.push_service_due),
             push_challenge_results = COALESCE($5, user_preferences.push_challenge_results),
             updated_at = now()
           RETURNING push_low_range, push_service_due, push_challenge_results`,
          [
            ctx.session.tenantId,
            ctx.session.userId,
            input.lowRange ?? null,
            input.serviceDue ?? null,
            input.challengeResults ?? null,
          ],
        );
        return pushSettingsOf(rows[0]!);
      }),
    ),

  /** The VAPID public key browsers subscribe with; null when push is not configured. */
  pushKey: own
    .output(z.object({ publicKey: z.string().nullable() }))
    .query(() => ({ publicKey: api.vapidPublicKey })),

  subscribePush: own
    .input(
      z.object({
        endpoint: z.url({ protocol: /^https?$/ }).max(2000),
        keys: z.object({
          p256dh: z.string().regex(/^[A-Za-z0-9_-]{80,100}$/),
          auth: z.string().regex(/^[A-Za-z0-9_-]{16,30}$/),
        }),
      }),
    )
    .mutation(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        await savePushSubscription(db, api.guard, ctx.session.tenantId, ctx.session.userId, input).catch(
          fieldError,
        );
        return { ok: true };
      }),
    ),

  webhooks: manage
    .output(
      z.array(
        z.object({
          id: z.number(),
          name: z.string(),
          url: z.string(),
          format: z.string(),
          ratePerMinute: z.number(),
        }),
      ),
    )
    .query(({ ctx }) =>
      ctx.tenant(async (db) => {
        const { rows } = await db.query(
          'SELECT id, name, url, format, rate_per_minute FROM notification_webhooks WHERE tenant_id = $1 ORDER BY name',
          [ctx.session.tenantId],
        );
        return rows.map((r) => ({
          id: r.id,
          name: r.name,
          url: r.url,
          format: r.format,
          ratePerMinute: r.rate_per_minute,
        }));
      }),
    ),

  /** Creates an endpoint; the signing secret is in the answer once and never again. Audited. */
  createWebhook: manage
    .input(
      z.object({
        name: z.string().trim().min(1).max(100),
        url: z.string().trim().max(2000),
        format: z.enum(['json', 'slack', 'teams']).default('json'),
        ratePerMinute: z.number().int().min(1).max(6000).default(60),
      }),
    )
    .mutation(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        const created = await createWebhookEndpoint(db, api.guard, api.secretBox, {
          tenantId: ctx.session.tenantId,
          actor: `user:${ctx.session.userId}`,
          ...input,
        }).catch(fieldError);
        await appendAudit(db, {
          tenantId: ctx.session.tenantId,
          actor: `user:${ctx.session.userId}`,
          action: 'notification-webhook.create',
          entity: `notification-webhook:${created.id}`,
          after: { name: input.name, format: input.format },
        });
        return created;
      }),
    ),

  /** Removes an endpoint and its secret (the receiver stops getting alerts at once). Audited. */
  deleteWebhook: manage.input(z.object({ id: z.number().int().positive() })).mutation(({ ctx, input }) =>
    ctx.tenant(async (db) => {
      const deleted = await deleteWebhookEndpoint(db, ctx.session.tenantId, input.id);
      if (!deleted) throw new TRPCError({ code: 'NOT_FOUND', message: `no webhook endpoint ${input.id}` });
      await appendAudit(db, {
        tenantId: ctx.session.tenantId,
        actor: `user:${ctx.session.userId}`,
        action: 'notification-webhook.delete',
        entity: `notification-webhook:${input.id}`,
      });
      return { id: input.id };
    }),
  ),

  deadLetters: manage
    .input(z.object({ limit: z.number().int().min(1).max(200).default(50) }).default({ limit: 50 }))
    .output(z.array(DeadLetter))
    .query(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        const { rows } = await db.query(
          `SELECT id, alert_id, channel, recipient, subject, attempts, last_error, updated_at FROM notification_deliveries
            WHERE tenant_id = $1 AND status = 'dead' ORDER BY updated_at DESC LIMIT $2`,
          [ctx.session.tenantId, input.limit],
        );
        return rows.map((r) => ({
          id: r.id,
          alertId: r.alert_id,
          channel: r.channel,
          recipient: r.recipient,
          subject: r.subject,
          attempts: r.attempts,
          lastError: r.last_error,
          updatedAt: r.updated_at.getTime(),
        }));
      }),
    ),

  redeliver: manage.input(z.object({ id: z.uuid() })).mutation(({ ctx, input }) =>
    ctx.tenant(async (db) => {
      const ok = await redeliver(db, ctx.session.tenantId, input.id, `user:${ctx.session.userId}`);
      if (!ok) throw new TRPCError({ code: 'NOT_FOUND', message: 'no such dead delivery' });
      return { ok };
    }),
  ),

  /** An alert's deliveries with their logs (queued, sent, retried, failed, dead, held, digested). */
  forAlert: readAlerts
    .input(z.object({ alertId: z.number().int().positive() }))
    .output(
      z.array(
        z.object({
          id: z.string(),
          channel: z.enum(CHANNELS),
          recipient: z.string(),
          status: z.enum(DELIVERY_STATUSES),
          log: z.array(
            z.object({
              event: z.enum(LOG_EVENTS),
              attempt: z.number(),
              detail: z.string().nullable(),
              at: z.number(),
            }),
          ),
        }),
      ),
    )
    .query(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        const { rows } = await db.query(
          `SELECT d.id, d.channel, d.recipient, d.status,
                  coalesce(json_agg(json_build_object('event', l.event, 'attempt', l.attempt, 'detail', l.detail,
                                    'at', (extract(epoch FROM l.at) * 1000)::bigint) ORDER BY l.id)
                           FILTER (WHERE l.id IS NOT NULL), '[]') AS log
             FROM notification_deliveries d LEFT JOIN notification_delivery_log l ON l.delivery_id = d.id
            WHERE d.tenant_id = $1 AND d.alert_id = $2 GROUP BY d.id ORDER BY d.created_at`,
          [ctx.session.tenantId, input.alertId],
        );
        return rows;
      }),
    ),
});
