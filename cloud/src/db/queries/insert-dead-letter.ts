import type pg from 'pg';

export async function insertDeadLetter(db: pg.Pool, topic: string, reason: string, payload: Buffer) {
  await db.query('INSERT INTO dead_letters (topic, reason, payload) VALUES ($1, $2, $3)', [
    topic,
    reason,
    payload,
  ]);
}
