/**
 * Lag-tolerant reads on a streaming replica (DATABASE_READ_URL), everything else on the primary.
 *
 *   replicaRead procedure ──> ReadReplica.inTenant ──> replica pool ──(unreachable)──> primary pool
 *   every other procedure ──> inTenant(primary)
 *
 * Only procedures marked `replicaRead` (api/trpc.ts: dashboards, reports, leaderboards) come here:
 * writes, read-your-writes paths and sign-in stay on the primary, because a replica answers with
 * what it has replayed so far (usually milliseconds behind, more under load). Tenant isolation is
 * the same as on the primary: the replica is a copy of the same cluster, so role `fleet_app` and
 * the RLS policies are there, and `inTenant` sets role and tenant per transaction exactly alike.
 * A replica is read-only: a write routed here by mistake fails (SQLSTATE 25006), it never lands.
 *
 * When the replica cannot be reached, the read runs on the primary instead, is counted
 * (fleet_db_replica_fallbacks_total) and the outage is logged once (and its end once). While it is
 * believed down, reads skip it for `retryMs` rather than each waiting for a connection timeout.
 */
import type { Logger } from '@fleet/shared/log';
import { safeUrl } from '@fleet/shared/log';
import pg from 'pg';
import { CloudError, CloudErrorCode } from '../errors.ts';
import { replicaFallbacks, replicaReads, replicaUp } from '../metrics/replica-metrics.ts';
import { inTenant } from './tenant.ts';

export interface ReadReplicaOptions {
  url: string;
  /** The same schema as the primary's (DATABASE_SCHEMA), set per connection. */
  schema?: string | undefined;
  max?: number;
  log: Logger;
  /** How long a replica that failed is skipped before a read tries it again, default 5 s. */
  retryMs?: number;
  /** How long a read waits for a replica connection before falling back, default 2 s. */
  connectTimeoutMs?: number;
}

/**
 * SQLSTATE classes that mean "this server cannot answer now", not "this query is wrong": connection
 * exceptions (08), shutdown and crash (57P01-57P03), and a standby that cannot serve yet (57P03,
 * "the database system is starting up"). Errors without a SQLSTATE are socket errors (refused,
 * reset, timeout, "Connection terminated").
 */
function unreachable(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return true;
  return code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03';
}

export class ReadReplica {
  readonly pool: pg.Pool;
  private readonly log: Logger;
  private readonly retryMs: number;
  /** Until when reads skip the replica (0: believed up). */
  private downUntil = 0;
  private down = false;

  constructor(
    private readonly primary: pg.Pool,
    private readonly opts: ReadReplicaOptions,
  ) {
    this.log = opts.log;
    this.retryMs = opts.retryMs ?? 5000;
    this.pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.max ?? 10,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 2000,
      ...(opts.schema ? { options: `-c search_path=${opts.schema}` } : {}),
    });
    // A replica restarting drops idle clients: the next read reconnects or falls back.
    this.pool.on('error', () => {});
    replicaUp.set(1);
  }

  /** Where the replica is, passwords hidden (logs, the CLI's answers). */
  get where(): string {
    return safeUrl(this.opts.url);
  }

  /**
   * `fn` as `tenantId` (fleet_app + RLS) on the replica, or on the primary while the replica is
   * unreachable. `fn` must only read: it may run twice (on the replica, then on the primary) when
   * the replica goes away in the middle of it.
   */
  async inTenant<T>(tenantId: string, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    if (this.down && Date.now() < this.downUntil) {
      replicaFallbacks.inc({ reason: 'down' });
      return inTenant(this.primary, tenantId, fn);
    }
    try {
      const result = await inTenant(this.pool, tenantId, fn);
      replicaReads.inc();
      if (this.down) {
        this.down = false;
        replicaUp.set(1);
        this.log.info(
          { replica: this.where },
          'read replica answers again: lag-tolerant reads go back to it',
        );
      }
      return result;
    } catch (err) {
      if (!unreachable(err)) throw err;
      replicaFallbacks.inc({ reason: 'failed' });
      this.downUntil = Date.now() + this.retryMs;
      if (!this.down) {
        this.down = true;
        replicaUp.set(0);
        const e = new CloudError(
          CloudErrorCode.ReplicaUnreachable,
          `read replica at ${this.where} unreachable: ${(err as Error).message}`,
          { cause: err },
        );
        this.log.warn(
          { code: e.code, replica: this.where, err: e.message, retryMs: this.retryMs },
          'read replica unreachable: lag-tolerant reads fall back to the primary',
        );
      }
      return inTenant(this.primary, tenantId, fn);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
