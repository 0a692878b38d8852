/**
 * The service worker's cache names, shared with the page (which deletes the data cache at
 * sign-out). Versioned: a change in what they hold gets a new name, not a mix of old and new.
 */
export const PAGE_CACHE = 'fleet-driver-pages-v1';
/** The signed-in driver's own data: deleted at sign-out, at another user's sign-in, on a 401. */
export const DATA_CACHE = 'fleet-driver-data-v1';
export const STATIC_CACHE = 'fleet-static-v1';
/** The page's message asking the worker to forget the driver's data (sw/sw.ts answers it). */
export const FORGET_DRIVER_DATA = 'forget-driver-data';

/** The worker waits for reads in flight up to its network timeout; past this, go on anyway. */
const WORKER_ANSWER_MS = 8000;

/**
 * Forget the previous user's cached data. The worker does the deleting when it controls the page:
 * a read it still has in flight would otherwise put that user's answer back after the page
 * deleted the cache. The page deletes too, for a page the worker does not control.
 */
export async function clearDriverData(): Promise<void> {
  if (typeof caches === 'undefined') return;
  await caches.delete(DATA_CACHE);
  const worker = typeof navigator !== 'undefined' ? navigator.serviceWorker?.controller : null;
  if (!worker) return;
  const channel = new MessageChannel();
  const answered = new Promise<void>((resolve) => {
    channel.port1.onmessage = () => resolve();
  });
  worker.postMessage({ type: FORGET_DRIVER_DATA }, [channel.port2]);
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    answered,
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, WORKER_ANSWER_MS);
    }),
  ]);
  clearTimeout(timer);
  channel.port1.close();
}
