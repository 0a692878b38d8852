/**
 * Live positions and alerts for tRPC subscriptions (SSE), from ONE poller per API process and
 * database pool, whatever the number of subscribers:
 *
 *   every FLEET_LIVE_POLL_MS (1 s), for each tenant with at least one subscriber:
 *     inTenant(tenant) -> vehicle_latest rows stored since the last poll, alerts created since
 *     -> each subscriber's listener (a driver's subscription then keeps its own vehicle only)
 *
 * Cost grows with tenants being watched, not with open browser tabs, and every read still runs
 * as fleet_app under row-level security. Polling rather than LISTEN/NOTIFY: the ingest needs no
 * trigger on its hot path, and it works the same through PGlite's socket. The poller stops when
 * the last subscriber leaves.
 */
import { createLogger } from '@fleet/shared/log';
import type pg from 'pg';
import { type Alert, alertsCreatedSince } from '../db/queries/alerts.ts';
import { type FleetVehicle, positionsStoredSince } from '../db/queries/fleet-overview.ts';
import { inTenant } from '../db/tenant.ts';

export type LivePosition = FleetVehicle & { receivedAt: number };
type Listener<T> = (items: T[]) => void;

interface TenantFeed {
  positions: Set<Listener<LivePosition>>;
  alerts: Set<Listener<Alert>>;
  /** Newest received_at / created_at seen (epoch ms); null: none yet (the database's now - 5 s). */
  positionsSince: number | null;
  alertsSince: number | null;
  /** What was already sent: the lookback margin reads some rows twice. */
  sentPositions: Map<string, number>;
  sentAlerts: Map<number, number>;
}

const log = createLogger('api.live');

export class LiveFeed {
  private static readonly feeds = new WeakMap<pg.Pool, LiveFeed>();
  /** FLEET_LIVE_POLL_MS, default 1000 ms. */
  private static pollMs = 1000;

  /** Sets the poll interval of the feeds created from now on (main.ts, from the validated config). */
  static configure(opts: { pollMs: number }): void {
    LiveFeed.pollMs = opts.pollMs;
  }

  /** The process's feed for this pool (created on first use). */
  static for(pool: pg.Pool): LiveFeed {
    let feed = LiveFeed.feeds.get(pool);
    if (!feed) {
      feed = new LiveFeed(pool, LiveFeed.pollMs);
      LiveFeed.feeds.set(pool, feed);
    }
    return feed;
  }

  private readonly tenants = new Map<string, TenantFeed>();
  private timer: NodeJS.Timeout | null = null;
  /** Polls run so far, and tenant queries made (for tests and metrics). */
  readonly stats = { polls: 0, tenantPolls: 0 };

  private constructor(
    private readonly pool: pg.Pool,
    private readonly intervalMs: number,
  ) {}

  get subscribers(): number {
    let n = 0;
    for (const f of this.tenants.values()) n += f.positions.size + f.alerts.size;
    return n;
  }

  subscribe(tenantId: string, kind: 'positions', listener: Listener<LivePosition>): () => void;
  subscribe(tenantId: string, kind: 'alerts', listener: Listener<Alert>): () => void;
  subscribe(tenantId: string, kind: 'positions' | 'alerts', listener: Listener<never>): () => void {
    let feed = this.tenants.get(tenantId);
    if (!feed) {
      feed = {
        positions: new Set(),
        alerts: new Set(),
        positionsSince: null,
        alertsSince: null,
        sentPositions: new Map(),
        sentAlerts: new Map(),
      };
      this.tenants.set(tenantId, feed);
    }
    const set = feed[kind] as Set<Listener<never>>;
    set.add(listener);
    this.schedule();
    return () => {
      set.delete(listener);
      if (feed.positions.size === 0 && feed.alerts.size === 0) this.tenants.delete(tenantId);
      if (this.tenants.size === 0 && this.timer) {
        clearTimeout(this.timer);
        this.timer = null;
      }
    };
  }

  private schedule() {
    if (this.timer || this.tenants.size === 0) return;
    this.timer = setTimeout(() => {
      void this.poll().finally(() => {
        this.timer = null;
        this.schedule();
      });
    }, this.intervalMs);
    this.timer.unref();
  }

  private async poll() {
    this.stats.polls++;
    for (const [tenantId, feed] of [...this.tenants]) {
      this.stats.tenantPolls++;
      try {
        await inTenant(this.pool, tenantId, async (db) => {
          if (feed.positions.size > 0)
            this.dispatchPositions(feed, await positionsStoredSince(db, tenantId, feed.positionsSince));
          if (feed.alerts.size > 0)
            this.dispatchAlerts(feed, await alertsCreatedSince(db, tenantId, feed.alertsSince));
        });
      } catch (err) {
        // The database is away for a moment: subscribers keep their streams, the next poll catches up.
        log.warn({ tenantId, err: (err as Error).message }, 'live poll failed');
      }
    }
  }

  private dispatchPositions(feed: TenantFeed, rows: LivePosition[]) {
    const fresh = rows.filter((r) => feed.sentPositions.get(r.vehicleId) !== r.receivedAt);
    for (const r of rows) {
      feed.sentPositions.set(r.vehicleId, r.receivedAt);
      feed.positionsSince = Math.max(feed.positionsSince ?? 0, r.receivedAt);
    }
    if (fresh.length > 0) for (const l of feed.positions) l(fresh);
  }

  private dispatchAlerts(feed: TenantFeed, rows: Alert[]) {
    const fresh = rows.filter((a) => !feed.sentAlerts.has(a.id));
    for (const a of rows) {
      feed.sentAlerts.set(a.id, a.createdAt);
      feed.alertsSince = Math.max(feed.alertsSince ?? 0, a.createdAt);
    }
    for (const [id, at] of feed.sentAlerts)
      if (at < (feed.alertsSince ?? 0) - 60_000) feed.sentAlerts.delete(id);
    if (fresh.length > 0) for (const l of feed.alerts) l(fresh);
  }
}

/** Most batches a slow client may have waiting; older ones are dropped (positions supersede). */
const MAX_QUEUED_BATCHES = 1000;

/**
 * Bridges a listener to an async generator (tRPC subscriptions): batches queue until the client
 * reads them; the listener is removed when the client goes away (signal) or the stream ends.
 */
export async function* listen<T>(
  signal: AbortSignal | undefined,
  subscribe: (push: (items: T[]) => void) => () => void,
): AsyncGenerator<T[]> {
  const queue: T[][] = [];
  let wake: (() => void) | null = null;
  const unsubscribe = subscribe((items) => {
    queue.push(items);
    if (queue.length > MAX_QUEUED_BATCHES) queue.shift();
    wake?.();
  });
  const onAbort = () => wake?.();
  signal?.addEventListener('abort', onAbort);
  try {
    while (!signal?.aborted) {
      if (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      wake = null;
      while (queue.length > 0 && !signal?.aborted) yield queue.shift()!;
    }
  } finally {
    unsubscribe();
    signal?.removeEventListener('abort', onAbort);
  }
}
