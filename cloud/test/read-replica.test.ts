/**
 * The read replica (DATABASE_READ_URL, db/read-replica.ts) against a real streaming replica: a
 * throwaway primary (initdb) and hot standby (pg_basebackup -R) on free loopback ports
 * (scripts/lib/pg-cluster.ts), the project's migrations applied on the primary only.
 *   - a replicaRead procedure (scores.leaderboard) answers from the replica: with replay paused it
 *     does not see a row just written on the primary, after replay it does; RLS holds there;
 *   - writes and read-your-writes stay on the primary (the replica refuses a write outright);
 *   - replica stopped: the same procedure answers from the primary, counted, logged once; back
 *     up: reads return to it.
 */
import type { Logger } from '@fleet/shared/log';
import { createLogger } from '@fleet/shared/log';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type PgCluster, startPgCluster } from '../../scripts/lib/pg-cluster.ts';
import { createCaller } from '../src/api/root.ts';
import type { Session } from '../src/auth/session.ts';
import { migrate } from '../src/db/migrate.ts';
import { openPool } from '../src/db/pool.ts';
import { ReadReplica } from '../src/db/read-replica.ts';
import { replicaFallbacks, replicaReads } from '../src/metrics/replica-metrics.ts';
import { sessionOf } from './support/sessions.ts';

let cluster: PgCluster;
let primary: pg.Pool;
let replicaAdmin: pg.Client;
let replica: ReadReplica;
const replicaLog = { warn: vi.fn(), info: vi.fn() };

const manager = sessionOf('fleet_manager', 'acme');
const globexManager = sessionOf('fleet_manager', 'globex');
const DAY = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
const callerAs = (session: Session) => createCaller({ db: primary, readReplica: replica, session });
const names = async (session = manager) =>
  (await callerAs(session).scores.leaderboard({ period: 'week' })).rows.map((r) => r.name).sort();
const count = async (c: { get(): Promise<{ values: { value: number; labels: object }[] }> }, labels = {}) =>
  (await c.get()).values
    .filter((v) => Object.entries(labels).every(([k, x]) => (v.labels as Record<string, unknown>)[k] === x))
    .reduce((n, v) => n + v.value, 0);

async function addScore(tenant: string, user: string, name: string, score: number) {
  await primary.query(
    `INSERT INTO users (id, tenant_id, email, name, role, password_hash) VALUES ($1, $2, $3, $4, 'driver', 'x')`,
    [user, tenant, `${user}@${tenant}.test`, name],
  );
  await primary.query(
    `INSERT INTO driver_day_scores (tenant_id, user_id, day, window_days, km, score, percentile, peer_group, metrics)
     VALUES ($1, $2, $3, 7, 120, $4, 50, 'van', '{}')`,
    [tenant, user, DAY, score],
  );
}

beforeAll(async () => {
  cluster = await startPgCluster({ replica: true });
  primary = await openPool({ url: cluster.primary.url(), max: 4 });
  await migrate(primary, createLogger('replica-test').child({}, { level: 'error' }));
  await primary.query(`INSERT INTO tenants (id, name) VALUES ('acme', 'Acme'), ('globex', 'Globex')`);
  await addScore('acme', 'dana', 'Dana', 80);
  await addScore('acme', 'eli', 'Eli', 70);
  await addScore('globex', 'gus', 'Gus', 90);
  await cluster.waitForReplay();
  replicaAdmin = new pg.Client({ connectionString: cluster.replica!.url() });
  replicaAdmin.on('error', () => {}); // stopped on purpose in the fallback test
  await replicaAdmin.connect();
  replica = new ReadReplica(primary, {
    url: cluster.replica!.url(),
    max: 2,
    log: replicaLog as unknown as Logger,
    retryMs: 300,
  });
}, 120_000);

afterAll(async () => {
  await replica?.close();
  await replicaAdmin?.end().catch(() => {});
  await primary?.end();
  await cluster?.destroy();
});

describe('read replica', () => {
  it('a replicaRead procedure answers from the replica, lagging while replay is paused, with RLS', async () => {
    const before = await count(replicaReads);
    expect(await names()).toEqual(['Dana', 'Eli']);
    expect(await names(globexManager)).toEqual(['Gus']);
    expect(await count(replicaReads)).toBe(before + 2);

    // Replay paused: the primary has Fay, the replica (and so the leaderboard) not yet.
    await replicaAdmin.query('SELECT pg_wal_replay_pause()');
    await addScore('acme', 'fay', 'Fay', 75);
    expect(await names()).toEqual(['Dana', 'Eli']);
    await replicaAdmin.query('SELECT pg_wal_replay_resume()');
    await cluster.waitForReplay();
    expect(await names()).toEqual(['Dana', 'Eli', 'Fay']);
  });

  it('writes and read-your-writes stay on the primary; the replica refuses a write', async () => {
    await replicaAdmin.query('SELECT pg_wal_replay_pause()');
    try {
      const fm = callerAs(manager);
      // Would fail with 25006 had it been routed to the replica.
      await fm.scores.updateSettings({ anonymise: false });
      // Read right after: the primary has it although the replica has not replayed it.
      expect((await fm.scores.settings({})).anonymise).toBe(false);
    } finally {
      await replicaAdmin.query('SELECT pg_wal_replay_resume()');
    }
    await expect(
      replica.inTenant('acme', (c) => c.query(`UPDATE driver_score_settings SET anonymise = true`)),
    ).rejects.toMatchObject({ code: '25006' });
  });

  it('replica stopped: reads fall back to the primary, counted and logged once; then return', async () => {
    await cluster.waitForReplay();
    const expected = await names();
    const failed = await count(replicaFallbacks, { reason: 'failed' });
    const all = await count(replicaFallbacks);
    await cluster.replica!.stop();
    await replicaAdmin.end().catch(() => {});

    for (let i = 0; i < 3; i++) expect(await names()).toEqual(expected);
    // The first read found it down; the next skip it for retryMs (or try again on a slow box).
    expect(await count(replicaFallbacks, { reason: 'failed' })).toBeGreaterThanOrEqual(failed + 1);
    expect(await count(replicaFallbacks)).toBe(all + 3);
    expect(replicaLog.warn).toHaveBeenCalledTimes(1);
    expect(replicaLog.warn.mock.calls[0]![0]).toMatchObject({ code: 960 });

    await cluster.replica!.start();
    const reads = await count(replicaReads);
    // Once retryMs has passed, a read tries the replica again (a fresh standby may refuse for a moment).
    await vi.waitFor(
      async () => {
        expect(await names()).toEqual(expected);
        expect(await count(replicaReads)).toBeGreaterThan(reads);
      },
      { timeout: 30_000, interval: 200 },
    );
    expect(replicaLog.info).toHaveBeenCalledTimes(1);
    expect(replicaLog.warn).toHaveBeenCalledTimes(1);
  });
});
