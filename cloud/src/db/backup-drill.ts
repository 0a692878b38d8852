/**
 * The backup and restore drill (`fleet-cloud db backup-drill`): a backup counts only once it has
 * been restored and found whole. One run:
 *
 *   source ──pg_dump -Fc (one snapshot)──> dump file ──pg_restore──> new empty database
 *      │ row count of every table, in that same snapshot        │ row count of every table
 *      └──────────────────────── compared ──────────────────────┘ + audit chain verified there
 *
 * The counts on the source are taken in the transaction whose snapshot pg_dump uses
 * (pg_export_snapshot + --snapshot), so a live database being written meanwhile still compares
 * exactly. The restored copy is a new database on the same server (roles such as fleet_app are
 * per server and are not in a dump; restoring elsewhere needs `pg_dumpall --roles-only` first)
 * and is dropped at the end unless kept. Row-level security: counts and pg_dump must see every
 * tenant's rows, so the drill runs as a superuser or as the tables' owner.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { safeUrl } from '@fleet/shared/log';
import pg from 'pg';
import { CloudError, CloudErrorCode } from '../errors.ts';
import { type AuditVerdict, verifyAuditChain } from './queries/audit-log.ts';

const run = promisify(execFile);

/** Debian's PostgreSQL 15 client binaries when installed there, else whatever PATH finds. */
export const DEFAULT_PG_BIN = existsSync('/usr/lib/postgresql/15/bin/pg_dump')
  ? '/usr/lib/postgresql/15/bin'
  : '';

export interface BackupDrillOptions {
  databaseUrl: string;
  /** Only this schema (DATABASE_SCHEMA); default every non-system schema of the database. */
  schema?: string | undefined;
  /** Directory of pg_dump and pg_restore; '' = PATH. */
  pgBin?: string;
  /** Name of the restored database, default `<source>_drill_<UTC time>`; must not exist. */
  restoreDatabase?: string;
  /** Keep the restored database (default: dropped at the end, whatever the verdict). */
  keep?: boolean;
  /** Tests only: runs against the restored copy before it is checked (to show tampering is found). */
  afterRestore?: (restoredUrl: string) => Promise<void>;
}

export interface TableCount {
  table: string;
  source: number;
  restored: number | null;
}

export interface BackupDrillReport {
  ok: boolean;
  source: string;
  schema: string | null;
  restoredDatabase: string;
  kept: boolean;
  dumpBytes: number;
  dumpMs: number;
  restoreMs: number;
  tables: TableCount[];
  /** Tables whose counts differ (or that are missing from the copy). */
  mismatches: TableCount[];
  audit: AuditVerdict | { ok: false; error: string };
  /** Why it failed, one line each. */
  problems: string[];
}

/** A URL without its password (given to the tools in PGPASSWORD, never on their command line). */
function splitPassword(url: string): { url: string; env: NodeJS.ProcessEnv } {
  const u = new URL(url);
  const password = decodeURIComponent(u.password);
  u.password = '';
  return { url: u.toString(), env: password ? { ...process.env, PGPASSWORD: password } : process.env };
}

const withDatabase = (url: string, database: string) => {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
};

const quoteIdent = (s: string) => `"${s.replaceAll('"', '""')}"`;

async function tool(pgBin: string, name: string, args: string[], url: string): Promise<void> {
  const { url: bare, env } = splitPassword(url);
  const file = pgBin ? path.join(pgBin, name) : name;
  try {
    await run(file, [...args, `--dbname=${bare}`], { env, maxBuffer: 16 << 20 });
  } catch (err) {
    const e = err as { code?: string; stderr?: string; message: string };
    throw new CloudError(
      CloudErrorCode.BackupDrillFailed,
      e.code === 'ENOENT'
        ? `${file} not found: install the PostgreSQL client (apt-get install -y postgresql-client-15) or pass --pg-bin`
        : `${name} failed: ${(e.stderr ?? e.message).trim().split('\n').slice(-5).join(' | ')}`,
      { cause: err },
    );
  }
}

/** Every ordinary table (partitions are counted one by one, their parents not at all). */
async function countRows(c: pg.ClientBase, schema: string | undefined): Promise<Map<string, number>> {
  const { rows: tables } = await c.query<{ s: string; t: string }>(
    `SELECT n.nspname AS s, c.relname AS t
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'r'
        AND ($1::text IS NULL OR n.nspname = $1)
        AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
        AND n.nspname NOT LIKE 'pg_temp%' AND n.nspname NOT LIKE 'pg_toast_temp%'
      ORDER BY 1, 2`,
    [schema ?? null],
  );
  const counts = new Map<string, number>();
  if (tables.length === 0) return counts;
  // A few statements for all (a SELECT takes at most 1,664 columns): a round trip per table made
  // a 200-table schema slow on a remote server.
  for (let from = 0; from < tables.length; from += 500) {
    const chunk = tables.slice(from, from + 500);
    const { rows } = await c.query<Record<string, string>>(
      `SELECT ${chunk
        .map((r, i) => `(SELECT count(*) FROM ${quoteIdent(r.s)}.${quoteIdent(r.t)})::text AS c${i}`)
        .join(', ')}`,
    );
    for (const [i, r] of chunk.entries()) counts.set(`${r.s}.${r.t}`, Number(rows[0]![`c${i}`]));
  }
  return counts;
}

