import { DEFAULT_NOTIFICATION_SETTINGS, type NotificationSettings } from '../../src/notifications/worker.ts';

/** Short timings for tests: retries after 1 s (doubling with jitter), crashed sends retried after 3 s. */
export function fastSettings(schema: string, over: Partial<NotificationSettings> = {}): NotificationSettings {
  return {
    ...DEFAULT_NOTIFICATION_SETTINGS,
    queueSchema: `${schema}_queue`,
    allowAddresses: ['127.0.0.1'],
    retryDelaySeconds: 1,
    expireSeconds: 3,
    maintenanceSeconds: 1,
    pollSeconds: 0.5,
    relayMs: 100,
    digestPollMs: 200,
    publicUrl: 'https://fleet.test',
    ...over,
  };
}
