/**
 * The embedded database (PGlite behind pglite-socket) serves many connections on one session:
 * node-postgres clients running parameterised queries and transactions at the same time must each
 * get their own answers, as from a real PostgreSQL (the cloud sends no COPY FROM STDIN). With
 * pglite-socket's own queue the first check fails (`portal "" does not exist`, or another query's
 * rows: an extended-protocol batch cut by another client's), which the Quick start's API answered
 * as a 500 now and then.
 */
import { createLogger } from '@fleet/shared/log';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/lib/processes.ts';
import { startEmbeddedDatabase } from '../src/embedded/database.ts';

const log = createLogger('embedded-db-test').child({}, { level: 'error' });
let url: string;
let close: () => Promise<void>;

beforeAll(async () => {
  const db = await startEmbeddedDatabase({ host: '127.0.0.1', port: await freePort(), log });
  url = db.url;
  close = db.close;
}, 60_000);

afterAll(async () => {
  await close?.();
});

describe('embedded database, many connections on one PGlite session', () => {
  it('parameterised queries from 8 connections at once each get their own rows', async () => {
    const pool = new pg.Pool({ connectionString: url, max: 8 });
    try {
      const answers = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          // Extended protocol (with a large parameter: its Bind arrives in several TCP reads, as
          // the ingest's row arrays do) and simple queries mixed, each with a statement text of
          // its own: a Bind or Execute cut off from its Parse shows.
          (i % 2 === 0
            ? pool.query<{ n: number; s: string }>(
                `SELECT $1::int AS n, 'q${i}'::text AS s FROM generate_series(1, 3) WHERE length($2::text) > 0`,
                [i, 'x'.repeat(200_000)],
              )
            : pool.query<{ n: number; s: string }>(
                `SELECT ${i}::int AS n, 'q${i}'::text AS s FROM generate_series(1, 3)`,
              )
          ).then((r) => r.rows),
        ),
      );
      answers.forEach((rows, i) => {
        expect(rows).toEqual([
          { n: i, s: `q${i}` },
          { n: i, s: `q${i}` },
          { n: i, s: `q${i}` },
        ]);
      });
    } finally {
      await pool.end();
    }
  }, 60_000);

  it('transactions of several connections do not see or undo each other', async () => {
    const pool = new pg.Pool({ connectionString: url, max: 6 });
    try {
      await pool.query('CREATE TABLE IF NOT EXISTS t_tx (k int PRIMARY KEY, v text)');
      await Promise.all(
        Array.from({ length: 60 }, async (_, i) => {
          const c = await pool.connect();
          try {
            await c.query('BEGIN');
            await c.query('INSERT INTO t_tx (k, v) VALUES ($1, $2)', [i, `v${i}`]);
            const { rows } = await c.query<{ v: string }>('SELECT v FROM t_tx WHERE k = $1', [i]);
            expect(rows[0]?.v).toBe(`v${i}`);
            await c.query(i % 3 === 0 ? 'ROLLBACK' : 'COMMIT');
          } finally {
            c.release();
          }
        }),
      );
      const { rows } = await pool.query<{ k: number }>('SELECT k FROM t_tx ORDER BY k');
      expect(rows.map((r) => r.k)).toEqual(
        Array.from({ length: 60 }, (_, i) => i).filter((i) => i % 3 !== 0),
      );
    } finally {
      await pool.end();
    }
  }, 60_000);

  it('a client gone mid-transaction leaves nothing open; the others go on', async () => {
    const pool = new pg.Pool({ connectionString: url, max: 4 });
    try {
      await pool.query('CREATE TABLE t_gone (n int)');
      // A client that dies inside a transaction: its work is rolled back, the others go on.
      const dying = new pg.Client({ connectionString: url });
      dying.on('error', () => {});
      await dying.connect();
      await dying.query('BEGIN');
      await dying.query('INSERT INTO t_gone (n) VALUES (-1)');
      (dying as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
      const others = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          pool.query<{ n: number }>('SELECT $1::int AS n', [i]).then((r) => r.rows[0]!.n),
        ),
      );
      expect(others).toEqual(Array.from({ length: 20 }, (_, i) => i));
      const after = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM t_gone');
      expect(after.rows[0]!.n).toBe(0);
    } finally {
      await pool.end();
    }
  }, 60_000);
});
