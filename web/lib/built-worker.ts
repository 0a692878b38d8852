/**
 * Serves a service worker from the build folder of the build that is running (web/sw/build.ts
 * writes them there at the end of `next build`), so a worker always matches its own build.
 * Server-side only (app/sw.js and app/push-sw.js routes).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

/** next.config.ts's distDir: the same setting, read the same way. */
const distDir = () => process.env.FLEET_WEB_DIST_DIR || '.next';

const cached = new Map<string, string>();

export async function serveBuiltWorker(file: string): Promise<Response> {
  const full = path.join(process.cwd(), distDir(), file);
  let body = cached.get(full);
  if (body === undefined) {
    try {
      body = await readFile(full, 'utf8');
      cached.set(full, body);
    } catch {
      // A development server, or a build made without the worker step: no worker.
      return new Response('// no service worker in this build\n', {
        status: 404,
        headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' },
      });
    }
  }
  return new Response(body, {
    headers: {
      'content-type': 'text/javascript; charset=utf-8',
      // The browser checks for a new worker on every visit; never a stale one from a cache.
      'cache-control': 'no-cache',
    },
  });
}
