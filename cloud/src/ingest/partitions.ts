/**
 * telemetry is partitioned by UTC day. Today's and the next two days' partitions are created at
 * start and then hourly; a group with samples of another day (a backlog) creates its days first,
 * outside its transaction: creating a partition locks the parent table briefly.
 */
import type { Logger } from '@fleet/shared/log';
import type pg from 'pg';
import { daysAhead, ensureTelemetryPartitions, utcDay } from '../db/queries/ensure-telemetry-partitions.ts';

const MAINTENANCE_INTERVAL_MS = 3600_000;
const DAY_MS = 86_400_000;

export class TelemetryPartitions {
  /** Days whose partition is known to exist. */
  private readonly days = new Set<string>();
  /** The same days as day numbers since the epoch: the per-sample check, no Date or string. */
  private readonly dayNumbers = new Set<number>();
  private maintenance: NodeJS.Timeout | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await this.ensureAhead();
    this.maintenance = setInterval(() => void this.ensureAhead(), MAINTENANCE_INTERVAL_MS);
    this.maintenance.unref();
  }

  stop(): void {
    clearInterval(this.maintenance);
  }

  /** Creates the partitions of these samples' days that are not known to exist. */
  async ensureFor(tsMs: Iterable<number>): Promise<void> {
    const missing = new Map<string, number>();
    for (const ts of tsMs) {
      const n = Math.floor(ts / DAY_MS);
      if (this.dayNumbers.has(n)) continue;
      const day = utcDay(ts);
      if (!this.days.has(day)) missing.set(day, n);
      else this.dayNumbers.add(n);
    }
    if (missing.size === 0) return;
    await ensureTelemetryPartitions(this.pool, [...missing.keys()]);
    for (const [d, n] of missing) {
      this.days.add(d);
      this.dayNumbers.add(n);
    }
  }

  /** A partition dropped behind our back (retention): look again next time. */
  forget(): void {
    this.days.clear();
    this.dayNumbers.clear();
  }

  private async ensureAhead() {
    try {
      const days = daysAhead(Date.now(), 2);
      await ensureTelemetryPartitions(this.pool, days);
      for (const d of days) this.days.add(d);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'partition maintenance failed; retrying later');
    }
  }
}
