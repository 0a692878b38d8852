'use client';

import { useEffect } from 'react';

/**
 * Registers public/sw.js (built from web/sw/sw.ts after `next build`) for the driver's pages only:
 * the dashboard stays a plain online page. Nothing to render; failures are logged, not shown,
 * because the page works online without the worker.
 */
export function ServiceWorkerRegistration() {
  useEffect(() => {
    if (!('serviceWorker' in navigator)) return;
    navigator.serviceWorker.register('/sw.js', { scope: '/driver' }).catch((error: unknown) => {
      console.warn('service worker registration failed; the page will not work offline', error);
    });
  }, []);
  return null;
}
