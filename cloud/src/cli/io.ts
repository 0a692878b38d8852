/**
 * Where a `fleet-cloud` command writes: the console in production, an array in tests. A module
 * of its own so the command modules (fuel.ts, model.ts) and main.ts, which registers them, do not
 * import each other.
 */
import type pg from 'pg';
import { openPool } from '../db/pool.ts';
import { isCloudError } from '../errors.ts';

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

export const consoleIo: CliIo = { out: (l) => console.log(l), err: (l) => console.error(l) };

/**
 * Runs a database command with its own pool: the exit status is what `fn` returns; any error
 * becomes one line on stderr (`E<code>: ...` for a CloudError) and exit status 2.
 */
export async function withPool(
  io: CliIo,
  o: { databaseUrl: string; schema?: string | undefined },
  fn: (pool: pg.Pool) => Promise<number>,
): Promise<void> {
  try {
    const pool = await openPool({ url: o.databaseUrl, schema: o.schema, max: 2 });
    try {
      process.exitCode = await fn(pool);
    } finally {
      await pool.end();
    }
  } catch (err) {
    io.err(isCloudError(err) ? `E${err.code}: ${err.message}` : `error: ${(err as Error).message}`);
    process.exitCode = 2;
  }
}
