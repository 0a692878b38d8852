/**
 * Notifications: what the alert rules call, and what delivers.
 *
 *   enqueue.ts      enqueueNotifications(db, items) in the caller's transaction → the outbox
 *   outbox.ts       the outbox's SQL (notification_deliveries, its log, digests)
 *   worker.ts       NotificationWorker: outbox → pg-boss → policy → channels → log
 *   quiet-hours.ts  the recipient's quiet hours in their time zone
 *   channels/       email (SMTP), webhook (signed JSON, Slack, Teams), push (VAPID), sms
 */
export { type EnqueueResult, enqueueNotifications } from './enqueue.ts';
export type { Channel, NotificationItem, Recipient, Severity } from './model.ts';
export { DEFAULT_NOTIFICATION_SETTINGS, type NotificationSettings, NotificationWorker } from './worker.ts';

/** The link an alert opens at (the dashboard's alerts page). */
export function alertLink(publicUrl: string, alertId: number): string {
  return new URL(`/alerts?alert=${alertId}`, publicUrl).toString();
}
