/*
 * GET /sw.js: the driver PWA's service worker (web/sw/sw.ts), from the running build's folder, so
 * the worker's precache list always names this build's files. Served from the origin's root; its
 * scope is /driver.
 */
import { serveBuiltWorker } from '../../lib/built-worker.ts';

export const dynamic = 'force-dynamic';

export function GET(): Promise<Response> {
  return serveBuiltWorker('sw.js');
}
