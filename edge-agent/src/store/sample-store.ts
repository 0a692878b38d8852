import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { TelemetrySample } from '@fleet/shared';
import Database from 'better-sqlite3';
import { AgentError, AgentErrorCode } from '../errors.ts';
import { MIGRATIONS } from './migrations.ts';

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

export type EvictionKind = 'rawSynced' | 'rawUnsynced' | 'rollups' | 'events';
export type EvictionCounters = Record<EvictionKind, number>;

/** 4 GiB: a quarter of a 16 GB SD card, leaving room for the OS, logs, the WAL and wear levelling. */
export const DEFAULT_DISK_BUDGET_BYTES = 4 * 1024 ** 3;

export interface SampleStoreOptions {
  /** [1 MiB...1 TiB] bytes of database pages (page_count * page_size), default 4 GiB. */
  diskBudgetBytes?: number;
  /** [1...1e9] unsent samples kept at most (telegraf's metric_buffer_limit), default 50,000,000. */
  metricBufferLimit?: number;
  /** [1...100000] appends between two budget checks, default 256. */
  budgetCheckEvery?: number;
  /** Clock for last-ack/link timestamps (tests). */
  now?: () => number;
}

export interface NewEvent {
  type: string;
  startTs: number;
  endTs?: number | null;
  payload?: unknown;
}

export interface StoredEvent {
  id: number;
  type: string;
  startTs: number;
  endTs: number | null;
  payload: unknown;
}

export interface MinuteRollup {
  minuteTs: number;
  count: number;
  speedKmh: FieldRollup;
  rpm: FieldRollup;
  fuelLevelPct: FieldRollup;
  coolantC: FieldRollup;
}
export interface FieldRollup {
  min: number | null;
  max: number | null;
  avg: number | null;
  n: number;
}

const ROLLUP_FIELDS = ['speed_kmh', 'rpm', 'fuel_level_pct', 'coolant_c'] as const;
const LANE = 'telemetry';

/**
 * The agent's durable store (SQLite, WAL). A sample is in here before anything else sees it;
 * the sync cursor moves only after the broker acknowledged a batch, so a crash at any instant
 * resends at most the batches in flight, which the cloud ignores by (vehicle, seq).
 *
 * Power cuts: WAL with synchronous=NORMAL fsyncs the WAL only at checkpoints, not per commit. A
 * power cut can therefore lose the last commits (the newest samples, or a cursor move, which only
 * means one batch is resent), but a commit is all-or-nothing and the file is never corrupt: the
 * WAL's frames carry checksums, and a torn tail is ignored at recovery. Since a sample and its
 * rollup are one transaction, and the cursor only ever covers seqs that were committed before it,
 * a recovered file always has cursor <= last seq (tested with SIGKILL in test/store-power-cut).
 *
 * Disk budget: auto_vacuum=INCREMENTAL, so pages freed by eviction go back to the file system
 * (`PRAGMA incremental_vacuum`); the size checked is page_count * page_size. The WAL sits on top
 * (about 4 MiB at the default autocheckpoint of 1000 pages).
 */
export class SampleStore {
  private readonly db: Database.Database;
  private readonly insertStmt: Database.Statement;
  private readonly rollupStmt: Database.Statement;
  private readonly ackStmt: Database.Statement;
  private readonly cursorStmt: Database.Statement<[], { acked_seq: number }>;
  private readonly options: Required<Omit<SampleStoreOptions, 'now'>> & { now: () => number };
  private appendsSinceCheck = 0;

