/**
 *   detectors ─▶ SQLite events (id AUTOINCREMENT) ─▶ EventSync ──QoS 1──▶ .../events ─▶ cloud EventIngest
 *                      ▲                                 │                                 │ COMMIT
 *                      └── sync_cursor lane 'events' ◀───┴──── .../events-ack ◀────────────┘
 *
 * The detectors' events go to the cloud on a lane of their own: an events batch never waits
 * behind a week of telemetry backfill, and a refused telemetry batch never holds the events back.
 * The rules are the telemetry lane's (mqtt-sync.ts): the cursor (highest event id the cloud
 * committed) moves only on the ingest's VehicleEventAck after its COMMIT, never on the broker's
 * PUBACK; an unanswered batch is sent again after `ackTimeoutMs` (new batchSeq, same events), and
 * the cloud's (tenant, vehicle, event id) key makes that harmless. One batch is in flight at a
 * time: events are a few per hour, and stop-and-wait keeps the cursor a single number.
 *
 * Rows of the events table that are not VehicleEvents (trips, the store's own bookkeeping, a
 * payload a future detector writes differently) are stepped over, counted and logged, never sent:
 * the cloud would refuse the whole batch for one of them.
 *
 * Its own MQTT connection (client id `fleet-agent-{vehicle}-events`, same login and TLS settings
 * as the telemetry lane): the broker keeps the two sessions apart, and mqtt-sync.ts stays as it
 * is. The cost is one more idle connection per vehicle on the broker.
 */
import {
  MAX_EVENTS_PER_BATCH,
  VEHICLE_EVENT_BATCH_VERSION,
  VEHICLE_EVENT_TYPES,
  VehicleEvent,
  VehicleEventAck,
  type VehicleEventBatch,
  vehicleTopic,
} from '@fleet/shared';
import { type Logger, safeUrl } from '@fleet/shared/log';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { z } from 'zod';
import { AgentError, AgentErrorCode } from '../errors.ts';
import { brokerClientOptions } from './broker-options.ts';
import type { MqttSyncOptions } from './mqtt-sync.ts';

const LANE = 'events';

export interface EventSyncOptions extends MqttSyncOptions {
  /** The agent's SQLite file (the one SampleStore opened and migrated). */
  dbPath: string;
  /** [1...500] events per batch, default 100. */
  eventBatchSize?: number;
  /** [50...600000] ms between looks at the events table, default 2000. */
  eventFlushIntervalMs?: number;
}

export interface EventSyncStats {
  batchesSent: number;
  eventsSent: number;
  /** Batches the cloud confirmed after COMMIT. */
  cloudAcks: number;
  ackTimeouts: number;
  refusedBatches: number;
  /** Rows of the events table that are not VehicleEvents: stepped over, never sent. */
  skipped: number;
  connects: number;
}

interface EventRow {
  id: number;
  type: string;
  start_ts: number;
  end_ts: number | null;
  payload: string;
}

const KNOWN_FIELDS = new Set(Object.keys(VehicleEvent.shape));

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

export class EventSync {
  readonly stats: EventSyncStats = {
    batchesSent: 0,
    eventsSent: 0,
    cloudAcks: 0,
    ackTimeouts: 0,
    refusedBatches: 0,
    skipped: 0,
    connects: 0,
  };
  private readonly db: Database.Database;
  private readonly selectStmt: Database.Statement<[number, number], EventRow>;
  private readonly cursorStmt: Database.Statement<[], { acked_seq: number }>;
  private readonly advanceStmt: Database.Statement<[number]>;
  private readonly batchSeqStmt: Database.Statement<[], { batch_seq: number }>;
  private client: mqtt.MqttClient | undefined;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private stopped = false;
  private pausedUntil = 0;
  /** The batch waiting for its ack. */
  private inflight: { batchSeq: number; settle: (ack: VehicleEventAck | Error) => void } | undefined;

