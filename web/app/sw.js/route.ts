/*
 * GET /sw.js: the driver PWA's service worker, from the build folder of the build that is running
 * (web/sw/build.ts writes it there at the end of `next build`), so the worker's precache list
 * always names this build's files. Served from the origin's root; its scope is /driver.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

export const dynamic = 'force-dynamic';

/** next.config.ts's distDir: the same setting, read the same way. */
const distDir = () => process.env.FLEET_WEB_DIST_DIR || '.next';

let cached: { dir: string; body: string } | null = null;

export async function GET(): Promise<Response> {
  const dir = distDir();
  if (cached?.dir !== dir) {
    try {
      cached = { dir, body: await readFile(path.join(process.cwd(), dir, 'sw.js'), 'utf8') };
    } catch {
      // A development server, or a build made without the worker step: no offline support.
      return new Response('// no service worker in this build\n', {
        status: 404,
        headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' },
      });
    }
  }
  return new Response(cached.body, {
    headers: {
      'content-type': 'text/javascript; charset=utf-8',
      // The browser checks for a new worker on every visit; never a stale one from a cache.
      'cache-control': 'no-cache',
    },
  });
}