  constructor(file: string, options: SampleStoreOptions = {}) {
    this.options = {
      diskBudgetBytes: options.diskBudgetBytes ?? DEFAULT_DISK_BUDGET_BYTES,
      metricBufferLimit: options.metricBufferLimit ?? 50_000_000,
      budgetCheckEvery: options.budgetCheckEvery ?? 256,
      now: options.now ?? Date.now,
    };
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
    // Freed pages must really leave the file (disk budget): INCREMENTAL must be set before the
    // first table exists; a v1 file gets it with a one-time VACUUM.
    const fresh = (this.db.pragma('page_count', { simple: true }) as number) === 0;
    if ((this.db.pragma('auto_vacuum', { simple: true }) as number) !== 2) {
      this.db.pragma('auto_vacuum = INCREMENTAL');
      if (!fresh) this.db.exec('VACUUM');
    }
    this.db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode: a power cut may lose the last transactions but never corrupts the file.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000'); // the CLI reads while the daemon writes
    this.migrate();
    this.insertStmt = this.db.prepare(
      `INSERT INTO samples (ts, lat, lon, speed_kmh, rpm, fuel_level_pct, coolant_c)
       VALUES (@ts, @lat, @lon, @speedKmh, @rpm, @fuelLevelPct, @coolantC)`,
    );
    const cols = ROLLUP_FIELDS.map((f) => `${f}_min, ${f}_max, ${f}_sum, ${f}_n`).join(', ');
    const vals = ROLLUP_FIELDS.map((f) => `@${f}, @${f}, coalesce(@${f}, 0), @${f} IS NOT NULL`).join(', ');
    const sets = ROLLUP_FIELDS.map(
      (f) =>
        `${f}_min = min(coalesce(${f}_min, excluded.${f}_min), coalesce(excluded.${f}_min, ${f}_min)),
         ${f}_max = max(coalesce(${f}_max, excluded.${f}_max), coalesce(excluded.${f}_max, ${f}_max)),
         ${f}_sum = ${f}_sum + excluded.${f}_sum, ${f}_n = ${f}_n + excluded.${f}_n`,
    ).join(',\n');
    this.rollupStmt = this.db.prepare(
      `INSERT INTO rollups_minute (minute_ts, count, ${cols}) VALUES (@minute, 1, ${vals})
       ON CONFLICT (minute_ts) DO UPDATE SET count = count + 1, ${sets}`,
    );
    this.ackStmt = this.db.prepare(
      `UPDATE sync_cursor SET acked_seq = max(acked_seq, ?) WHERE lane = '${LANE}'`,
    );
    this.cursorStmt = this.db.prepare(
      `SELECT acked_seq FROM sync_cursor WHERE lane = '${LANE}'`,
    ) as Database.Statement<[], { acked_seq: number }>;
  }

  private migrate() {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    for (let i = version; i < MIGRATIONS.length; i++) {
      // IMMEDIATE: two processes opening an old file cannot both apply the same migration.
      this.db
        .transaction(() => {
          if ((this.db.pragma('user_version', { simple: true }) as number) !== i) return;
          this.db.exec(MIGRATIONS[i]!);
          this.db.pragma(`user_version = ${i + 1}`);
        })
        .immediate();
    }
  }

  /** Stores one sample and its minute rollup in one transaction; returns its seq. */
  append(sample: NewSample): number {
    const seq = this.db.transaction(() => {
      const id = Number(this.insertStmt.run(sample).lastInsertRowid);
      this.rollupStmt.run({
        minute: sample.ts - (sample.ts % 60_000),
        speed_kmh: sample.speedKmh,
        rpm: sample.rpm,
        fuel_level_pct: sample.fuelLevelPct,
        coolant_c: sample.coolantC,
      });
      return id;
    })();
    if (++this.appendsSinceCheck >= this.options.budgetCheckEvery) this.enforceBudget();
    return seq;
  }

  /** The oldest samples the broker has not acknowledged yet, at most `limit`. */
  pending(limit: number): TelemetrySample[] {
    return this.unsent({ limit });
  }

