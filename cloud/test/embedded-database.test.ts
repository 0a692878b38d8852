/**
 * The embedded database (PGlite behind one TCP socket, cloud/src/embedded/database.ts) under
 * concurrent connections, as the one-command stack uses it while agents backfill: parameterised
 * queries (Parse, Bind, Execute, Sync) from several connections at once must each get their own
 * answer, and a transaction on one connection must not take in another's statements.
 */
import { createLogger } from '@fleet/shared/log';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedDatabase } from '../src/embedded/database.ts';

const log = createLogger('embedded-db-test').child({}, { level: 'error' });
let url: string;
let close: () => Promise<void>;

beforeAll(async () => {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const db = await startEmbeddedDatabase({ host: '127.0.0.1', port, log });
  url = db.url;
  close = db.close;
}, 60_000);

afterAll(async () => {
  await close?.();
});

describe('embedded PostgreSQL (PGlite) with concurrent connections', () => {
  it('answers every connection its own parameterised queries, with different parameter counts', async () => {
    const pool = new pg.Pool({ connectionString: url, max: 6 });
    try {
      // Statements of 1, 2 and 3 parameters interleaved, some with a parameter of 100s of KB (an
      // ingest group's arrays) that reaches the server in several reads: a Bind meant for another
      // connection's Parse is refused for its parameter count, or answers the other query.
      const big = 'x'.repeat(300_000);
      const runs = Array.from({ length: 120 }, (_, i) => {
        const k = i % 3;
        const sql = [
          'SELECT $1::int * 2 AS v',
          'SELECT length($2::text) + $1::int AS v',
          'SELECT $1::int + $2::int + $3::int AS v',
        ][k]!;
        const params = [[i], [i, big], [i, i, i]][k]!;
        const want = [2 * i, big.length + i, 3 * i][k]!;
        return pool.query<{ v: number }>(sql, params).then((r) => [r.rows[0]!.v, want]);
      });
      const answers = await Promise.all(runs);
      expect(answers.filter(([got, want]) => got !== want)).toEqual([]);
    } finally {
      await pool.end();
    }
  });

  it('keeps a transaction to its connection: rolled back, another connection’s insert stays', async () => {
    const pool = new pg.Pool({ connectionString: url, max: 4 });
    try {
      await pool.query('CREATE TABLE IF NOT EXISTS embedded_t (id int PRIMARY KEY, who text)');
      const tx = await pool.connect();
      await tx.query('BEGIN');
      await tx.query('INSERT INTO embedded_t VALUES ($1, $2)', [1, 'tx']);
      // Waits for the transaction to end (one session), then runs outside it.
      const other = pool.query('INSERT INTO embedded_t VALUES ($1, $2)', [2, 'other']);
      await new Promise((r) => setTimeout(r, 100));
      await tx.query('ROLLBACK');
      tx.release();
      await other;
      const { rows } = await pool.query<{ id: number; who: string }>(
        'SELECT id, who FROM embedded_t ORDER BY id',
      );
      expect(rows).toEqual([{ id: 2, who: 'other' }]);
    } finally {
      await pool.end();
    }
  });
});
