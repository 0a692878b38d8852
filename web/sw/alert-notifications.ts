/// <reference lib="webworker" />
/**
 * Alert notifications in a service worker: the driver PWA's (sw.ts, scope /driver; also the
 * driver's own pushes: low range, service due, challenge results) and the
 * dashboard's push-only worker (push-sw.ts, scope /). cloud/src/notifications/channels/push.ts
 * sends the AlertPush below. The idempotency key is the tag: a message delivered twice (Web Push
 * is at least once) replaces the first instead of showing two.
 */
export interface AlertPush {
  key: string;
  title: string;
  body: string;
  url: string | null;
  severity: string;
}

/**
 * `home`: where a click goes when the push names no page (the driver's pushes: their own page,
 * /driver; an alert names its own).
 */
export function listenForAlertPushes(self: ServiceWorkerGlobalScope, home = '/alerts'): void {
  self.addEventListener('push', (event: PushEvent) => {
    let p: AlertPush;
    try {
      p = event.data?.json() as AlertPush;
    } catch {
      return;
    }
    if (!p?.key) return;
    event.waitUntil(
      self.registration.showNotification(p.title, {
        body: p.body,
        tag: p.key,
        icon: '/icons/icon-192.png',
        data: { url: p.url },
        // A critical alert stays until the driver or manager acts on it.
        requireInteraction: p.severity === 'critical',
      }),
    );
  });

  // A click opens the alert: an open window of this app is focused and sent there, else a new one.
  self.addEventListener('notificationclick', (event: NotificationEvent) => {
    event.notification.close();
    const raw = (event.notification.data as { url?: string | null } | undefined)?.url;
    // Only our own origin: a payload cannot send the click elsewhere.
    const url = raw && new URL(raw, self.location.origin).origin === self.location.origin ? raw : home;
    event.waitUntil(
      (async () => {
        const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
        const open = windows[0];
        if (open) {
          await open.focus();
          await open.navigate(url).catch(() => self.clients.openWindow(url));
          return;
        }
        await self.clients.openWindow(url);
      })(),
    );
  });
}
