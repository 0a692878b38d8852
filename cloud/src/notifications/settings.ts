import { readFile } from 'node:fs/promises';
import type { CloudConfig } from '../config.ts';
import { DEFAULT_NOTIFICATION_SETTINGS, type NotificationSettings } from './worker.ts';

/** The worker's settings from the cloud's configuration (config.ts); the CA file is read here. */
export async function notificationSettings(config: CloudConfig): Promise<NotificationSettings> {
  const n = config.notifications;
  return {
    ...DEFAULT_NOTIFICATION_SETTINGS,
    email: n.email && {
      url: n.email.url,
      from: n.email.from,
      requireTls: n.email.requireTls,
      ...(n.email.caFile ? { ca: await readFile(n.email.caFile, 'utf8') } : {}),
    },
    push: n.push,
    sms: n.sms,
    secretBox: config.secretBox,
    allowAddresses: n.allowAddresses,
    publicUrl: config.publicUrl,
    throttlePerHour: n.throttlePerHour,
    smsPerHour: n.smsPerHour,
    retryDelaySeconds: n.retryDelaySeconds,
    // Its own schema per database schema, so stacks sharing one database keep separate queues.
    queueSchema: config.databaseSchema
      ? `${config.databaseSchema}_queue`
      : DEFAULT_NOTIFICATION_SETTINGS.queueSchema,
  };
}
