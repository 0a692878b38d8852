/**
 * `fleet-agent db stats [--json]`: rows per table, file size, disk budget use, eviction counters.
 */
import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { Command } from 'commander';
import { AgentDb, DEFAULT_DISK_BUDGET_BYTES } from '../store/agent-db.ts';
import { addDbOption, type SyncCliIo } from './sync.ts';

const consoleIo: SyncCliIo = { out: (l) => console.log(l), err: (l) => console.error(l) };

export function dbStats(
  o: { db: string; json?: boolean; diskBudget?: string },
  io: SyncCliIo = consoleIo,
): number {
  const budget = Number(o.diskBudget ?? DEFAULT_DISK_BUDGET_BYTES);
  const db = new AgentDb(o.db, { diskBudgetBytes: budget });
  const st = db.stats();
  db.close();
  const raw = new Database(o.db, { readonly: true });
  const tables = raw
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .all() as { name: string }[];
  const rows: Record<string, number> = {};
  for (const { name } of tables) {
    rows[name] = (raw.prepare(`SELECT count(*) AS n FROM "${name}"`).get() as { n: number }).n;
  }
  const schemaVersion = raw.pragma('user_version', { simple: true }) as number;
  raw.close();
  const walBytes = (() => {
    try {
      return statSync(`${o.db}-wal`).size;
    } catch {
      return 0;
    }
  })();
  const doc = {
    // The v1 fields first (scripts read them).
    samples: st.samples,
    lastSeq: st.lastSeq,
    ackedSeq: st.ackedSeq,
    unsent: st.unsent,
    schemaVersion,
    rows,
    fileBytes: st.fileBytes,
    freeBytes: st.freeBytes,
    walBytes,
    diskBudgetBytes: budget,
    budgetUsedPct: Math.round((st.fileBytes / budget) * 10_000) / 100,
    evictions: st.evictions,
  };
  if (o.json) io.out(JSON.stringify(doc));
  else {
    io.out(
      `Schema v${schemaVersion}, ${doc.fileBytes} bytes (+${walBytes} WAL, ${doc.freeBytes} free), ${doc.budgetUsedPct}% of ${budget}`,
    );
    for (const [name, n] of Object.entries(rows)) io.out(`  ${name.padEnd(20)} ${n}`);
    io.out(`Samples ${doc.samples}, cursor ${doc.ackedSeq}/${doc.lastSeq}, unsent ${doc.unsent}`);
    io.out(
      `Evicted ${Object.entries(doc.evictions)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
  }
  return 0;
}

export function registerDbCommands(program: Command, io: SyncCliIo = consoleIo): void {
  const db = program.command('db').description('Inspect the on-device store.');
  addDbOption(
    db
      .command('stats')
      .description('Rows per table, file size, disk budget use, eviction counters.')
      .option('--disk-budget <bytes>', 'budget to compare against', String(DEFAULT_DISK_BUDGET_BYTES))
      .option('--json', 'machine-readable output'),
  ).action((o: { db: string; json?: boolean; diskBudget?: string }) => {
    process.exitCode = dbStats(o, io);
  });
}
