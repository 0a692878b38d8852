import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '@fleet/shared/log';
import type pg from 'pg';
import { CloudError, CloudErrorCode } from '../errors.ts';

const MIGRATIONS_DIR = path.join(import.meta.dirname, 'migrations');
// Any constant works; it only has to be the same for every instance of the cloud.
const MIGRATION_LOCK_KEY = 727_274_001;

/**
 * Applies `migrations/NNNNNN.sql` in order (graphile-worker style): each file in its own
 * transaction, recorded in `fleet_migrations`; an advisory lock makes concurrent instances
 * wait instead of applying one twice. Runs unchanged on PostgreSQL and PGlite.
 */
export async function migrate(pool: pg.Pool, log: Logger): Promise<number> {
  const files = (await readdir(MIGRATIONS_DIR)).filter((f) => /^\d{6}\.sql$/.test(f)).sort();
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await client.query(`CREATE TABLE IF NOT EXISTS fleet_migrations (
      id integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ id: number }>('SELECT id FROM fleet_migrations');
    const applied = new Set(rows.map((r) => r.id));
    let count = 0;
    for (const file of files) {
      const id = Number.parseInt(file, 10);
      if (applied.has(id)) continue;
      const sql = await readFile(path.join(MIGRATIONS_DIR, file), 'utf8');
      try {
        await client.query('BEGIN');
        await client.query(sql);
        await client.query('INSERT INTO fleet_migrations (id, name) VALUES ($1, $2)', [id, file]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw new CloudError(
          CloudErrorCode.MigrationFailed,
          `migration ${file} failed: ${(err as Error).message}`,
          {
            cause: err,
          },
        );
      }
      log.info({ migration: file }, 'migration applied');
      count++;
    }
    return count;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => {});
    client.release();
  }
}
