/**
 * The embedded database (PGlite behind a socket) under the cloud's real use: a pool of several
 * connections sending extended-protocol queries (Parse/Bind/Execute/Sync) at once, transactions,
 * and COPY. PGlite has one session, so the server must run each connection's pipeline up to the
 * backend's ReadyForQuery as one unit: interleaved messages from another connection replace the
 * unnamed statement ("unnamed prepared statement does not exist") or answer a query with another
 * query's rows — which the stack's API took for an unknown session and sent people to sign in.
 */
import { createLogger } from '@fleet/shared/log';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedDatabase } from '../src/embedded/database.ts';

const log = createLogger('embedded-database-test').child({}, { level: 'error' });
let pool: pg.Pool;
let url: string;
let close: () => Promise<void>;

beforeAll(async () => {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const db = await startEmbeddedDatabase({ host: '127.0.0.1', port, log });
  url = db.url;
  pool = new pg.Pool({ connectionString: db.url, max: 8 });
  close = async () => {
    await pool.end();
    await db.close();
  };
  await pool.query('CREATE TABLE counters (id int PRIMARY KEY, n int NOT NULL)');
}, 60_000);

afterAll(async () => {
  await close?.();
});

describe('embedded database: several connections at once', () => {
  it('every parameterised query gets its own answer', async () => {
    const asked = Array.from({ length: 400 }, (_, i) => i);
    const answers = await Promise.all(
      asked.map(async (i) => {
        const { rows } = await pool.query<{ v: number; t: string }>(
          i % 2 ? 'SELECT $1::int AS v, $2::text AS t' : 'SELECT $2::text AS t, $1::int + 0 AS v',
          [i, `q${i}`],
        );
        return rows[0];
      }),
    );
    expect(answers).toEqual(asked.map((i) => ({ v: i, t: `q${i}` })));
  });

  it("a transaction on one connection sees nothing of another one's work until it commits", async () => {
    await pool.query('INSERT INTO counters VALUES (1, 0)');
    const increments = Array.from({ length: 20 }, async () => {
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        const { rows } = await c.query<{ n: number }>('SELECT n FROM counters WHERE id = $1', [1]);
        await c.query('UPDATE counters SET n = $1 WHERE id = $2', [rows[0]!.n + 1, 1]);
        await c.query('COMMIT');
      } finally {
        c.release();
      }
    });
    // Concurrent plain reads while the transactions run.
    const reads = Array.from({ length: 20 }, () => pool.query('SELECT n FROM counters WHERE id = $1', [1]));
    await Promise.all([...increments, ...reads]);
    // Read-modify-write in a transaction loses nothing only if the transactions never interleave.
    expect((await pool.query('SELECT n FROM counters WHERE id = 1')).rows[0].n).toBe(20);
  });

  it('a client that leaves inside a transaction: its work is rolled back, and the next one is not kept waiting', async () => {
    const leaver = new pg.Client({ connectionString: url });
    await leaver.connect();
    await leaver.query('BEGIN');
    await leaver.query('INSERT INTO counters VALUES ($1, $2)', [2, 99]);
    await leaver.end();
    const { rows } = await pool.query('SELECT count(*)::int AS n FROM counters WHERE id = $1', [2]);
    expect(rows[0].n).toBe(0);
  });

  it('a second client outside the pool is answered correctly while the pool is busy', async () => {
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    try {
      const busy = Array.from({ length: 200 }, (_, i) => pool.query('SELECT $1::int AS v', [i]));
      const mine = await Promise.all(
        Array.from(
          { length: 50 },
          async (_, i) => (await other.query('SELECT $1::text AS s', [`o${i}`])).rows[0].s,
        ),
      );
      await Promise.all(busy);
      expect(mine).toEqual(Array.from({ length: 50 }, (_, i) => `o${i}`));
    } finally {
      await other.end();
    }
  });
});
