import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { TelemetrySample } from '@fleet/shared';
import Database from 'better-sqlite3';
import { AgentError, AgentErrorCode } from '../errors.ts';

/** Numbered migrations, applied in order and recorded in `PRAGMA user_version`. */
const MIGRATIONS: readonly string[] = [
  // 1: raw samples and the sync cursor. AUTOINCREMENT: a seq is never reused, even after the
  // newest rows are deleted, because (vehicle, seq) is the cloud's idempotency key.
  `CREATE TABLE samples (
     seq            INTEGER PRIMARY KEY AUTOINCREMENT,
     ts             INTEGER NOT NULL,
     lat            REAL,
     lon            REAL,
     speed_kmh      REAL,
     rpm            REAL,
     fuel_level_pct REAL,
     coolant_c      REAL
   );
   CREATE TABLE sync_cursor (
     lane      TEXT PRIMARY KEY,
     acked_seq INTEGER NOT NULL
   );
   INSERT INTO sync_cursor (lane, acked_seq) VALUES ('telemetry', 0);`,
];

interface SampleRow {
  seq: number;
  ts: number;
  lat: number | null;
  lon: number | null;
  speed_kmh: number | null;
  rpm: number | null;
  fuel_level_pct: number | null;
  coolant_c: number | null;
}

export type NewSample = Omit<TelemetrySample, 'seq'>;

/**
 * The agent's durable store (SQLite, WAL). A sample is in here before anything else sees it;
 * the sync cursor moves only after the broker acknowledged a batch, so a crash at any instant
 * resends at most one batch, which the cloud ignores by (vehicle, seq).
 */
export class SampleStore {
  private readonly db: Database.Database;
  private readonly insertStmt: Database.Statement;
  private readonly pendingStmt: Database.Statement<[number, number], SampleRow>;
  private readonly ackStmt: Database.Statement;
  private readonly cursorStmt: Database.Statement<[], { acked_seq: number }>;

  constructor(file: string) {
    try {
      if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
      this.db = new Database(file);
    } catch (err) {
      throw new AgentError(
        AgentErrorCode.StoreFailed,
        `cannot open database ${file}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    this.db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode: a power cut may lose the last transactions but never corrupts the file.
    this.db.pragma('synchronous = NORMAL');
    this.migrate();
    this.insertStmt = this.db.prepare(
      `INSERT INTO samples (ts, lat, lon, speed_kmh, rpm, fuel_level_pct, coolant_c)
       VALUES (@ts, @lat, @lon, @speedKmh, @rpm, @fuelLevelPct, @coolantC)`,
    );
    this.pendingStmt = this.db.prepare(
      'SELECT * FROM samples WHERE seq > ? ORDER BY seq LIMIT ?',
    ) as Database.Statement<[number, number], SampleRow>;
    this.ackStmt = this.db.prepare(
      "UPDATE sync_cursor SET acked_seq = max(acked_seq, ?) WHERE lane = 'telemetry'",
    );
    this.cursorStmt = this.db.prepare(
      "SELECT acked_seq FROM sync_cursor WHERE lane = 'telemetry'",
    ) as Database.Statement<[], { acked_seq: number }>;
  }

  private migrate() {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    for (let i = version; i < MIGRATIONS.length; i++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[i]!);
        this.db.pragma(`user_version = ${i + 1}`);
      })();
    }
  }

  append(sample: NewSample): number {
    return Number(this.insertStmt.run(sample).lastInsertRowid);
  }

  /** The oldest samples the broker has not acknowledged yet, at most `limit`. */
  pending(limit: number): TelemetrySample[] {
    return this.pendingStmt.all(this.ackedSeq(), limit).map((r) => ({
      seq: r.seq,
      ts: r.ts,
      lat: r.lat,
      lon: r.lon,
      speedKmh: r.speed_kmh,
      rpm: r.rpm,
      fuelLevelPct: r.fuel_level_pct,
      coolantC: r.coolant_c,
    }));
  }

  acknowledge(upToSeq: number): void {
    this.ackStmt.run(upToSeq);
  }

  ackedSeq(): number {
    return this.cursorStmt.get()?.acked_seq ?? 0;
  }

  stats() {
    const row = this.db.prepare('SELECT count(*) AS total, max(seq) AS last FROM samples').get() as {
      total: number;
      last: number | null;
    };
    const acked = this.ackedSeq();
    return { samples: row.total, lastSeq: row.last ?? 0, ackedSeq: acked, unsent: (row.last ?? 0) - acked };
  }

  close(): void {
    this.db.close();
  }
}