  /**
   * Unsent samples (above the cursor, outside acked ranges) with after < seq <= upTo, oldest
   * first; `newest` picks the newest `limit` of them (still returned oldest first).
   */
  unsent(q: { limit: number; after?: number; upTo?: number; newest?: boolean }): TelemetrySample[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM samples s
         WHERE seq > max(@after, (SELECT acked_seq FROM sync_cursor WHERE lane = '${LANE}')) AND seq <= @upTo
           AND NOT EXISTS (SELECT 1 FROM sync_acked_ranges r
                           WHERE r.lane = '${LANE}' AND s.seq BETWEEN r.first_seq AND r.last_seq)
         ORDER BY seq ${q.newest ? 'DESC' : 'ASC'} LIMIT @limit`,
      )
      .all({ after: q.after ?? 0, upTo: q.upTo ?? Number.MAX_SAFE_INTEGER, limit: q.limit }) as SampleRow[];
    if (q.newest) rows.reverse();
    return rows.map(toSample);
  }

  /** Everything up to `upToSeq` is acknowledged (single in-flight batch, the v1 contract). */
  acknowledge(upToSeq: number): void {
    this.db.transaction(() => {
      this.ackStmt.run(upToSeq);
      this.db
        .prepare(`UPDATE sync_cursor SET last_ack_at = ? WHERE lane = '${LANE}'`)
        .run(this.options.now());
      this.db
        .prepare(`DELETE FROM sync_acked_ranges WHERE lane = '${LANE}' AND last_seq <= ?`)
        .run(this.ackedSeq());
    })();
  }

  /**
   * One batch [first...last] was acknowledged. The cursor moves only over a contiguous prefix:
   * up to just below the oldest sample that is still unsent (seqs that no longer exist, evicted
   * ones, need no acknowledgement).
   */
  acknowledgeRange(firstSeq: number, lastSeq: number): void {
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO sync_acked_ranges (lane, first_seq, last_seq) VALUES ('${LANE}', ?, ?)
           ON CONFLICT (lane, first_seq) DO UPDATE SET last_seq = max(last_seq, excluded.last_seq)`,
        )
        .run(firstSeq, lastSeq);
      this.db
        .prepare(`UPDATE sync_cursor SET last_ack_at = ? WHERE lane = '${LANE}'`)
        .run(this.options.now());
      this.normalizeCursor();
    })();
  }

  private normalizeCursor() {
    const acked = this.ackedSeq();
    const oldestUnsent = this.unsent({ limit: 1 })[0]?.seq;
    const maxRange = (
      this.db.prepare(`SELECT max(last_seq) AS m FROM sync_acked_ranges WHERE lane = '${LANE}'`).get() as {
        m: number | null;
      }
    ).m;
    const next = oldestUnsent !== undefined ? oldestUnsent - 1 : Math.max(acked, maxRange ?? 0);
    if (next > acked) {
      this.ackStmt.run(next);
      this.db.prepare(`DELETE FROM sync_acked_ranges WHERE lane = '${LANE}' AND last_seq <= ?`).run(next);
    }
  }

  ackedSeq(): number {
    return this.cursorStmt.get()?.acked_seq ?? 0;
  }

  /** Next per-vehicle batch number, durable before the batch leaves (never reused after a crash). */
  nextBatchSeq(): number {
    return (
      this.db
        .prepare(
          `UPDATE sync_cursor SET batch_seq = batch_seq + 1 WHERE lane = '${LANE}' RETURNING batch_seq`,
        )
        .get() as { batch_seq: number }
    ).batch_seq;
  }

  /** The daemon's link to the broker, for `fleet-agent sync status` in another process. */
  setLinkState(connected: boolean, broker?: string): void {
    this.db
      .prepare(
        `INSERT INTO link_state (id, connected, since, broker) VALUES (1, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET connected = excluded.connected, since = excluded.since,
           broker = coalesce(excluded.broker, broker)`,
      )
      .run(connected ? 1 : 0, this.options.now(), broker ?? null);
  }

  linkState(): { connected: boolean; since: number; broker: string | null } | null {
    const row = this.db.prepare('SELECT connected, since, broker FROM link_state WHERE id = 1').get() as
      | { connected: number; since: number; broker: string | null }
      | undefined;
    return row ? { ...row, connected: row.connected === 1 } : null;
  }

  recordEvent(event: NewEvent): number {
    return Number(
      this.db
        .prepare('INSERT INTO events (type, start_ts, end_ts, payload) VALUES (?, ?, ?, ?)')
        .run(event.type, event.startTs, event.endTs ?? null, JSON.stringify(event.payload ?? {}))
        .lastInsertRowid,
    );
  }

  events(limit = 1000): StoredEvent[] {
    return (
      this.db.prepare('SELECT * FROM events ORDER BY start_ts, id LIMIT ?').all(limit) as {
        id: number;
        type: string;
        start_ts: number;
        end_ts: number | null;
        payload: string;
      }[]
    ).map((r) => ({
      id: r.id,
      type: r.type,
      startTs: r.start_ts,
      endTs: r.end_ts,
      payload: JSON.parse(r.payload),
    }));
  }

  rollups(fromTs = 0, toTs = Number.MAX_SAFE_INTEGER): MinuteRollup[] {
    const rows = this.db
      .prepare('SELECT * FROM rollups_minute WHERE minute_ts >= ? AND minute_ts <= ? ORDER BY minute_ts')
      .all(fromTs, toTs) as Record<string, number | null>[];
    const field = (r: Record<string, number | null>, f: string): FieldRollup => {
      const n = r[`${f}_n`] as number;
      return {
        min: r[`${f}_min`] ?? null,
        max: r[`${f}_max`] ?? null,
        avg: n ? (r[`${f}_sum`] as number) / n : null,
        n,
      };
    };
    return rows.map((r) => ({
      minuteTs: r.minute_ts as number,
      count: r.count as number,
      speedKmh: field(r, 'speed_kmh'),
      rpm: field(r, 'rpm'),
      fuelLevelPct: field(r, 'fuel_level_pct'),
      coolantC: field(r, 'coolant_c'),
    }));
  }

  evictions(): EvictionCounters {
    const out: EvictionCounters = { rawSynced: 0, rawUnsynced: 0, rollups: 0, events: 0 };
    for (const r of this.db.prepare('SELECT kind, rows FROM evictions').all() as {
      kind: EvictionKind;
      rows: number;
    }[]) {
      out[r.kind] = r.rows;
    }
    return out;
  }

  /** Database pages in use and free: the budget counts page_count * page_size. */
  size(): { fileBytes: number; freeBytes: number; pageSize: number } {
    const pageSize = this.db.pragma('page_size', { simple: true }) as number;
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    return { fileBytes: pages * pageSize, freeBytes: free * pageSize, pageSize };
  }

  /**
   * Keeps the file inside the disk budget and the unsent samples inside metricBufferLimit.
   * Over budget, rows go in chunks down to 90% of it (so a full store does not evict on every
   * append), in this order: oldest synced raw samples, oldest unsynced raw samples, oldest
   * rollups, oldest events. Every removed row is counted by kind. Never throws: the agent keeps
   * recording when the budget is full.
   */
  enforceBudget(): EvictionCounters {
    this.appendsSinceCheck = 0;
    const evicted: EvictionCounters = { rawSynced: 0, rawUnsynced: 0, rollups: 0, events: 0 };
    const overflow = this.countUnsent() - this.options.metricBufferLimit;
    if (overflow > 0) evicted.rawUnsynced += this.evictChunk('rawUnsynced', overflow);

    const budget = this.options.diskBudgetBytes;
    let { fileBytes } = this.size();
    if (fileBytes <= budget) return evicted;
    const target = budget * 0.9;
    const order: EvictionKind[] = ['rawSynced', 'rawUnsynced', 'rollups', 'events'];
    for (const kind of order) {
      while (fileBytes > target) {
        // Rows to free the excess at ~40 bytes a row, at least 64, at most 5000 per transaction.
        const rows = Math.min(5000, Math.max(64, Math.ceil((fileBytes - target) / 40)));
        const n = this.evictChunk(kind, rows);
        if (n === 0) break;
        evicted[kind] += n;
        this.db.pragma('incremental_vacuum');
        fileBytes = this.size().fileBytes;
      }
    }
    return evicted;
  }

  private countUnsent(): number {
    return (
      this.db
        .prepare(
          `SELECT count(*) AS n FROM samples s WHERE seq > (SELECT acked_seq FROM sync_cursor WHERE lane = '${LANE}')
             AND NOT EXISTS (SELECT 1 FROM sync_acked_ranges r WHERE r.lane = '${LANE}' AND s.seq BETWEEN r.first_seq AND r.last_seq)`,
        )
        .get() as { n: number }
    ).n;
  }

  private evictChunk(kind: EvictionKind, rows: number): number {
    const synced = `(seq <= (SELECT acked_seq FROM sync_cursor WHERE lane = '${LANE}') OR EXISTS
      (SELECT 1 FROM sync_acked_ranges r WHERE r.lane = '${LANE}' AND s.seq BETWEEN r.first_seq AND r.last_seq))`;
    const sql: Record<EvictionKind, string> = {
      rawSynced: `DELETE FROM samples WHERE seq IN (SELECT seq FROM samples s WHERE ${synced} ORDER BY seq LIMIT ?)`,
      rawUnsynced: `DELETE FROM samples WHERE seq IN (SELECT seq FROM samples s WHERE NOT ${synced} ORDER BY seq LIMIT ?)`,
      rollups:
        'DELETE FROM rollups_minute WHERE minute_ts IN (SELECT minute_ts FROM rollups_minute ORDER BY minute_ts LIMIT ?)',
      events: 'DELETE FROM events WHERE id IN (SELECT id FROM events ORDER BY start_ts, id LIMIT ?)',
    };
    return this.db.transaction(() => {
      const n = this.db.prepare(sql[kind]).run(rows).changes;
      if (n > 0) {
        this.db.prepare('UPDATE evictions SET rows = rows + ? WHERE kind = ?').run(n, kind);
        // Unsent rows that are gone need no acknowledgement: the cursor may pass them.
        if (kind === 'rawUnsynced') this.normalizeCursor();
      }
      return n;
    })();
  }

  stats() {
    const row = this.db.prepare('SELECT count(*) AS total, max(seq) AS last FROM samples').get() as {
      total: number;
      last: number | null;
    };
    const acked = this.ackedSeq();
    const oldest = this.unsent({ limit: 1 })[0];
    const cursor = this.db
      .prepare(`SELECT batch_seq, last_ack_at FROM sync_cursor WHERE lane = '${LANE}'`)
      .get() as { batch_seq: number; last_ack_at: number | null };
    const size = this.size();
    return {
      samples: row.total,
      lastSeq: row.last ?? 0,
      ackedSeq: acked,
      unsent: this.countUnsent(),
      oldestUnsentTs: oldest?.ts ?? null,
      lastBatchSeq: cursor.batch_seq,
      lastAckAt: cursor.last_ack_at,
      rollups: (this.db.prepare('SELECT count(*) AS n FROM rollups_minute').get() as { n: number }).n,
      events: (this.db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n,
      fileBytes: size.fileBytes,
      freeBytes: size.freeBytes,
      diskBudgetBytes: this.options.diskBudgetBytes,
      evictions: this.evictions(),
    };
  }

  /** `PRAGMA integrity_check` result ('ok' when sound). */
  integrityCheck(): string {
    return (this.db.pragma('integrity_check') as { integrity_check: string }[])
      .map((r) => r.integrity_check)
      .join('; ');
  }

  /**
   * A consistent copy of the whole database into `file` (which must not exist), taken while the
   * agent keeps running (VACUUM INTO reads one snapshot, WAL included): a backup.
   */
  snapshotTo(file: string): void {
    this.db.prepare('VACUUM INTO ?').run(file);
  }

  close(): void {
    this.db.close();
  }
}

function toSample(r: SampleRow): TelemetrySample {
  return {
    seq: r.seq,
    ts: r.ts,
    lat: r.lat,
    lon: r.lon,
    speedKmh: r.speed_kmh,
    rpm: r.rpm,
    fuelLevelPct: r.fuel_level_pct,
    coolantC: r.coolant_c,
  };
}
