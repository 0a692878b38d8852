import { safeUrl } from '@fleet/shared/log';
import pg from 'pg';
import { CloudError, CloudErrorCode } from '../errors.ts';

// Return bigint columns (seq, counts) as JS numbers: our values stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number.parseInt(v, 10));

export interface PoolOptions {
  url: string;
  schema?: string | undefined;
  max?: number;
}

/** One pool per process; every query of the cloud goes through it (PostgreSQL or PGlite socket). */
export async function openPool(opts: PoolOptions): Promise<pg.Pool> {
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.max ?? 10,
    connectionTimeoutMillis: 10_000,
    // search_path per connection keeps a test's schema from leaking into another's.
    ...(opts.schema ? { options: `-c search_path=${opts.schema}` } : {}),
  });
  // An idle client's error (server restart) must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  // Nor a checked-out client's: pg-pool takes its idle listener off when it hands a new client out
  // and pool.query() puts its own on a moment later, so a backend terminated in between (a
  // failover, pg_terminate_backend) emitted 'error' with no listener: an uncaught exception, seen
  // in notify-email's connection-drop test. The query on it still fails with the error, and pg-pool
  // discards a client that errored when it comes back.
  pool.on('connect', (client) => client.on('error', () => {}));
  try {
    const client = await pool.connect();
    try {
      if (opts.schema) await client.query(`CREATE SCHEMA IF NOT EXISTS ${opts.schema}`);
    } finally {
      client.release();
    }
  } catch (err) {
    await pool.end().catch(() => {});
    throw new CloudError(
      CloudErrorCode.DatabaseUnreachable,
      `cannot reach PostgreSQL at ${safeUrl(opts.url)}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  return pool;
}
