import type { Logger } from '@fleet/shared/log';

/**
 * The one way the cloud process runs a job every `intervalMs` (alert sweep, fuel reconciliation,
 * driver rescoring, the drivers' programme, report schedules): never two passes at once (a slow
 * pass makes the next tick a no-op, not a pile-up), a failed pass is logged and tried again next
 * time, the timer never keeps the process alive, and `stop()` waits for the pass under way.
 * 0 (or less) = off.
 */
export class Periodic<T> {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<T> | undefined;

  constructor(
    private readonly opts: {
      intervalMs: number;
      /** What the job is called in its failure line ("alert sweep" → "alert sweep failed; next time"). */
      name: string;
      log: Logger;
      pass: () => Promise<T>;
      /** After a pass that succeeded (log what it did, move a watermark). */
      onDone?: (result: T) => void;
    },
  ) {}

  start(): void {
    if (this.opts.intervalMs <= 0) return;
    this.timer = setInterval(() => {
      this.run().catch((err: unknown) =>
        this.opts.log.warn({ err: (err as Error).message }, `${this.opts.name} failed; next time`),
      );
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  /** One pass now; a call while one is under way shares it. */
  run(): Promise<T> {
    this.running ??= this.opts
      .pass()
      .then((result) => {
        this.opts.onDone?.(result);
        return result;
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running?.catch(() => {});
  }
}
