import type pg from 'pg';

export interface DeadLetter {
  topic: string;
  reason: string;
  payload: Buffer;
}

export async function insertDeadLetter(db: pg.Pool, topic: string, reason: string, payload: Buffer) {
  await insertDeadLetters(db, [{ topic, reason, payload }]);
}

/** Several dead letters in one statement, in the given order (ids follow it). */
export async function insertDeadLetters(db: pg.Pool | pg.PoolClient, letters: readonly DeadLetter[]) {
  if (letters.length === 0) return;
  await db.query(
    `INSERT INTO dead_letters (topic, reason, payload)
     SELECT topic, reason, payload
       FROM unnest($1::text[], $2::text[], $3::bytea[]) WITH ORDINALITY AS d(topic, reason, payload, ord)
      ORDER BY ord`,
    [letters.map((l) => l.topic), letters.map((l) => l.reason), letters.map((l) => l.payload)],
  );
}