  constructor(
    private readonly opts: EventSyncOptions,
    private readonly log: Logger,
  ) {
    try {
      this.db = new Database(opts.dbPath);
    } catch (err) {
      throw new AgentError(
        AgentErrorCode.StoreFailed,
        `cannot open database ${opts.dbPath}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    this.db.pragma('busy_timeout = 5000'); // the recorder writes on another connection
    const lane = this.db.prepare('SELECT 1 FROM sync_cursor WHERE lane = ?').get(LANE);
    if (!lane) {
      this.db.close();
      throw new AgentError(
        AgentErrorCode.StoreFailed,
        `database ${opts.dbPath} has no '${LANE}' sync lane: open it with SampleStore first (store migration 3)`,
      );
    }
    this.selectStmt = this.db.prepare(
      `SELECT id, type, start_ts, end_ts, payload FROM events
        WHERE id > ? ORDER BY id LIMIT ?`,
    );
    this.cursorStmt = this.db.prepare(`SELECT acked_seq FROM sync_cursor WHERE lane = '${LANE}'`);
    this.advanceStmt = this.db.prepare(
      `UPDATE sync_cursor SET acked_seq = max(acked_seq, ?), last_ack_at = unixepoch('subsec') * 1000
        WHERE lane = '${LANE}'`,
    );
    this.batchSeqStmt = this.db.prepare(
      `UPDATE sync_cursor SET batch_seq = batch_seq + 1 WHERE lane = '${LANE}' RETURNING batch_seq`,
    );
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  /** Highest event id the cloud committed. */
  ackedId(): number {
    return this.cursorStmt.get()?.acked_seq ?? 0;
  }

  /** Events above the cursor (VehicleEvents or not). */
  pending(): number {
    return (
      this.db.prepare('SELECT count(*) AS n FROM events WHERE id > ?').get(this.ackedId()) as { n: number }
    ).n;
  }

  private topic(kind: 'events' | 'events-ack') {
    return vehicleTopic(kind, this.opts.tenantId, this.opts.vehicleId, this.opts.baseTopic);
  }

  start(): void {
    this.connect(this.opts.protocol === '4' ? 4 : 5);
    this.schedule();
  }

  private connect(version: 4 | 5) {
    const o = this.opts;
    const client = mqtt.connect(o.url, {
      ...brokerClientOptions(o, '-events', { reconnectPeriodMs: 2000, keepaliveSec: 30 }),
      protocolVersion: version,
      clean: false,
      ...(version === 5
        ? { properties: { sessionExpiryInterval: o.sessionExpirySec ?? 7 * 24 * 3600 } }
        : {}),
    });
    this.client = client;
    let everConnected = false;
    client.on('connect', () => {
      everConnected = true;
      this.stats.connects++;
      // Every connect, with `resubscribe` (see mqtt-sync.ts: a restored session may have lost it).
      const map = {
        [this.topic('events-ack')]: { qos: 1 },
        resubscribe: true,
      } as unknown as mqtt.ISubscriptionMap;
      client.subscribe(map, (err) => {
        if (err) this.log.warn({ err: err.message }, 'cannot subscribe to event acks');
        else void this.flush();
      });
    });
    client.on('message', (topic, payload) => {
      if (topic === this.topic('events-ack')) this.onAck(payload);
    });
    client.on('error', (err) => {
      const code = (err as { code?: unknown }).code;
      if (
        version === 5 &&
        (o.protocol ?? 'auto') === 'auto' &&
        !everConnected &&
        (code === 1 || code === 132)
      ) {
        client.end(true);
        if (!this.stopped) this.connect(4);
        return;
      }
      this.log.warn({ err: err.message }, 'mqtt error (events lane)');
    });
  }

  private schedule() {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.flush().finally(() => this.schedule());
    }, this.opts.eventFlushIntervalMs ?? 2000);
  }

  /** Sends every pending event, batch after batch; resolves when none is left or the link is down. */
  flush(): Promise<void> {
    this.flushing ??= this.drain()
      .catch((err: unknown) => {
        if (!this.stopped) this.log.warn({ err: (err as Error).message }, 'events not sent; will retry');
      })
      .finally(() => {
        this.flushing = undefined;
      });
    return this.flushing;
  }

  private onAck(payload: Buffer) {
    let ack: VehicleEventAck;
    try {
      ack = VehicleEventAck.parse(JSON.parse(payload.toString('utf8')));
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'malformed event ack ignored');
      return;
    }
    // Only the batch in flight counts: a late answer to an earlier send of the same events is
    // covered by the resend's own answer.
    if (this.inflight?.batchSeq === ack.batchSeq) this.inflight.settle(ack);
  }

  private async drain() {
    const size = Math.max(1, Math.min(MAX_EVENTS_PER_BATCH, this.opts.eventBatchSize ?? 100));
    while (this.client?.connected && !this.stopped && Date.now() >= this.pausedUntil) {
      const rows = this.selectStmt.all(this.ackedId(), size);
      if (rows.length === 0) return;
      const last = rows[rows.length - 1]!.id;
      const events: VehicleEvent[] = [];
      const skipped: { id: number; reason: string }[] = [];
      for (const row of rows) {
        const r = rowToVehicleEvent(row);
        if (r.ok) events.push(r.event);
        else skipped.push({ id: row.id, reason: r.reason });
      }
      if (events.length > 0) await this.send(this.client, events);
      // Stored (or nothing to send): the cursor steps over the whole scanned range, skipped rows too.
      this.advanceStmt.run(last);
      if (skipped.length > 0) {
        this.stats.skipped += skipped.length;
        this.log.warn(
          { skipped: skipped.length, first: skipped[0] },
          'events rows that are not VehicleEvents not sent',
        );
      }
    }
  }

  private async send(client: mqtt.MqttClient, events: VehicleEvent[]) {
    const batchSeq = this.batchSeqStmt.get()!.batch_seq;
    const batch: VehicleEventBatch = {
      v: VEHICLE_EVENT_BATCH_VERSION,
      vehicleId: this.opts.vehicleId,
      batchSeq,
      events,
    };
    const timeoutMs = this.opts.ackTimeoutMs ?? 30_000;
    // Registered before publishing: the ack can overtake the PUBACK.
    const answered = new Promise<VehicleEventAck>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.inflight = undefined;
        this.stats.ackTimeouts++;
        reject(
          new Error(`no ack from the cloud for events batch ${batchSeq} within ${timeoutMs} ms; resending`),
        );
      }, timeoutMs);
      this.inflight = {
        batchSeq,
        settle: (r) => {
          clearTimeout(timer);
          this.inflight = undefined;
          if (r instanceof Error) reject(r);
          else resolve(r);
        },
      };
    });
    client
      .publishAsync(this.topic('events'), JSON.stringify(batch), { qos: 1 })
      .catch((err: Error) => this.inflight?.batchSeq === batchSeq && this.inflight.settle(err));
    this.stats.batchesSent++;
    const ack = await answered;
    if (ack.status === 'refused') {
      this.stats.refusedBatches++;
      const backoff = this.opts.refusedBackoffMs ?? 60_000;
      this.pausedUntil = Date.now() + backoff;
      this.log.error(
        { batchSeq, reason: ack.reason, retryInMs: backoff },
        'cloud refused the events batch; events kept on the vehicle',
      );
      throw new Error(`cloud refused events batch ${batchSeq}: ${ack.reason ?? 'no reason given'}`);
    }
    this.stats.cloudAcks++;
    this.stats.eventsSent += events.length;
    this.log.debug(
      { batchSeq, events: events.length, broker: safeUrl(this.opts.url) },
      'events committed by the cloud',
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.inflight?.settle(new Error('events sync stopping'));
    await this.flushing;
    await this.client?.endAsync();
    this.db.close();
  }
}
