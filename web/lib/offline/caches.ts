/**
 * The service worker's cache names, shared with the page (which deletes the data cache at
 * sign-out). Versioned: a change in what they hold gets a new name, not a mix of old and new.
 */
export const PAGE_CACHE = 'fleet-driver-pages-v1';
/** The signed-in driver's own data: deleted at sign-out, at another user's sign-in, on a 401. */
export const DATA_CACHE = 'fleet-driver-data-v1';
export const STATIC_CACHE = 'fleet-static-v1';

/** Forget the previous user's cached data (the page calls this; the worker does too, on a 401). */
export async function clearDriverData(): Promise<void> {
  if (typeof caches !== 'undefined') await caches.delete(DATA_CACHE);
}
