/// <reference lib="webworker" />
/**
 * The driver PWA's service worker (built by sw/build.ts into public/sw.js, scope /driver).
 *
 *   /_next/static, icons, manifest  precache (this build's driver shell) + cache-first for the rest
 *   /driver (the page)               network-first, 4 s, then the copy from the last visit
 *   /api/trpc/<driver's own reads>   network-first, 4 s, then the cached answer marked
 *                                    x-fleet-from-cache (the page labels it "last updated HH:MM, offline")
 *   /api/trpc/<anything else>        never cached: mutations, other users' data, sign-in
 *   sync "fleet-refuel-outbox"       sends the IndexedDB outbox (lib/offline) when the link returns
 *
 * Cached data belongs to whoever was signed in: the page has this worker delete it at sign-out and
 * when another user signs in, and the worker deletes it as soon as the cloud answers 401 (session
 * over). Reads in flight at that moment are not cached (dataOwnerEpoch).
 */
import {
  CacheFirst,
  ExpirationPlugin,
  NetworkFirst,
  type PrecacheEntry,
  Serwist,
  type SerwistGlobalConfig,
  type SerwistPlugin,
} from 'serwist';
import { DATA_CACHE, FORGET_DRIVER_DATA, PAGE_CACHE, STATIC_CACHE } from '../lib/offline/caches.ts';
import { REFUEL_SYNC_TAG, syncRefuels } from '../lib/offline/sync.ts';
import { listenForAlertPushes } from './alert-notifications.ts';

declare global {
  interface WorkerGlobalScope extends SerwistGlobalConfig {
    /** Replaced at build time by @serwist/build's injectManifest with this build's shell files. */
    __SW_MANIFEST: (PrecacheEntry | string)[] | undefined;
  }
}
declare const self: ServiceWorkerGlobalScope;

/** A weak signal answers late rather than never: past this, show the cached copy. */
const NETWORK_TIMEOUT_S = 4;

/**
 * The reads a driver needs offline: their own session and preferences (units, language), vehicle,
 * refuels, scores, points, challenge progress and rank. Unbatched calls only (the driver page's
 * client does not batch), so one URL is one procedure.
 */
const DRIVER_READS =
  /^\/api\/trpc\/(driverHome\.get|auth\.(me|preferences)|vehicles\.(get|list)|refuels\.mine|drivers\.[A-Za-z]+|telemetry\.[A-Za-z]+|scores\.(get|explain|disputes)|points\.balance|challenges\.(list|progress)|rewards\.list)$/;

/**
 * Whose data the cache may take. Bumped when the cached data stops belonging to anyone (sign-out,
 * 401): an answer fetched before the bump is not cached, so a read still in flight when the driver
 * signs out cannot put their data back after it was deleted.
 */
let dataOwnerEpoch = 0;
/** Driver reads not yet complete (cache writes included), each settling when its handler is done. */
const dataReadsInFlight = new Set<Promise<void>>();
/** A read that hangs must not hold the sign-out: the network timeout, then a margin. */
const FORGET_WAIT_MS = (NETWORK_TIMEOUT_S + 2) * 1000;

/**
 * Deletes the signed-in driver's cached data once the reads already in flight have settled (their
 * answers are refused by the epoch check; waiting closes the gap between that check and the put).
 */
async function forgetDriverData(except?: Promise<void>): Promise<void> {
  dataOwnerEpoch++;
  await caches.delete(DATA_CACHE);
  const others = [...dataReadsInFlight].filter((p) => p !== except);
  if (others.length === 0) return;
  await Promise.race([Promise.allSettled(others), new Promise((r) => setTimeout(r, FORGET_WAIT_MS))]);
  await caches.delete(DATA_CACHE);
}

/**
 * Cache only good answers of the driver still signed in, and stamp when they were fetched; answer
 * a gateway error (the cloud is down, the phone is not) like a network error, so the stale copy is
 * shown instead of nothing.
 */
