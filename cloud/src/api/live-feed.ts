/**
 * Live positions and alerts for tRPC subscriptions (SSE), from ONE poller per API process and
 * database pool, whatever the number of subscribers:
 *
 *   every FLEET_LIVE_POLL_MS (1 s), for each tenant with at least one subscriber, in ONE
 *   inTenant(tenant) transaction:
 *     vehicle_latest rows stored since the last poll -> one update message per scope, to every
 *       stream of that scope that already has its snapshot
 *     the fleet overview, once per scope that has new streams waiting -> their snapshot message
 *     alerts created since -> one message to every alerts stream of the tenant
 *
 * A scope is what row-level security plus the caller's role let a stream see: the whole tenant
 * (null), or a driver's own vehicle. Messages are built once per scope and shared by every
 * stream of it (the server encodes a shared message once, server.ts), so cost grows with tenants
 * and scopes being watched, not with open browser tabs: 10,000 streams opening at once cost one
 * snapshot query per scope per poll, not 10,000 queries queued on the pool. Every read still runs
 * as fleet_app under row-level security, for the tenant of the streams it serves.
 *
 * A new stream waits for the next poll for its snapshot. The snapshot is read in the same
 * transaction after that poll's changes, so nothing falls between it and the stream's first
 * update: a row the snapshot missed committed after it, and is not yet among those sent.
 *
 * Polling rather than LISTEN/NOTIFY: the ingest needs no trigger on its hot path, and it works the
 * same through PGlite's socket. The poller stops when the last subscriber leaves.
 */
import { createLogger } from '@fleet/shared/log';
import type pg from 'pg';
import { type Alert, alertsCreatedSince } from '../db/queries/alerts.ts';
import { type FleetVehicle, fleetOverview, positionsStoredSince } from '../db/queries/fleet-overview.ts';
import { inTenant } from '../db/tenant.ts';

export type LivePosition = FleetVehicle & { receivedAt: number };
/** What a positions stream carries: first its scope's whole fleet (`snapshot`), then changes. */
export interface PositionsMessage {
  snapshot: boolean;
  vehicles: FleetVehicle[];
}
export interface AlertsMessage {
  alerts: Alert[];
}
type Listener<M> = (message: M) => void;

/** The snapshot a positions stream starts with covers at most this many vehicles. */
export const SNAPSHOT_LIMIT = 10_000;
/**
 * New streams of more driver scopes than this in one poll: one tenant-wide overview, filtered per
 * driver in memory, instead of one query per driver.
 */
const PER_SCOPE_SNAPSHOTS = 20;

interface ScopeFeed {
  /** A driver's own vehicle; null: the whole tenant. */
  vehicleId: string | null;
  /** Streams that have their snapshot and take updates. */
  live: Set<Listener<PositionsMessage>>;
  /** Streams waiting for the next poll's snapshot. */
  waiting: Set<Listener<PositionsMessage>>;
}

interface TenantFeed {
  /** By scope key: '' for the whole tenant, the vehicle id for a driver's own. */
  scopes: Map<string, ScopeFeed>;
  alerts: Set<Listener<AlertsMessage>>;
  /** Streams over all scopes (live + waiting). */
  positionStreams: number;
  /** Newest received_at / created_at seen (epoch ms); null: none yet (the database's now - 5 s). */
  positionsSince: number | null;
  alertsSince: number | null;
  /** What was already sent: the lookback margin reads some rows twice. */
  sentPositions: Map<string, number>;
  sentAlerts: Map<number, number>;
}

