/**
 * The telemetry lane's outbox: the `samples` table (one row per GPS epoch, seq AUTOINCREMENT),
 * its minute rollups, and the `telemetry` row of `sync_cursor` with its acked ranges. A sample is
 * unsent while it is above the lane's cursor and outside every acked range.
 *
 *   SampleRecorder --append--> samples (+ rollups_minute, one transaction)
 *   TelemetryLane  --unsent / nextBatchSeq--> batch --cloud ack--> acknowledgeRange --> cursor
 *
 * Only this class writes these tables; AgentDb asks it to evict under the disk budget.
 */
import type { TelemetrySample } from '@fleet/shared';
import type Database from 'better-sqlite3';
import type { EvictionCounters } from './evictions.ts';

interface SampleRow {
  seq: number;
  ts: number;
  lat: number | null;
  lon: number | null;
  speed_kmh: number | null;
  rpm: number | null;
  fuel_level_pct: number | null;
  coolant_c: number | null;
  odometer_km: number | null;
  gps_distance_m: number | null;
}

export type NewSample = Omit<TelemetrySample, 'seq'>;

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
const SYNCED = `(seq <= (SELECT acked_seq FROM sync_cursor WHERE lane = '${LANE}') OR EXISTS
  (SELECT 1 FROM sync_acked_ranges r WHERE r.lane = '${LANE}' AND s.seq BETWEEN r.first_seq AND r.last_seq))`;

export class SampleOutbox {
  private readonly insertStmt: Database.Statement;
  private readonly rollupStmt: Database.Statement;
  private readonly ackStmt: Database.Statement;
  private readonly cursorStmt: Database.Statement<[], { acked_seq: number }>;

  constructor(
    private readonly db: Database.Database,
    private readonly hooks: {
      /** Clock for the last-ack time. */
      now: () => number;
      /** After every append (the disk budget counts appends). */
      appended: () => void;
      /** Rows evicted so far, reported in every batch. */
      evictions: () => EvictionCounters;
    },
  ) {
    this.insertStmt = db.prepare(
      `INSERT INTO samples (ts, lat, lon, speed_kmh, rpm, fuel_level_pct, coolant_c, odometer_km, gps_distance_m)
       VALUES (@ts, @lat, @lon, @speedKmh, @rpm, @fuelLevelPct, @coolantC, @odometerKm, @gpsDistanceM)`,
    );
    const cols = ROLLUP_FIELDS.map((f) => `${f}_min, ${f}_max, ${f}_sum, ${f}_n`).join(', ');
    const vals = ROLLUP_FIELDS.map((f) => `@${f}, @${f}, coalesce(@${f}, 0), @${f} IS NOT NULL`).join(', ');
    const sets = ROLLUP_FIELDS.map(
      (f) =>
        `${f}_min = min(coalesce(${f}_min, excluded.${f}_min), coalesce(excluded.${f}_min, ${f}_min)),
         ${f}_max = max(coalesce(${f}_max, excluded.${f}_max), coalesce(excluded.${f}_max, ${f}_max)),
         ${f}_sum = ${f}_sum + excluded.${f}_sum, ${f}_n = ${f}_n + excluded.${f}_n`,
    ).join(',\n');
    this.rollupStmt = db.prepare(
      `INSERT INTO rollups_minute (minute_ts, count, ${cols}) VALUES (@minute, 1, ${vals})
       ON CONFLICT (minute_ts) DO UPDATE SET count = count + 1, ${sets}`,
    );
    this.ackStmt = db.prepare(`UPDATE sync_cursor SET acked_seq = max(acked_seq, ?) WHERE lane = '${LANE}'`);
    this.cursorStmt = db.prepare(
      `SELECT acked_seq FROM sync_cursor WHERE lane = '${LANE}'`,
    ) as Database.Statement<[], { acked_seq: number }>;
  }

