/**
 * The detectors' events in the agent's SQLite `events` table (migration 2), the one place an
 * event becomes final: its row id IS the VehicleEvent id (AUTOINCREMENT: never reused, even
 * after the disk budget evicts old rows), so (vehicle, id) is the cloud's idempotency key.
 *
 *   detectors --DetectedEvent--> EventStore.record --row--> events --> EventSync (sync/event-sync.ts)
 *
 * Row layout: id, type, start_ts, end_ts (the VehicleEvent's own columns) and `payload`, the JSON
 * of every other VehicleEvent field (volumeL, lat, lon, driverId, confidence, modelVersion,
 * details). Other writers may store rows that are not VehicleEvents in the same table (trips);
 * listSince() steps over them.
 *
 * API (small on purpose):
 *   record(event)        stores one event, returns it with its id
 *   listSince(id, limit) events with id > `id`, oldest first, at most `limit`
 */
import { VEHICLE_EVENT_TYPES, VehicleEvent } from '@fleet/shared';
import Database from 'better-sqlite3';
import type { DetectedEvent } from '../detectors/index.ts';
import { AgentError, AgentErrorCode } from '../errors.ts';

interface EventRow {
  id: number;
  type: string;
  start_ts: number;
  end_ts: number | null;
  payload: string;
}

export class EventStore {
  private readonly insert: Database.Statement;
  private readonly since: Database.Statement;
  private readonly owned: boolean;

  /** On the agent's open database (the SampleStore's file, schema already migrated). */
  constructor(
    private readonly db: Database.Database,
    options: { owned?: boolean } = {},
  ) {
    this.owned = options.owned ?? false;
    const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'").get();
    if (!table) {
      throw new AgentError(
        AgentErrorCode.StoreFailed,
        'the database has no events table: open it with SampleStore first (it runs the migrations)',
      );
    }
    this.insert = db.prepare('INSERT INTO events (type, start_ts, end_ts, payload) VALUES (?, ?, ?, ?)');
    this.since = db.prepare(
      'SELECT id, type, start_ts, end_ts, payload FROM events WHERE id > ? ORDER BY id LIMIT ?',
    );
  }

  /**
   * A connection of its own to the agent's database file (WAL: the SampleStore's writes and
   * these interleave; busy_timeout rides out the other connection's short write locks).
   */
  static open(file: string): EventStore {
    let db: Database.Database;
    try {
      db = new Database(file);
      db.pragma('busy_timeout = 5000');
    } catch (cause) {
      throw new AgentError(
        AgentErrorCode.StoreFailed,
        `cannot open database ${file}: ${(cause as Error).message}`,
        {
          cause,
        },
      );
    }
    return new EventStore(db, { owned: true });
  }

  record(event: DetectedEvent): VehicleEvent {
    // A VehicleEvent handed back in (a replayed one) keeps nothing of its old id.
    const { type, start, end, ...rest } = event as DetectedEvent & { id?: unknown };
    delete rest.id;
    let id: number;
    try {
      id = Number(this.insert.run(type, start, end, JSON.stringify(rest)).lastInsertRowid);
    } catch (cause) {
      throw new AgentError(
        AgentErrorCode.StoreFailed,
        `cannot store a ${type} event: ${(cause as Error).message}`,
        {
          cause,
        },
      );
    }
    return { ...rest, type, start, end, id } as VehicleEvent;
  }

  /** Events after `afterId`, oldest first; rows that are not VehicleEvents are skipped. */
  listSince(afterId: number, limit = 100): VehicleEvent[] {
    const out: VehicleEvent[] = [];
    for (const row of this.since.all(afterId, limit) as EventRow[]) {
      const e = toVehicleEvent(row);
      if (e) out.push(e);
    }
    return out;
  }

  close(): void {
    if (this.owned) this.db.close();
  }
}

function toVehicleEvent(row: EventRow): VehicleEvent | null {
  if (!(VEHICLE_EVENT_TYPES as readonly string[]).includes(row.type)) return null;
  let payload: unknown;
  try {
    payload = JSON.parse(row.payload);
  } catch {
    return null;
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return null;
  const parsed = VehicleEvent.safeParse({
    lat: null,
    lon: null,
    driverId: null,
    modelVersion: null,
    details: {},
    ...payload,
    id: row.id,
    type: row.type,
    start: row.start_ts,
    end: row.end_ts ?? row.start_ts,
  });
  return parsed.success ? parsed.data : null;
}
