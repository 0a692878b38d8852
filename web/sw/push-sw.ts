/// <reference lib="webworker" />
/**
 * The dashboard's service worker: alert notifications only (no cache, no offline), scope /. The
 * driver PWA keeps its own worker at /driver (sw.ts), which the browser prefers there as the
 * narrower scope. Registered by the notification settings page when someone turns push on.
 */
import { listenForAlertPushes } from './alert-notifications.ts';

declare const self: ServiceWorkerGlobalScope;

listenForAlertPushes(self);
// A new version takes over at once: it holds no caches that an old page could depend on.
self.addEventListener('install', () => void self.skipWaiting());
self.addEventListener('activate', (event: ExtendableEvent) => event.waitUntil(self.clients.claim()));