const log = createLogger('api.live');
const scopeKey = (vehicleId: string | null) => vehicleId ?? '';

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
  /** Polls run so far, tenant transactions made and snapshot queries run (for tests and metrics). */
  readonly stats = { polls: 0, tenantPolls: 0, snapshotQueries: 0 };

  private constructor(
    private readonly pool: pg.Pool,
    private readonly intervalMs: number,
  ) {}

  get subscribers(): number {
    let n = 0;
    for (const f of this.tenants.values()) n += f.positionStreams + f.alerts.size;
    return n;
  }

  private tenant(tenantId: string): TenantFeed {
    let feed = this.tenants.get(tenantId);
    if (!feed) {
      feed = {
        scopes: new Map(),
        alerts: new Set(),
        positionStreams: 0,
        positionsSince: null,
        alertsSince: null,
        sentPositions: new Map(),
        sentAlerts: new Map(),
      };
      this.tenants.set(tenantId, feed);
    }
    return feed;
  }

  private release(tenantId: string, feed: TenantFeed) {
    if (feed.positionStreams === 0 && feed.alerts.size === 0 && this.tenants.get(tenantId) === feed)
      this.tenants.delete(tenantId);
    if (this.tenants.size === 0 && this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  /**
   * Positions of `vehicleId`'s scope (a driver's own vehicle; null: the tenant's whole fleet): the
   * snapshot at the next poll, then each poll's changes. The messages are shared between streams:
   * read them, never change them.
   */
  subscribePositions(
    tenantId: string,
    vehicleId: string | null,
    listener: Listener<PositionsMessage>,
  ): () => void {
    const feed = this.tenant(tenantId);
    const key = scopeKey(vehicleId);
    let scope = feed.scopes.get(key);
    if (!scope) {
      scope = { vehicleId, live: new Set(), waiting: new Set() };
      feed.scopes.set(key, scope);
    }
    const s = scope;
    s.waiting.add(listener);
    feed.positionStreams++;
    this.schedule();
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      s.waiting.delete(listener);
      s.live.delete(listener);
      feed.positionStreams--;
      if (s.live.size === 0 && s.waiting.size === 0 && feed.scopes.get(key) === s) feed.scopes.delete(key);
      this.release(tenantId, feed);
    };
  }

  /** Alerts of the tenant as they are created (one shared message per poll). */
  subscribeAlerts(tenantId: string, listener: Listener<AlertsMessage>): () => void {
    const feed = this.tenant(tenantId);
    feed.alerts.add(listener);
    this.schedule();
    return () => {
      feed.alerts.delete(listener);
      this.release(tenantId, feed);
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
          if (feed.positionStreams > 0) {
            // Changes first, then the snapshots (the order the class comment relies on).
            const changed = await positionsStoredSince(db, tenantId, feed.positionsSince);
            // The streams waiting now: one that subscribes during the queries waits for the next poll.
            const waiting = [...feed.scopes.values()].filter((s) => s.waiting.size > 0);
            const snapshots = await this.snapshots(db, tenantId, waiting);
            this.dispatchPositions(feed, changed);
            for (const [scope, message] of snapshots) {
              for (const l of scope.waiting) {
                scope.live.add(l);
                l(message);
              }
              scope.waiting.clear();
            }
          }
          if (feed.alerts.size > 0)
            this.dispatchAlerts(feed, await alertsCreatedSince(db, tenantId, feed.alertsSince));
        });
      } catch (err) {
        // The database is away for a moment: subscribers keep their streams (the waiting ones keep
        // waiting), and the next poll catches up.
        log.warn({ tenantId, err: (err as Error).message }, 'live poll failed');
      }
    }
  }

  /** Each waiting scope's snapshot message, from as few queries as the scopes allow. */
  private async snapshots(
    db: pg.PoolClient,
    tenantId: string,
    waiting: ScopeFeed[],
  ): Promise<Map<ScopeFeed, PositionsMessage>> {
    const out = new Map<ScopeFeed, PositionsMessage>();
    if (waiting.length === 0) return out;
    const overview = async (vehicleId: string | null) => {
      this.stats.snapshotQueries++;
      return (await fleetOverview(db, { tenantId, vehicleId }, SNAPSHOT_LIMIT, null)).rows;
    };
    if (waiting.length <= PER_SCOPE_SNAPSHOTS && waiting.every((s) => s.vehicleId !== null)) {
      for (const s of waiting)
        out.set(s, {
          snapshot: true,
          // A driver without a vehicle (ownVehicleScope's NUL marker, which no id has and
          // PostgreSQL text refuses): nothing to read.
          vehicles: s.vehicleId!.includes('\u0000') ? [] : await overview(s.vehicleId),
        });
      return out;
    }
    // The tenant's whole fleet, as fleet_app sees it for this tenant; a driver's scope keeps its
    // own vehicle only (what the per-driver query would have returned).
    const fleet = await overview(null);
    for (const s of waiting)
      out.set(s, {
        snapshot: true,
        vehicles: s.vehicleId === null ? fleet : fleet.filter((v) => v.vehicleId === s.vehicleId),
      });
    return out;
  }

  private dispatchPositions(feed: TenantFeed, rows: LivePosition[]) {
    const fresh = rows.filter((r) => feed.sentPositions.get(r.vehicleId) !== r.receivedAt);
    for (const r of rows) {
      feed.sentPositions.set(r.vehicleId, r.receivedAt);
      feed.positionsSince = Math.max(feed.positionsSince ?? 0, r.receivedAt);
    }
    if (fresh.length === 0) return;
    const vehicles: FleetVehicle[] = fresh.map(({ receivedAt: _, ...v }) => v);
    let all: PositionsMessage | undefined;
    for (const scope of feed.scopes.values()) {
      if (scope.live.size === 0) continue;
      let message: PositionsMessage;
      if (scope.vehicleId === null) message = all ??= { snapshot: false, vehicles };
      else {
        const mine = vehicles.filter((v) => v.vehicleId === scope.vehicleId);
        if (mine.length === 0) continue;
        message = { snapshot: false, vehicles: mine };
      }
      for (const l of scope.live) l(message);
    }
  }

  private dispatchAlerts(feed: TenantFeed, rows: Alert[]) {
    const fresh = rows.filter((a) => !feed.sentAlerts.has(a.id));
    for (const a of rows) {
      feed.sentAlerts.set(a.id, a.createdAt);
      feed.alertsSince = Math.max(feed.alertsSince ?? 0, a.createdAt);
    }
    for (const [id, at] of feed.sentAlerts)
      if (at < (feed.alertsSince ?? 0) - 60_000) feed.sentAlerts.delete(id);
    if (fresh.length === 0) return;
    const message: AlertsMessage = { alerts: fresh };
    for (const l of feed.alerts) l(message);
  }
}

