/**
 * Work that the first view does not need (the map's library and base map, the driver's service
 * worker) waits until the page has loaded and the main thread is idle: on a phone, hydration and
 * the first data then do not share the main thread with it. `timeoutMs` bounds the wait for idle.
 * Resolves false if `signal` aborts first.
 */
export function afterLoadWhenIdle(signal?: AbortSignal, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const idle = () => {
      if (signal?.aborted) return resolve(false);
      const done = () => resolve(!signal?.aborted);
      if (typeof window.requestIdleCallback === 'function')
        window.requestIdleCallback(done, { timeout: timeoutMs });
      else setTimeout(done, 1);
    };
    if (document.readyState === 'complete') idle();
    else window.addEventListener('load', idle, { once: true });
  });
}

/** Yields to the browser (input, paint) between slices of a long job. */
export function yieldToMain(): Promise<void> {
  return new Promise((r) => setTimeout(r, 0));
}

/**
 * Runs `step(i)` for i in [0, count) in slices of about `budgetMs` each, yielding between
 * slices, so no single task holds the main thread long. Stops early when `stop()` says so.
 */
export async function inSlices(
  count: number,
  step: (i: number) => void,
  stop: () => boolean,
  budgetMs = 8,
): Promise<void> {
  let i = 0;
  while (i < count) {
    if (stop()) return;
    const start = performance.now();
    do step(i++);
    while (i < count && performance.now() - start < budgetMs);
    await yieldToMain();
  }
}