export async function backupDrill(opts: BackupDrillOptions): Promise<BackupDrillReport> {
  const pgBin = opts.pgBin ?? DEFAULT_PG_BIN;
  const sourceDb = decodeURIComponent(new URL(opts.databaseUrl).pathname.slice(1)) || 'postgres';
  const stamp = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const restoreDatabase = opts.restoreDatabase ?? `${sourceDb}_drill_${stamp}`.slice(0, 63);
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(restoreDatabase))
    throw new CloudError(
      CloudErrorCode.BackupDrillFailed,
      `restore database name "${restoreDatabase}" is not a plain identifier ([A-Za-z_][A-Za-z0-9_]{0,62})`,
    );
  const restoredUrl = withDatabase(opts.databaseUrl, restoreDatabase);
  const work = await mkdtemp(path.join(tmpdir(), 'fleet-drill-'));
  const dumpFile = path.join(work, `${sourceDb}.dump`);

  const source = new pg.Client({ connectionString: opts.databaseUrl });
  let created = false;
  try {
    try {
      await source.connect();
    } catch (err) {
      throw new CloudError(
        CloudErrorCode.BackupDrillFailed,
        `cannot reach PostgreSQL at ${safeUrl(opts.databaseUrl)}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    // The snapshot pg_dump reads is the one the source counts are taken in.
    await source.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const { rows } = await source.query<{ s: string }>('SELECT pg_export_snapshot() AS s');
    const t0 = performance.now();
    await tool(
      pgBin,
      'pg_dump',
      [
        '--format=custom',
        `--snapshot=${rows[0]!.s}`,
        `--file=${dumpFile}`,
        ...(opts.schema ? [`--schema=${opts.schema}`] : []),
      ],
      opts.databaseUrl,
    );
    const dumpMs = performance.now() - t0;
    const sourceCounts = await countRows(source, opts.schema);
    await source.query('COMMIT');
    const dumpBytes = (await stat(dumpFile)).size;

    await source.query(`CREATE DATABASE ${quoteIdent(restoreDatabase)}`).catch((err: Error) => {
      throw new CloudError(
        CloudErrorCode.BackupDrillFailed,
        `cannot create the drill database ${restoreDatabase}: ${err.message}`,
        { cause: err },
      );
    });
    created = true;
    const t1 = performance.now();
    // --exit-on-error: a restore that "mostly worked" is a failed drill.
    await tool(pgBin, 'pg_restore', ['--exit-on-error', '--no-password', dumpFile], restoredUrl);
    const restoreMs = performance.now() - t1;
    await opts.afterRestore?.(restoredUrl);

    const restored = new pg.Client({
      connectionString: restoredUrl,
      ...(opts.schema ? { options: `-c search_path=${opts.schema}` } : {}),
    });
    await restored.connect();
    let restoredCounts: Map<string, number>;
    let audit: BackupDrillReport['audit'];
    try {
      restoredCounts = await countRows(restored, opts.schema);
      audit = await verifyAuditChain(restored).catch((err: Error) => ({
        ok: false as const,
        error: err.message,
      }));
    } finally {
      await restored.end();
    }

    const names = [...new Set([...sourceCounts.keys(), ...restoredCounts.keys()])].sort();
    const tables = names.map((table) => ({
      table,
      source: sourceCounts.get(table) ?? 0,
      restored: restoredCounts.get(table) ?? null,
    }));
    const mismatches = tables.filter((t) => t.restored !== t.source || !sourceCounts.has(t.table));
    const problems = [
      ...mismatches.map((m) =>
        m.restored === null
          ? `table ${m.table} missing from the restored copy (${m.source} rows in the source)`
          : `table ${m.table}: ${m.source} rows in the source, ${m.restored} restored`,
      ),
      ...(audit.ok
        ? []
        : 'error' in audit
          ? [`audit verify could not run on the restored copy: ${audit.error}`]
          : [
              `audit verify on the restored copy: first bad entry id ${audit.firstBadId} (${audit.problem}) of ${audit.entries}`,
            ]),
    ];
    return {
      ok: problems.length === 0,
      source: safeUrl(opts.databaseUrl),
      schema: opts.schema ?? null,
      restoredDatabase: restoreDatabase,
      kept: !!opts.keep,
      dumpBytes,
      dumpMs: Math.round(dumpMs),
      restoreMs: Math.round(restoreMs),
      tables,
      mismatches,
      audit,
      problems,
    };
  } finally {
    if (created && !opts.keep)
      await source
        .query(`DROP DATABASE IF EXISTS ${quoteIdent(restoreDatabase)} WITH (FORCE)`)
        .catch(() => {});
    await source.end().catch(() => {});
    await rm(work, { recursive: true, force: true });
  }
}
