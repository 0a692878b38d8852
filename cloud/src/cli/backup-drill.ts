/**
 * `fleet-cloud db backup-drill`: pg_dump → restore into a new database → row counts and audit
 * verify on the copy (db/backup-drill.ts). Exit 0 when the copy is whole, 1 when it differs
 * (E961), 2 when the drill could not run (E962: tools missing, server unreachable, restore failed).
 */
import type { Command } from 'commander';
import { type BackupDrillReport, backupDrill, DEFAULT_PG_BIN } from '../db/backup-drill.ts';
import { CloudErrorCode, isCloudError } from '../errors.ts';
import type { CliIo } from './io.ts';

export interface BackupDrillCliOptions {
  databaseUrl: string;
  schema?: string;
  json?: boolean;
  keep?: boolean;
  restoreDatabase?: string;
  pgBin?: string;
}

function describe(r: BackupDrillReport): string[] {
  const rows = r.tables.reduce((n, t) => n + t.source, 0);
  const lines = [
    `dumped ${r.source}${r.schema ? ` schema ${r.schema}` : ''}: ${(r.dumpBytes / 1024).toFixed(0)} KiB in ${r.dumpMs} ms; restored into ${r.restoredDatabase} in ${r.restoreMs} ms${r.kept ? ' (kept)' : ' (dropped)'}`,
    `${r.tables.length} tables, ${rows} rows compared; audit log ${
      r.audit.ok ? `intact (${r.audit.entries} entries)` : 'NOT intact'
    }`,
  ];
  if (r.ok) lines.push('backup drill passed');
  else
    lines.push(
      `E${CloudErrorCode.BackupDrillMismatch}: backup drill FAILED`,
      ...r.problems.map((p) => `  ${p}`),
    );
  return lines;
}

export async function backupDrillCommand(o: BackupDrillCliOptions, io: CliIo): Promise<number> {
  try {
    const report = await backupDrill({
      databaseUrl: o.databaseUrl,
      schema: o.schema,
      keep: !!o.keep,
      ...(o.restoreDatabase ? { restoreDatabase: o.restoreDatabase } : {}),
      ...(o.pgBin !== undefined ? { pgBin: o.pgBin } : {}),
    });
    if (o.json) io.out(JSON.stringify(report));
    else for (const l of describe(report)) (report.ok ? io.out : io.err)(l);
    return report.ok ? 0 : 1;
  } catch (err) {
    const code = isCloudError(err) ? err.code : CloudErrorCode.BackupDrillFailed;
    const message = (err as Error).message;
    if (o.json) io.out(JSON.stringify({ ok: false, error: { code, message } }));
    io.err(`E${code}: backup drill could not run: ${message}`);
    return 2;
  }
}

export function registerDbCommands(
  program: Command,
  io: CliIo,
  opts: (cmd: Command) => BackupDrillCliOptions,
) {
  program
    .command('db')
    .description('database operations')
    .command('backup-drill')
    .description(
      "pg_dump (custom format, one snapshot) the fleet database, restore it into a new empty database on the same server, compare every table's row count and run audit verify on the copy; exit 0 whole, 1 differs, 2 could not run",
    )
    .option(
      '--json',
      'one JSON document: {ok, tables, mismatches, audit, problems, dumpBytes, dumpMs, restoreMs}',
    )
    .option('--keep', 'keep the restored database (default: dropped at the end)')
    .option('--restore-database <name>', 'name of the restored database (default <db>_drill_<UTC time>)')
    .option(
      '--pg-bin <dir>',
      "directory of pg_dump and pg_restore (default: PostgreSQL 15's, else PATH)",
      DEFAULT_PG_BIN,
    )
    .action(async (_o, cmd: Command) => {
      process.exitCode = await backupDrillCommand(opts(cmd), io);
    });
}