  /** Stores one sample and its minute rollup in one transaction; returns its seq. */
  append(sample: NewSample): number {
    const seq = this.db.transaction(() => {
      const id = Number(
        this.insertStmt.run({ odometerKm: null, gpsDistanceM: null, ...sample }).lastInsertRowid,
      );
      this.rollupStmt.run({
        minute: sample.ts - (sample.ts % 60_000),
        speed_kmh: sample.speedKmh,
        rpm: sample.rpm,
        fuel_level_pct: sample.fuelLevelPct,
        coolant_c: sample.coolantC,
      });
      return id;
    })();
    this.hooks.appended();
    return seq;
  }

  /** The GPS odometer of the newest sample that has one (where a restarted agent goes on from). */
  lastGpsDistanceM(): number {
    const row = this.db
      .prepare(
        'SELECT gps_distance_m AS m FROM samples WHERE gps_distance_m IS NOT NULL ORDER BY seq DESC LIMIT 1',
      )
      .get() as { m: number } | undefined;
    return row?.m ?? 0;
  }

  /** The oldest samples the cloud has not acknowledged yet, at most `limit`. */
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
      this.db.prepare(`UPDATE sync_cursor SET last_ack_at = ? WHERE lane = '${LANE}'`).run(this.hooks.now());
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
      this.db.prepare(`UPDATE sync_cursor SET last_ack_at = ? WHERE lane = '${LANE}'`).run(this.hooks.now());
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

  /** Rows the disk budget removed so far, by kind (every batch reports them to the cloud). */
  evictions(): EvictionCounters {
    return this.hooks.evictions();
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

  countUnsent(): number {
    return (
      this.db
        .prepare(
          `SELECT count(*) AS n FROM samples s WHERE seq > (SELECT acked_seq FROM sync_cursor WHERE lane = '${LANE}')
             AND NOT EXISTS (SELECT 1 FROM sync_acked_ranges r WHERE r.lane = '${LANE}' AND s.seq BETWEEN r.first_seq AND r.last_seq)`,
        )
        .get() as { n: number }
    ).n;
  }

  /**
   * Deletes the oldest `rows` synced or unsynced samples, or the oldest minute rollups (the disk
   * budget's order is AgentDb's); returns how many went. The caller holds the transaction.
   */
  evict(kind: 'rawSynced' | 'rawUnsynced' | 'rollups', rows: number): number {
    const sql = {
      rawSynced: `DELETE FROM samples WHERE seq IN (SELECT seq FROM samples s WHERE ${SYNCED} ORDER BY seq LIMIT ?)`,
      rawUnsynced: `DELETE FROM samples WHERE seq IN (SELECT seq FROM samples s WHERE NOT ${SYNCED} ORDER BY seq LIMIT ?)`,
      rollups:
        'DELETE FROM rollups_minute WHERE minute_ts IN (SELECT minute_ts FROM rollups_minute ORDER BY minute_ts LIMIT ?)',
    }[kind];
    const n = this.db.prepare(sql).run(rows).changes;
    // Unsent rows that are gone need no acknowledgement: the cursor may pass them.
    if (n > 0 && kind === 'rawUnsynced') this.normalizeCursor();
    return n;
  }

  stats() {
    const row = this.db.prepare('SELECT count(*) AS total, max(seq) AS last FROM samples').get() as {
      total: number;
      last: number | null;
    };
    const oldest = this.unsent({ limit: 1 })[0];
    const cursor = this.db
      .prepare(`SELECT batch_seq, last_ack_at FROM sync_cursor WHERE lane = '${LANE}'`)
      .get() as { batch_seq: number; last_ack_at: number | null };
    return {
      samples: row.total,
      lastSeq: row.last ?? 0,
      ackedSeq: this.ackedSeq(),
      unsent: this.countUnsent(),
      oldestUnsentTs: oldest?.ts ?? null,
      lastBatchSeq: cursor.batch_seq,
      lastAckAt: cursor.last_ack_at,
      rollups: (this.db.prepare('SELECT count(*) AS n FROM rollups_minute').get() as { n: number }).n,
    };
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
    // Absent, not null, when there is none: such a sample is what it was before issue 17.
    ...(r.odometer_km !== null && r.odometer_km !== undefined ? { odometerKm: r.odometer_km } : {}),
    ...(r.gps_distance_m !== null && r.gps_distance_m !== undefined
      ? { gpsDistanceM: r.gps_distance_m }
      : {}),
  };
}
