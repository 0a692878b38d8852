/**
 * Builds the driver PWA's service worker into the Next build folder, as the last step of every
 * `next build` (next.config.ts `compiler.runAfterProductionCompile` runs this file), so each
 * build carries the worker that matches its own files; app/sw.js/route.ts serves it at /sw.js.
 *
 *   sw/sw.ts --esbuild (bundle serwist, idb, lib/offline)--> <distDir>/sw-bundle.js
 *            --@serwist/build injectManifest (this build's driver shell)--> <distDir>/sw.js
 *   sw/push-sw.ts --esbuild--> <distDir>/push-sw.js (the dashboard's alert notifications)
 *
 * Why not a Next plugin: Next 16 builds with Turbopack, where @serwist/next and
 * workbox-webpack-plugin do not run (they need `next build --webpack`, about 2.5x slower here)
 * and @serwist/turbopack is marked experimental. The worker is a separate program anyway: one
 * esbuild call plus Serwist's own injectManifest keeps it independent of the bundler.
 *
 * The precache list is the driver page's own files, read from Next's per-route build manifests
 * (the dashboard's map and charts do not belong on a driver's phone). If a future Next changes
 * those files, the list falls back to every JS/CSS file of the build, with a warning.
 *
 * By hand: `cd web && node --import tsx sw/build.ts [--dist-dir .next]` after a `next build`.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { injectManifest } from '@serwist/build';
import { build } from 'esbuild';

const WEB = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const ICONS = ['icon-192.png', 'icon-512.png', 'maskable-192.png', 'maskable-512.png'];
/** The pages whose files the worker precaches. */
const ROUTES = ['/driver/page'];
/** The worker's file name inside the build folder (app/sw.js/route.ts reads it). */
export const SW_FILE = 'sw.js';
/** The dashboard's push-only worker (app/push-sw.js/route.ts reads it). */
export const PUSH_SW_FILE = 'push-sw.js';

const say = (line: string) => process.stdout.write(`sw build: ${line}\n`);

/** The .next-relative files (static/chunks/...) a route needs: its JS and CSS, and Next's runtime. */
export function routeFiles(nextDir: string, route: string): string[] {
  const files = new Set<string>();
  const buildManifest = JSON.parse(
    readFileSync(path.join(nextDir, 'server', 'app', route, 'build-manifest.json'), 'utf8'),
  ) as { rootMainFiles?: string[] };
  // Not polyfillFiles: those load only in browsers without ES modules, which cannot run the worker.
  for (const f of buildManifest.rootMainFiles ?? []) files.add(f);
  // page_client-reference-manifest.js assigns one JSON object to globalThis.__RSC_MANIFEST[route].
  const source = readFileSync(
    path.join(nextDir, 'server', 'app', `${route}_client-reference-manifest.js`),
    'utf8',
  );
  const json = source.slice(source.indexOf('= {') + 2).replace(/;\s*$/, '');
  const rsc = JSON.parse(json) as {
    entryJSFiles?: Record<string, string[]>;
    entryCSSFiles?: Record<string, { path: string }[]>;
  };
  const owners = (key: string) =>
    key.endsWith('/web/app/layout') || key.includes(`/web/app${route.replace(/\/page$/, '')}/`);
  for (const [key, list] of Object.entries(rsc.entryJSFiles ?? {}))
    if (owners(key)) for (const f of list) files.add(f);
  for (const [key, list] of Object.entries(rsc.entryCSSFiles ?? {}))
    if (owners(key)) for (const f of list) files.add(f.path);
  return [...files].filter((f) => f.startsWith('static/'));
}

const fileRevision = (file: string) =>
  createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 16);

/** Writes `<distDir>/sw.js` for the build in `distDir` (relative to web/ or absolute). */
export async function buildServiceWorker(distDir: string): Promise<void> {
  const nextDir = path.resolve(WEB, distDir);
  if (!existsSync(path.join(nextDir, 'server', 'app')))
    throw new Error(`no Next build in ${nextDir}: run \`next build\` first`);
  const bundle = path.join(nextDir, 'sw-bundle.js');
  const dest = path.join(nextDir, SW_FILE);

  let globPatterns: string[];
  try {
    globPatterns = ROUTES.flatMap((r) => routeFiles(nextDir, r));
    if (globPatterns.length === 0) throw new Error('no files listed');
  } catch (error) {
    say(`WARNING: Next's route manifests unreadable (${String(error)}); precaching every JS/CSS file`);
    globPatterns = ['static/**/*.{js,css}'];
  }

  await build({
    entryPoints: [path.join(WEB, 'sw', 'sw.ts')],
    outfile: bundle,
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: false,
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
  });

  const { count, size, warnings } = await injectManifest({
    swSrc: bundle,
    swDest: dest,
    globDirectory: nextDir,
    globPatterns,
    modifyURLPrefix: { 'static/': '/_next/static/' },
    // Content-hashed names: the URL is the version.
    dontCacheBustURLsMatching: /^\/_next\/static\//,
    additionalPrecacheEntries: [
      // Rendered from app/manifest.ts and the theme: a new build may change it.
      { url: '/manifest.webmanifest', revision: randomUUID() },
      ...ICONS.map((name) => ({
        url: `/icons/${name}`,
        revision: fileRevision(path.join(WEB, 'public', 'icons', name)),
      })),
    ],
  });
  rmSync(bundle, { force: true });
  for (const w of warnings) say(`WARNING: ${w}`);
  // The dashboard's worker: push handlers only, nothing to precache.
  await build({
    entryPoints: [path.join(WEB, 'sw', 'push-sw.ts')],
    outfile: path.join(nextDir, PUSH_SW_FILE),
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: false,
    logLevel: 'warning',
  });
  say(
    `${path.relative(WEB, dest)} precaches ${count} files (${(size / 1024).toFixed(0)} KiB) for ${ROUTES.join(', ')}`,
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--dist-dir');
  const distDir = at > 0 ? process.argv[at + 1] : process.env.FLEET_WEB_DIST_DIR || '.next';
  buildServiceWorker(distDir ?? '.next').catch((error: unknown) => {
    process.stderr.write(`sw build: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
