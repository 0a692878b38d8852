/**
 * The agent's memory of the remote commands it has accepted (migration 7): the once-only rule.
 * A command id (or its nonce) is claimed in SQLite BEFORE its handler runs, in one statement, so
 * a redelivery while it runs, after a reconnect, or after a restart (even a power cut right after
 * the claim) finds it taken and is refused as `replayed`: a command runs at most once. Rows are
 * kept until well past their expiry (a command is refused as expired after that anyway) and then
 * pruned, so the table stays as small as the commands of the last hours.
 */
import { COMMAND_REFUSALS, type CommandRefusal } from '@fleet/shared';
import type Database from 'better-sqlite3';

/** Kept this long after expiry: a vehicle clock that jumps back still finds a recent id. */
export const SEEN_GRACE_MS = 24 * 3600 * 1000;

export class SeenCommands {
  constructor(private readonly db: Database.Database) {}

  /** true: first sight, now claimed; false: this id or nonce was accepted before (a replay). */
  claim(c: { id: string; nonce: string; name: string; expiresAt: number }, now: number): boolean {
    const r = this.db
      .prepare(
        `INSERT OR IGNORE INTO seen_commands (id, nonce, name, expires_at, seen_at)
         SELECT ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM seen_commands WHERE nonce = ?)`,
      )
      .run(c.id, c.nonce, c.name, c.expiresAt, now, c.nonce);
    return r.changes === 1;
  }

  has(id: string): boolean {
    return this.db.prepare('SELECT 1 FROM seen_commands WHERE id = ?').get(id) !== undefined;
  }

  /** Forgets the ids that expired more than SEEN_GRACE_MS ago; returns how many. */
  prune(now: number): number {
    return this.db.prepare('DELETE FROM seen_commands WHERE expires_at < ?').run(now - SEEN_GRACE_MS).changes;
  }

  get size(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM seen_commands').get() as { n: number }).n;
  }

  countRefusal(refusal: CommandRefusal): void {
    this.db
      .prepare(
        'INSERT INTO command_refusals (refusal, n) VALUES (?, 1) ON CONFLICT (refusal) DO UPDATE SET n = n + 1',
      )
      .run(refusal);
  }

  /** Refusals since the store was created, by reason (every reason present, 0 when none). */
  refusals(): Record<CommandRefusal, number> {
    const out = Object.fromEntries(COMMAND_REFUSALS.map((r) => [r, 0])) as Record<CommandRefusal, number>;
    const rows = this.db.prepare('SELECT refusal, n FROM command_refusals').all() as {
      refusal: CommandRefusal;
      n: number;
    }[];
    for (const r of rows) if (r.refusal in out) out[r.refusal] = r.n;
    return out;
  }
}
