/**
 * The events lane's outbox: the `events` table (migration 2) and the `events` row of
 * `sync_cursor` (migration 3). The one place an event becomes final: its row id IS the
 * VehicleEvent id (AUTOINCREMENT, never reused, even after the disk budget evicts old rows, and
 * started at a random point by migration 4), so (vehicle, id) is the cloud's idempotency key.
 *
 *   detectors --DetectedEvent--> record --row--> events --nextBatch--> EventLane (sync/event-lane.ts)
 *                                                  ▲                        │ cloud ack after COMMIT
 *                                                  └──── acknowledge(id) ◀──┘
 *
 * Row layout: id, type, start_ts, end_ts (the VehicleEvent's own columns) and `payload`, the JSON
 * of every other VehicleEvent field (volumeL, lat, lon, driverId, confidence, modelVersion,
 * details). Other writers may store rows that are not VehicleEvents in the same table (trips,
 * `append`); the lane steps over them, counted, never sent: the cloud would refuse the whole
 * batch for one of them.
 */
import { VEHICLE_EVENT_TYPES, VehicleEvent } from '@fleet/shared';
import type Database from 'better-sqlite3';
import { z } from 'zod';
import type { DetectedEvent } from '../detectors/index.ts';
import { AgentError, AgentErrorCode } from '../errors.ts';

/** Any row of the events table (a VehicleEvent or another writer's: a trip). */
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

export interface EventRow {
  id: number;
  type: string;
  start_ts: number;
  end_ts: number | null;
  payload: string;
}

/** Rows above the cursor, as the cloud will get them. */
export interface EventBatch {
  events: VehicleEvent[];
  /** Rows that are not VehicleEvents, and why. */
  skipped: { id: number; reason: string }[];
  /** Highest row id scanned: the cursor passes it once the batch is stored. */
  lastId: number;
}

const LANE = 'events';
const KNOWN_FIELDS = new Set(Object.keys(VehicleEvent.shape));

export class EventOutbox {
  private readonly insertStmt: Database.Statement;
  private readonly aboveStmt: Database.Statement<[number, number], EventRow>;
  private readonly cursorStmt: Database.Statement<[], { acked_seq: number }>;
  private readonly advanceStmt: Database.Statement<[number]>;
  private readonly batchSeqStmt: Database.Statement<[], { batch_seq: number }>;

  constructor(private readonly db: Database.Database) {
    this.insertStmt = db.prepare('INSERT INTO events (type, start_ts, end_ts, payload) VALUES (?, ?, ?, ?)');
    this.aboveStmt = db.prepare(
      'SELECT id, type, start_ts, end_ts, payload FROM events WHERE id > ? ORDER BY id LIMIT ?',
    );
    this.cursorStmt = db.prepare(`SELECT acked_seq FROM sync_cursor WHERE lane = '${LANE}'`);
    this.advanceStmt = db.prepare(
      `UPDATE sync_cursor SET acked_seq = max(acked_seq, ?), last_ack_at = unixepoch('subsec') * 1000
        WHERE lane = '${LANE}'`,
    );
    this.batchSeqStmt = db.prepare(
      `UPDATE sync_cursor SET batch_seq = batch_seq + 1 WHERE lane = '${LANE}' RETURNING batch_seq`,
    );
  }

  /** One detected event, final from here on; returned with its id. */
  record(event: DetectedEvent): VehicleEvent {
    // A VehicleEvent handed back in (a replayed one) keeps nothing of its old id.
    const { type, start, end, ...rest } = event as DetectedEvent & { id?: unknown };
    delete rest.id;
    const id = this.append({ type, startTs: start, endTs: end, payload: rest });
    return { ...rest, type, start, end, id } as VehicleEvent;
  }

  /** Any row (a VehicleEvent's columns, or another writer's: a trip); returns its id. */
  append(event: NewEvent): number {
    try {
      return Number(
        this.insertStmt.run(
          event.type,
          event.startTs,
          event.endTs ?? null,
          JSON.stringify(event.payload ?? {}),
        ).lastInsertRowid,
      );
    } catch (cause) {
      throw new AgentError(
        AgentErrorCode.StoreFailed,
        `cannot store a ${event.type} event: ${(cause as Error).message}`,
        { cause },
      );
    }
  }

