/**
 * The agent's durable store: ONE SQLite connection (WAL) that owns the schema (migrations.ts) and
 * hands out one outbox per lane. Every table has one owner:
 *
 *   AgentDb ──┬─ samples: SampleOutbox   samples, rollups_minute, sync_cursor/acked ranges 'telemetry'
 *             ├─ events:  EventOutbox    events, sync_cursor 'events'
 *             ├─ troubleCodes            trouble_codes (the vehicle's codes as last read)
 *             ├─ seenCommands            seen_commands, command_refusals (remote commands, once only)
 *             └─ itself                  link_state (the broker link), evictions (the disk budget)
 *
 * A sample is in here before anything else sees it; a lane's cursor moves only after the cloud
 * acknowledged a batch, so a crash at any instant resends at most the batches in flight, which
 * the cloud ignores by (vehicle, seq) and (vehicle, event id).
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
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { SeenCommands } from '../commands/seen-commands.ts';
import { AgentError, AgentErrorCode } from '../errors.ts';
import { EventOutbox } from './event-outbox.ts';
import type { EvictionCounters, EvictionKind } from './evictions.ts';
import { MIGRATIONS } from './migrations.ts';
import { SampleOutbox } from './sample-outbox.ts';
import { TroubleCodeMemory } from './trouble-codes.ts';

export type { EvictionCounters, EvictionKind };

/** 4 GiB: a quarter of a 16 GB SD card, leaving room for the OS, logs, the WAL and wear levelling. */
export const DEFAULT_DISK_BUDGET_BYTES = 4 * 1024 ** 3;

export interface AgentDbOptions {
  /** [1 MiB...1 TiB] bytes of database pages (page_count * page_size), default 4 GiB. */
  diskBudgetBytes?: number;
  /** [1...1e9] unsent samples kept at most (telegraf's metric_buffer_limit), default 50,000,000. */
  metricBufferLimit?: number;
  /** [1...100000] appends between two budget checks, default 256. */
  budgetCheckEvery?: number;
  /** Clock for last-ack/link timestamps (tests). */
  now?: () => number;
}

export class AgentDb {
  readonly samples: SampleOutbox;
  readonly events: EventOutbox;
  /** The vehicle's trouble codes as last read (diagnostics/diagnostics-watch.ts). */
  readonly troubleCodes: TroubleCodeMemory;
  /** Remote commands already accepted (once-only across restarts) and refusal counts. */
  readonly seenCommands: SeenCommands;
  private readonly db: Database.Database;
  private readonly options: Required<AgentDbOptions>;
  private appendsSinceCheck = 0;

  constructor(file: string, options: AgentDbOptions = {}) {
    this.options = {
      diskBudgetBytes: options.diskBudgetBytes ?? DEFAULT_DISK_BUDGET_BYTES,
      metricBufferLimit: options.metricBufferLimit ?? 50_000_000,
      budgetCheckEvery: options.budgetCheckEvery ?? 256,
      now: options.now ?? Date.now,
    };
    try {
      if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
      this.db = new Database(file);
    } catch (cause) {
      throw new AgentError(
        AgentErrorCode.StoreFailed,
        `cannot open database ${file}: ${(cause as Error).message}`,
        {
          cause,
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
    this.samples = new SampleOutbox(this.db, {
      now: this.options.now,
      appended: () => {
        if (++this.appendsSinceCheck >= this.options.budgetCheckEvery) this.enforceBudget();
      },
      evictions: () => this.evictions(),
    });
    this.events = new EventOutbox(this.db);
    this.troubleCodes = new TroubleCodeMemory(this.db);
    this.seenCommands = new SeenCommands(this.db);
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

  /**
   * Runs `fn` in one transaction (the outboxes' own transactions nest inside it as savepoints):
   * a bulk writer, such as a recorded week played into the store, pays one commit instead of one
   * per sample. Rolled back as a whole when `fn` throws.
   */
  batch<T>(fn: () => T): T {
    return this.db.transaction(fn)();
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
    const overflow = this.samples.countUnsent() - this.options.metricBufferLimit;
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

  /** One chunk of one kind, deleted by the table's owner and counted, in one transaction. */
  private evictChunk(kind: EvictionKind, rows: number): number {
    return this.db.transaction(() => {
      const n = kind === 'events' ? this.events.evictOldest(rows) : this.samples.evict(kind, rows);
      if (n > 0) this.db.prepare('UPDATE evictions SET rows = rows + ? WHERE kind = ?').run(n, kind);
      return n;
    })();
  }

  /** The telemetry lane's figures, the events count and the file's size against the budget. */
  stats() {
    const size = this.size();
    return {
      ...this.samples.stats(),
      events: this.events.count(),
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
