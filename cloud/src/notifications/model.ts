/**
 * The words of notifications: what the rules engine hands to `enqueueNotifications` (a
 * NotificationItem) and what a delivery goes through (its statuses and log events).
 */
import { z } from 'zod';

export const CHANNELS = ['email', 'webhook', 'push', 'sms'] as const;
export type Channel = (typeof CHANNELS)[number];

/** ThingsBoard's alarm severities (issue 16 §1); only `critical` passes quiet hours. */
export const SEVERITIES = ['critical', 'major', 'minor', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/**
 * queued (in the outbox, committed) → scheduled (a queue job exists) → sending → sent;
 * or → retrying (a transient failure; the queue tries again with backoff) → ... → dead;
 * or → held (a throttle or quiet hours) → digested (went out inside one digest).
 */
export const DELIVERY_STATUSES = [
  'queued',
  'scheduled',
  'sending',
  'retrying',
  'sent',
  'held',
  'digested',
  'dead',
] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** The delivery log's events (one row each, append-only). */
export const LOG_EVENTS = [
  'queued',
  'sent',
  'retried',
  'failed',
  'dead',
  'held',
  'digested',
  'redelivered',
] as const;
export type LogEvent = (typeof LOG_EVENTS)[number];

/** A user of the tenant, an external address (e-mail or E.164 phone), or a tenant webhook endpoint. */
export const Recipient = z.union([
  z.object({ userId: z.string().min(1).max(200) }).strict(),
  z.object({ address: z.string().min(1).max(320) }).strict(),
  z.object({ webhookId: z.number().int().positive() }).strict(),
]);
export type Recipient = z.infer<typeof Recipient>;

/**
 * One message to one recipient on one channel, for one alert. Texts are plain; `html` is an
 * optional richer e-mail part (the caller escapes what it interpolates).
 */
export const NotificationItem = z.object({
  /** The alert it is about; null only with an explicit `idempotencyKey` (a test message). */
  alertId: z.number().int().positive().nullable(),
  tenantId: z.string().min(1).max(100),
  recipient: Recipient,
  channel: z.enum(CHANNELS),
  severity: z.enum(SEVERITIES),
  subject: z.string().min(1).max(200),
  text: z.string().min(1).max(20_000),
  html: z.string().max(100_000).optional(),
  /** Where the alert opens (https://.../alerts?id=...). */
  link: z.url({ protocol: /^https?$/ }).optional(),
  /** Structured fields for webhooks and push (vehicle, place, litres...). */
  data: z.record(z.string(), z.unknown()).optional(),
  /**
   * Default: one key per (alert, recipient, channel), so enqueueing the same item twice queues
   * it once. An escalation level or a reminder passes its own.
   */
  idempotencyKey: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{8,120}$/)
    .optional(),
});
export type NotificationItem = z.input<typeof NotificationItem>;

/** A delivery row as the worker reads it. */
export interface Delivery {
  id: string;
  tenantId: string;
  alertId: number | null;
  kind: 'alert' | 'digest';
  recipient: string;
  recipientUserId: string | null;
  channel: Channel;
  target: string;
  severity: Severity;
  subject: string;
  text: string;
  html: string | null;
  link: string | null;
  data: Record<string, unknown>;
  idempotencyKey: string;
  attempts: number;
  firstAttemptAt: Date | null;
  createdAt: Date;
}
