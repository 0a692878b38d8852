/**
 * Database errors do not lose messages: the work is retried with backoff (from `firstDelayMs`,
 * doubled up to 10 s) while its messages stay unacknowledged and the broker keeps the rest
 * queued. Only a stopping ingest gives up, leaving them for the next run.
 */
export interface RetryOptions {
  /** [100...60000] ms, default 500. */
  firstDelayMs?: number | undefined;
  stopping: () => boolean;
  /** Counted and logged by the caller, before the wait. */
  onRetry: (err: Error, retryInMs: number) => void;
}

const MAX_DELAY_MS = 10_000;

export async function retryDatabase<T>(work: () => Promise<T>, opts: RetryOptions): Promise<T> {
  let delay = opts.firstDelayMs ?? 500;
  for (;;) {
    try {
      return await work();
    } catch (err) {
      if (opts.stopping()) throw err;
      opts.onRetry(err as Error, delay);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, MAX_DELAY_MS);
    }
  }
}