/**
 * Queued messages of a slow client beyond which they are merged into one: positions keep each
 * vehicle's latest state, alerts the newest MAX_MERGED_ALERTS. A client that does not read holds
 * at most one merged message, not a growing queue.
 */
const MAX_QUEUED_MESSAGES = 8;
const MAX_MERGED_ALERTS = 1000;

/** Positions messages merged into one: a snapshot if any was, each vehicle's latest state. */
export function mergePositions(queued: PositionsMessage[]): PositionsMessage {
  const latest = new Map<string, FleetVehicle>();
  for (const m of queued) for (const v of m.vehicles) latest.set(v.vehicleId, v);
  return { snapshot: queued.some((m) => m.snapshot), vehicles: [...latest.values()] };
}

/** Alerts messages merged into one (the newest MAX_MERGED_ALERTS: a client this far behind reloads its inbox). */
export function mergeAlerts(queued: AlertsMessage[]): AlertsMessage {
  return { alerts: queued.flatMap((m) => m.alerts).slice(-MAX_MERGED_ALERTS) };
}

/**
 * Bridges a feed to an async generator (tRPC subscriptions) that yields the messages as they
 * come, unchanged (shared messages stay shared); a client that reads slower than they come gets
 * them merged (`merge`), so its backlog stays bounded. The listener is removed when the client
 * goes away (signal) or the stream ends.
 */
export function follow<M>(
  signal: AbortSignal | undefined,
  subscribe: (push: (message: M) => void) => () => void,
  merge: (queued: M[]) => M,
): AsyncGenerator<M> {
  return drain(signal, subscribe, (queue) => (queue.length > MAX_QUEUED_MESSAGES ? [merge(queue)] : queue));
}

/** Most batches a slow client may have waiting; older ones are dropped (positions supersede). */
const MAX_QUEUED_BATCHES = 1000;

/**
 * Bridges a listener to an async generator (tRPC subscriptions): batches queue until the client
 * reads them; the listener is removed when the client goes away (signal) or the stream ends.
 */
export function listen<T>(
  signal: AbortSignal | undefined,
  subscribe: (push: (items: T[]) => void) => () => void,
): AsyncGenerator<T[]> {
  return drain(signal, subscribe, (queue) => (queue.length > MAX_QUEUED_BATCHES ? queue.slice(1) : queue));
}

/** follow and listen: what a listener pushes, yielded in order; `bound` keeps the backlog bounded. */
async function* drain<M>(
  signal: AbortSignal | undefined,
  subscribe: (push: (message: M) => void) => () => void,
  bound: (queue: M[]) => M[],
): AsyncGenerator<M> {
  let queue: M[] = [];
  let wake: (() => void) | null = null;
  const unsubscribe = subscribe((message) => {
    queue.push(message);
    queue = bound(queue);
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
