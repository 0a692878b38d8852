/**
 * Builds the service worker after `next build` (package.json "build"):
 *
 *   sw/sw.ts --esbuild (bundle serwist, idb, lib/offline)--> .next/sw-bundle.js
 *            --@serwist/build injectManifest (this build's driver shell)--> public/sw.js
 *
 * Why not a Next plugin: Next 16 builds with Turbopack, where @serwist/next and
 * workbox-webpack-plugin do not run (they need `next build --webpack`, about 2.5x slower here)
 * and @serwist/turbopack is marked experimental. The worker is a separate program anyway: one
 * esbuild call plus Serwist's own injectManifest keeps it independent of the bundler.
 *
 * The precache list is the driver page's own files, read from Next's per-route build manifests
 * (the dashboard's map and charts do not belong on a driver's phone). If a future Next changes
 * those files, the list falls back to every JS/CSS file of the build, with a warning.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { injectManifest } from '@serwist/build';
import { build } from 'esbuild';

const WEB = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const NEXT_DIR = path.join(WEB, '.next');
const BUNDLE = path.join(NEXT_DIR, 'sw-bundle.js');
const DEST = path.join(WEB, 'public', 'sw.js');
const ICONS = ['icon-192.png', 'icon-512.png', 'maskable-192.png', 'maskable-512.png'];
/** The pages whose files the worker precaches. */
const ROUTES = ['/driver/page'];

const say = (line: string) => process.stdout.write(`sw build: ${line}\n`);

function fail(message: string): never {
  process.stderr.write(`sw build: ${message}\n`);
  process.exit(1);
}

/** The .next-relative files (static/chunks/...) a route needs: its JS and CSS, and the runtime. */
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

async function main() {
  const buildIdFile = path.join(NEXT_DIR, 'BUILD_ID');
  if (!existsSync(buildIdFile)) fail('no Next build in web/.next: run `next build` first');
  const buildId = readFileSync(buildIdFile, 'utf8').trim();

  let globPatterns: string[];
  try {
    globPatterns = ROUTES.flatMap((r) => routeFiles(NEXT_DIR, r));
    if (globPatterns.length === 0) throw new Error('no files listed');
  } catch (error) {
    console.warn(
      `sw build: Next's route manifests unreadable (${String(error)}); precaching every JS/CSS file`,
    );
    globPatterns = ['static/**/*.{js,css}'];
  }

  await build({
    entryPoints: [path.join(WEB, 'sw', 'sw.ts')],
    outfile: BUNDLE,
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
    swSrc: BUNDLE,
    swDest: DEST,
    globDirectory: NEXT_DIR,
    globPatterns,
    modifyURLPrefix: { 'static/': '/_next/static/' },
    // Content-hashed names: the URL is the version.
    dontCacheBustURLsMatching: /^\/_next\/static\//,
    additionalPrecacheEntries: [
      { url: '/manifest.webmanifest', revision: buildId },
      ...ICONS.map((name) => ({
        url: `/icons/${name}`,
        revision: fileRevision(path.join(WEB, 'public', 'icons', name)),
      })),
    ],
  });
  rmSync(BUNDLE, { force: true });
  for (const w of warnings) say(`WARNING: ${w}`);
  say(`public/sw.js precaches ${count} files (${(size / 1024).toFixed(0)} KiB) for ${ROUTES.join(', ')}`);
}

await main();
