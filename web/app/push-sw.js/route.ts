/*
 * GET /push-sw.js: the dashboard's push-only service worker (web/sw/push-sw.ts), scope /: alert
 * notifications for managers and technicians who turn push on.
 */
import { serveBuiltWorker } from '../../lib/built-worker.ts';

export const dynamic = 'force-dynamic';

export function GET(): Promise<Response> {
  return serveBuiltWorker('push-sw.js');
}
