/**
 * telemetry is partitioned by UTC day. Today's and the next two days' partitions are created at
 * start and then hourly; a group with samples of another day (a backlog) creates its days first,
 * outside its transaction: creating a partition locks the parent table briefly.
 */
import type { Logger } from '@fleet/shared/log';
import type pg from 'pg';
import { daysAhead, ensureTelemetryPartitions, utcDay } from '../db/queries/ensure-telemetry-partitions.ts';

const MAINTENANCE_INTERVAL_MS = 3600_000;

export class TelemetryPartitions {
  /** Days whose partition is known to exist. */
  private readonly days = new Set<string>();
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
    const missing = new Set<string>();
    for (const ts of tsMs) {
      const day = utcDay(ts);
      if (!this.days.has(day)) missing.add(day);
    }
    if (missing.size === 0) return;
    await ensureTelemetryPartitions(this.pool, [...missing]);
    for (const d of missing) this.days.add(d);
  }

  /** A partition dropped behind our back (retention): look again next time. */
  forget(): void {
    this.days.clear();
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
