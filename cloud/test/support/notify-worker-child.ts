/**
 * The notification worker in a process of its own, so a test can SIGKILL it mid-send.
 * argv: DATABASE_URL schema smtpUrl caFile; prints "ready".
 */
import { readFileSync } from 'node:fs';
import { createLogger } from '@fleet/shared/log';
import { openPool } from '../../src/db/pool.ts';
import { NotificationWorker } from '../../src/notifications/worker.ts';
import { fastSettings } from './notify-settings.ts';

const [url, schema, smtpUrl, caFile] = process.argv.slice(2) as [string, string, string, string];
const pool = await openPool({ url, schema, max: 4 });
const worker = new NotificationWorker(
  pool,
  fastSettings(schema, {
    email: {
      url: smtpUrl,
      from: 'Fleet <alerts@fleet.test>',
      requireTls: true,
      ca: readFileSync(caFile, 'utf8'),
    },
  }),
  createLogger('notify-child').child({}, { level: 'error' }),
);
await worker.start();
console.log('ready');
