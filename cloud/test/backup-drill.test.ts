/**
 * The backup and restore drill (db/backup-drill.ts, `fleet-cloud db backup-drill`) on the real
 * PostgreSQL: a migrated schema with two tenants' vehicles and audit entries is dumped, restored
 * into a new database and found whole (exit 0); a row deleted from the restored copy and an audit
 * entry edited in it make the drill fail and name both. The drill database is always dropped.
 */
import { createLogger } from '@fleet/shared/log';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackupDrillReport, backupDrill } from '../src/db/backup-drill.ts';
import { migrate } from '../src/db/migrate.ts';
import { appendAudit } from '../src/db/queries/audit-log.ts';
import { runCli } from './support/cli.ts';
import { openTestPool, POSTGRES_URL, requireServices, uniqueId } from './support/services.ts';

let db: Awaited<ReturnType<typeof openTestPool>>;

beforeAll(async () => {
  await requireServices({ postgres: true });
  db = await openTestPool('t_drill');
  await migrate(db.pool, createLogger('drill-test').child({}, { level: 'error' }));
  await db.pool.query(`INSERT INTO tenants (id, name) VALUES ('acme', 'Acme'), ('globex', 'Globex')`);
  await db.pool.query(
    `INSERT INTO vehicles (id, tenant_id, vehicle_class) VALUES
       ('van-1', 'acme', 'van'), ('van-2', 'acme', 'van'), ('g-1', 'globex', 'truck')`,
  );
  for (let i = 1; i <= 5; i++)
    await appendAudit(db.pool, {
      tenantId: i % 2 ? 'acme' : 'globex',
      actor: `user:u${i}`,
      action: 'vehicle.update',
      entity: `vehicle:van-${i}`,
      before: { name: `van ${i}` },
      after: { name: `van ${i}b`, note: 'ünïcode ✓' },
    });
}, 60_000);

afterAll(async () => {
  await db?.drop();
});

/** Runs SQL on the restored copy as superuser with triggers off (the audit log refuses edits). */
const tamper =
  (...sql: string[]) =>
  async (restoredUrl: string) => {
    const c = new pg.Client({ connectionString: restoredUrl, options: `-c search_path=${db.schema}` });
    await c.connect();
    try {
      await c.query('BEGIN');
      await c.query('SET LOCAL session_replication_role = replica');
      for (const s of sql) await c.query(s);
      await c.query('COMMIT');
    } finally {
      await c.end();
    }
  };

async function drillDatabases(name: string): Promise<number> {
  const { rows } = await db.pool.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  return rows.length;
}

describe('backup drill (real PostgreSQL)', () => {
  it('dump → restore → same row counts and an intact audit chain: exit 0, copy dropped', async () => {
    const restoreDatabase = uniqueId('drill');
    const { code, out } = await runCli(
      db.schema,
      'db',
      'backup-drill',
      '--json',
      '--restore-database',
      restoreDatabase,
    );
    const report = JSON.parse(out[0]!) as BackupDrillReport;
    expect(report.problems).toEqual([]);
    expect(code).toBe(0);
    expect(report.ok).toBe(true);
    const count = (t: string) => report.tables.find((x) => x.table === `${db.schema}.${t}`);
    expect(count('vehicles')).toEqual({ table: `${db.schema}.vehicles`, source: 3, restored: 3 });
    expect(count('audit_log')).toMatchObject({ source: 5, restored: 5 });
    expect(count('tenants')).toMatchObject({ source: 2, restored: 2 });
    expect(report.audit).toEqual({ ok: true, entries: 5 });
    expect(report.dumpBytes).toBeGreaterThan(0);
    expect(await drillDatabases(restoreDatabase)).toBe(0);
  });

  it('a row missing from, or an audit entry edited in, the restored copy fails the drill, naming both', async () => {
    const restoreDatabase = uniqueId('drill');
    const { rows } = await db.pool.query<{ id: number }>(
      'SELECT id FROM audit_log ORDER BY id OFFSET 2 LIMIT 1',
    );
    const tampered = rows[0]!.id;
    const report = await backupDrill({
      databaseUrl: POSTGRES_URL,
      schema: db.schema,
      restoreDatabase,
      afterRestore: tamper(
        `DELETE FROM vehicles WHERE id = 'g-1'`,
        `UPDATE audit_log SET actor = 'user:mallory' WHERE id = ${tampered}`,
      ),
    });
    expect(report.ok).toBe(false);
    expect(report.mismatches).toEqual([{ table: `${db.schema}.vehicles`, source: 3, restored: 2 }]);
    expect(report.audit).toMatchObject({ ok: false, firstBadId: tampered, problem: 'edited' });
    expect(report.problems).toHaveLength(2);
    expect(report.problems[0]).toMatch(/vehicles: 3 rows in the source, 2 restored/);
    expect(report.problems[1]).toMatch(
      new RegExp(`audit verify .*first bad entry id ${tampered} \\(edited\\)`),
    );
    expect(await drillDatabases(restoreDatabase)).toBe(0);
  });

  it('a drill that cannot run says why with exit 2 (no pg_dump where pointed)', async () => {
    const { code, err } = await runCli(db.schema, 'db', 'backup-drill', '--pg-bin', '/nonexistent');
    expect(code).toBe(2);
    expect(err.join('\n')).toMatch(/E962: .*pg_dump not found/);
  });
});
