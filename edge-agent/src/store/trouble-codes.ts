/**
 * The vehicle's trouble codes as last read, per kind (stored, pending): what is new in a read is
 * what the diagnostics watch reports, once. Kept in SQLite so a restart (or a power cut) while a
 * code stays set does not report it again; a code that clears and comes back is new again.
 */
import type Database from 'better-sqlite3';

export type TroubleCodeKind = 'stored' | 'pending' | 'permanent';

export interface KnownCode {
  code: string;
  ecu: string;
}

export class TroubleCodeMemory {
  constructor(private readonly db: Database.Database) {}

  /** The codes of `kind` known now. */
  known(kind: TroubleCodeKind): KnownCode[] {
    return this.db
      .prepare('SELECT code, ecu FROM trouble_codes WHERE kind = ? ORDER BY first_seen, code')
      .all(kind) as KnownCode[];
  }

  /**
   * Replaces what is known of `kind` with a complete read of it; returns the codes that were not
   * known (in the order read). One transaction: a crash never leaves half a read.
   */
  replace(kind: TroubleCodeKind, read: readonly KnownCode[], now: number): KnownCode[] {
    return this.db
      .transaction(() => {
        const before = new Set(this.known(kind).map((c) => c.code));
        const seen = new Set<string>();
        const appeared: KnownCode[] = [];
        const insert = this.db.prepare(
          'INSERT OR IGNORE INTO trouble_codes (code, kind, ecu, first_seen) VALUES (?, ?, ?, ?)',
        );
        for (const c of read) {
          if (seen.has(c.code)) continue; // two ECUs reporting one code: one report
          seen.add(c.code);
          if (!before.has(c.code)) {
            insert.run(c.code, kind, c.ecu, now);
            appeared.push(c);
          }
        }
        const remove = this.db.prepare('DELETE FROM trouble_codes WHERE kind = ? AND code = ?');
        for (const code of before) if (!seen.has(code)) remove.run(kind, code);
        return appeared;
      })
      .immediate();
  }
}