const staleMarking: SerwistPlugin = {
  handlerWillStart: async ({ state }) => {
    if (!state) return;
    let settle = () => {};
    const settled = new Promise<void>((resolve) => {
      settle = resolve;
    });
    Object.assign(state, { epoch: dataOwnerEpoch, settled, settle });
    dataReadsInFlight.add(settled);
  },
  handlerDidComplete: async ({ state }) => {
    if (!state) return;
    (state.settle as () => void)();
    dataReadsInFlight.delete(state.settled as Promise<void>);
  },
  fetchDidSucceed: async ({ response, state }) => {
    if (response.status === 401) {
      // The session is over (signed out elsewhere, expired): nobody may read its data here any more.
      await forgetDriverData(state?.settled as Promise<void> | undefined);
    }
    if (response.status >= 500) throw new Error(`upstream answered ${response.status}`);
    return response;
  },
  cacheWillUpdate: async ({ response, state }) => {
    if (response.status !== 200 || state?.epoch !== dataOwnerEpoch) return null;
    const headers = new Headers(response.headers);
    headers.set('x-fleet-cached-at', String(Date.now()));
    const stamped = new Response(await response.blob(), {
      status: 200,
      statusText: response.statusText,
      headers,
    });
    // Signed out while the body was read: this answer is no longer anyone's to keep.
    return state?.epoch === dataOwnerEpoch ? stamped : null;
  },
  cachedResponseWillBeUsed: async ({ cachedResponse }) => {
    if (!cachedResponse) return cachedResponse;
    const headers = new Headers(cachedResponse.headers);
    headers.set('x-fleet-from-cache', '1');
    return new Response(await cachedResponse.blob(), { status: 200, headers });
  },
};

const serwist = new Serwist({
  precacheEntries: self.__SW_MANIFEST,
  // A new build takes over at once: the shell and the worker must come from the same build.
  skipWaiting: true,
  clientsClaim: true,
  navigationPreload: false,
  runtimeCaching: [
    {
      matcher: ({ request, sameOrigin, url }) =>
        sameOrigin &&
        request.mode === 'navigate' &&
        (url.pathname === '/driver' || url.pathname.startsWith('/driver/')),
      handler: new NetworkFirst({
        cacheName: PAGE_CACHE,
        networkTimeoutSeconds: NETWORK_TIMEOUT_S,
        plugins: [{ cacheWillUpdate: async ({ response }) => (response.status === 200 ? response : null) }],
      }),
    },
    {
      matcher: ({ request, sameOrigin, url }) =>
        sameOrigin && request.method === 'GET' && DRIVER_READS.test(url.pathname),
      handler: new NetworkFirst({
        cacheName: DATA_CACHE,
        networkTimeoutSeconds: NETWORK_TIMEOUT_S,
        plugins: [staleMarking],
      }),
    },
    {
      // Hashed file names: a URL's content never changes, so the cache may answer first.
      matcher: ({ sameOrigin, url }) => sameOrigin && url.pathname.startsWith('/_next/static/'),
      handler: new CacheFirst({
        cacheName: STATIC_CACHE,
        plugins: [new ExpirationPlugin({ maxEntries: 200, maxAgeSeconds: 30 * 24 * 3600 })],
      }),
    },
  ],
});

// The page itself is dynamic (a fresh CSP nonce per request), so it is not in the build's
// precache list: fetch it once at install, so the first offline reload already works.
self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(PAGE_CACHE)
      .then(async (cache) => {
        const response = await fetch('/driver', { credentials: 'same-origin', cache: 'no-store' });
        if (response.ok) await cache.put('/driver', response);
      })
      .catch(() => {}),
  );
});

// Background Sync: the browser wakes this worker when the connection returns, even with the
// page closed. The page also syncs on load and on `online`, for browsers without it.
self.addEventListener('sync', (event: Event) => {
  const sync = event as ExtendableEvent & { tag: string };
  if (sync.tag !== REFUEL_SYNC_TAG) return;
  sync.waitUntil(
    syncRefuels((input, init) => fetch(input, init)).then(async (result) => {
      for (const client of await self.clients.matchAll({ type: 'window' })) {
        client.postMessage({ type: 'refuel-outbox-synced', result });
      }
      // Rejecting asks the browser to try again later (with its own back-off).
      if (result.stoppedBy === 'offline' || result.stoppedBy === 'server-busy')
        throw new Error('retry later');
    }),
  );
});

// The page asks at sign-out and when another user signs in; it waits for the answer before it
// leaves, so no read of the previous driver lands in the cache afterwards.
self.addEventListener('message', (event) => {
  if ((event.data as { type?: unknown } | null)?.type !== FORGET_DRIVER_DATA) return;
  event.waitUntil(
    forgetDriverData().then(() => event.ports[0]?.postMessage({ type: FORGET_DRIVER_DATA, done: true })),
  );
});

// Alert notifications (also the dashboard's push-only worker, push-sw.ts) and the driver's own
// pushes (cloud/src/drivers/push/), which name no page: a click on those opens /driver.
listenForAlertPushes(self, '/driver');

serwist.addEventListeners();
