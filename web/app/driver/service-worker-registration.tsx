'use client';

import { useEffect } from 'react';
import { afterLoadWhenIdle } from '../../lib/idle.ts';

/**
 * Registers public/sw.js (built from web/sw/sw.ts after `next build`) for the driver's pages only:
 * the dashboard stays a plain online page. Nothing to render; failures are logged, not shown,
 * because the page works online without the worker.
 */
export function ServiceWorkerRegistration() {
  useEffect(() => {
    if (!('serviceWorker' in navigator)) return;
    // After the page has loaded and gone idle: installing the worker downloads and caches the
    // app's files, which must not compete with this page's own first load on a slow phone.
    const abort = new AbortController();
    void afterLoadWhenIdle(abort.signal).then((go) => {
      if (!go) return;
      navigator.serviceWorker.register('/sw.js', { scope: '/driver' }).catch((error: unknown) => {
        console.warn('service worker registration failed; the page will not work offline', error);
      });
    });
    return () => abort.abort();
  }, []);
  return null;
}