  /** Every row, by start time (the technician's view). */
  list(limit = 1000): StoredEvent[] {
    return (
      this.db.prepare('SELECT * FROM events ORDER BY start_ts, id LIMIT ?').all(limit) as EventRow[]
    ).map((r) => ({
      id: r.id,
      type: r.type,
      startTs: r.start_ts,
      endTs: r.end_ts,
      payload: JSON.parse(r.payload),
    }));
  }

  /** VehicleEvents with id > `afterId`, oldest first; other rows are skipped. */
  listSince(afterId: number, limit = 100): VehicleEvent[] {
    return this.read(afterId, limit).events;
  }

  /** The next batch for the cloud: at most `limit` rows above the cursor. */
  nextBatch(limit: number): EventBatch {
    return this.read(this.ackedId(), limit);
  }

  private read(afterId: number, limit: number): EventBatch {
    const out: EventBatch = { events: [], skipped: [], lastId: afterId };
    for (const row of this.aboveStmt.all(afterId, limit)) {
      const r = rowToVehicleEvent(row);
      if (r.ok) out.events.push(r.event);
      else out.skipped.push({ id: row.id, reason: r.reason });
      out.lastId = row.id;
    }
    return out;
  }

  /** Highest event id the cloud committed. */
  ackedId(): number {
    return this.cursorStmt.get()?.acked_seq ?? 0;
  }

  /** The cloud committed (or the lane stepped over) every row up to `id`. */
  acknowledge(id: number): void {
    this.advanceStmt.run(id);
  }

  /** Rows above the cursor (VehicleEvents or not). */
  pending(): number {
    return (
      this.db.prepare('SELECT count(*) AS n FROM events WHERE id > ?').get(this.ackedId()) as { n: number }
    ).n;
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
  }

  /** Next batch number of the events lane, durable before the batch leaves. */
  nextBatchSeq(): number {
    return this.batchSeqStmt.get()!.batch_seq;
  }

  /** Deletes the `rows` oldest events (the disk budget's last resort); the caller holds the transaction. */
  evictOldest(rows: number): number {
    return this.db
      .prepare('DELETE FROM events WHERE id IN (SELECT id FROM events ORDER BY start_ts, id LIMIT ?)')
      .run(rows).changes;
  }
}

/**
 * One events row as a VehicleEvent, or why it is not one. The row's columns give id, type, start
 * and end; the JSON payload the rest. Payload keys the contract does not know are kept in
 * `details` (the detector's own figures), so nothing the vehicle recorded is dropped on the way.
 */
export function rowToVehicleEvent(
  row: EventRow,
): { ok: true; event: VehicleEvent } | { ok: false; reason: string } {
  if (!(VEHICLE_EVENT_TYPES as readonly string[]).includes(row.type)) {
    return { ok: false, reason: `type "${row.type}" is not a VehicleEvent type` };
  }
  let payload: unknown;
  try {
    payload = JSON.parse(row.payload);
  } catch (err) {
    return { ok: false, reason: `payload is not JSON: ${(err as Error).message}` };
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    return { ok: false, reason: 'payload is not a JSON object' };
  }
  const fields: Record<string, unknown> = {};
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(payload)) (KNOWN_FIELDS.has(k) ? fields : extra)[k] = v;
  const details =
    fields.details && typeof fields.details === 'object' && !Array.isArray(fields.details)
      ? fields.details
      : {};
  const parsed = VehicleEvent.safeParse({
    lat: null,
    lon: null,
    driverId: null,
    modelVersion: null,
    ...fields,
    details: { ...extra, ...details },
    id: row.id,
    type: row.type,
    start: row.start_ts,
    // No end: an instant (a DTC appearing).
    end: row.end_ts ?? row.start_ts,
  });
  if (!parsed.success) return { ok: false, reason: z.prettifyError(parsed.error).replaceAll('\n', '; ') };
  if (parsed.data.end < parsed.data.start) return { ok: false, reason: 'end is before start' };
  return { ok: true, event: parsed.data };
}
