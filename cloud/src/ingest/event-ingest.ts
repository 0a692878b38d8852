/**
 *          $share/{group}/{base}/v1/+/+/events
 *   broker ==QoS 1==> connection ──> decode ──> BEGIN; owner; new events → their alerts; COMMIT
 *                                       │                    (store-vehicle-events.ts)           │
 *                                       └─ refused: dead_letters (reason) ─────────────────────┤
 *                                                                                              v
 *                                                    PUBACK, then VehicleEventAck on .../events-ack
 *
 * The detectors' events (shared/src/events.ts), sent by the agent's EventSync. Same rules as the
 * telemetry ingest: the PUBACK and the agent's ack go out only after the COMMIT (a broker PUBACK
 * is not storage), (tenant, vehicle, event id) makes every resend harmless, a bad payload lands
 * in dead_letters with its reason and is acknowledged, never blocking the good ones, and an
 * MQTT 5 shared subscription lets several cloud processes split the lane (plain subscription on
 * brokers without it, such as the embedded aedes).
 *
 * One connection, one message per transaction: events come a few per vehicle and hour, so the
 * group commit and early PUBACK of telemetry-ingest.ts would be complexity without a load to carry.
 *
 * A database error caused by the payload itself (SQLSTATE classes 22 and 23: a value or constraint
 * the decoder let through) dead-letters the message; any other error (connection lost, database
 * restarting) is retried with backoff while the broker keeps the rest queued.
 */
import {
  decodeVehicleEventBatch,
  fleetFilter,
  parseVehicleTopic,
  type VehicleEventAck,
  type VehicleEventBatch,
  vehicleTopic,
} from '@fleet/shared';
import { TRACEPARENT, traceIdOf, withTrace } from '@fleet/shared/log';
import { insertDeadLetters } from '../db/queries/insert-dead-letter.ts';
import { findVehicleTenants, registerVehicles } from '../db/queries/register-vehicles.ts';
import { countReject } from '../metrics/ingest-metrics.ts';
import { retryDatabase } from './db-retry.ts';
import type { IngestConnection, IngestMode, IngestOptions } from './ingest-client.ts';
import { subscribeSource } from './ingest-source.ts';
import { storeVehicleEvents } from './store-vehicle-events.ts';

/** `clientId`: the connection is `${clientId}-events`. */
export type EventIngestOptions = IngestOptions;

export interface EventIngestStats {
  batches: number;
  eventsInserted: number;
  eventsDuplicate: number;
  deadLetters: number;
  dbRetries: number;
  acksSent: number;
}

/** A payload the database refused for its content, not for its own state. */
function isPayloadError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}

export class EventIngest {
  readonly stats: EventIngestStats = {
    batches: 0,
    eventsInserted: 0,
    eventsDuplicate: 0,
    deadLetters: 0,
    dbRetries: 0,
    acksSent: 0,
  };
  mode: IngestMode = 'plain';
  private client: IngestConnection | undefined;
  private stopping = false;

  constructor(private readonly opts: EventIngestOptions) {}

  async start(): Promise<void> {
    const { log } = this.opts;
    const { clients, mode } = await subscribeSource({
      ...this.opts,
      sharedGroup: this.opts.sharedGroup ?? 'fleet-ingest',
      filters: [fleetFilter('events', this.opts.baseTopic)],
      connections: 1,
      clientIdOf: () => `${this.opts.clientId}-events`,
      logContext: { ingest: 'events' },
      // The PUBACK goes out only after the message is stored or dead-lettered. Stopping leaves it
      // un-acked, and the broker redelivers it to the next run.
      // The agent's trace id (MQTT 5 user property) goes on every log line of this message's work.
      onMessage: (client, packet, done) => {
        const trace = traceIdOf(packet.properties?.userProperties?.[TRACEPARENT]);
        withTrace(trace, () => this.handle(client, packet.topic, packet.payload as Buffer)).then(
          () => done(),
          (err: unknown) => log.warn({ err: (err as Error).message }, 'event message left unacknowledged'),
        );
      },
    });
    this.client = clients[0];
    this.mode = mode;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.client?.endAsync();
  }

  /** Stores or dead-letters one message; resolves only when that is committed. */
  private async handle(client: IngestConnection, topic: string, payload: Buffer): Promise<void> {
    const parsed = parseVehicleTopic(topic, this.opts.baseTopic);
    if (parsed?.kind !== 'events') return this.refuse(client, topic, payload, 'topic outside the namespace');
    const { tenantId, vehicleId } = parsed;
    const decoded = decodeVehicleEventBatch(payload);
    if (!decoded.ok) return this.refuse(client, topic, payload, decoded.reason, { tenantId, vehicleId });
    const batch = decoded.batch;
    if (batch.vehicleId !== vehicleId) {
      const reason = `payload vehicle "${batch.vehicleId}" does not match topic vehicle "${vehicleId}"`;
      return this.refuse(client, topic, payload, reason, { tenantId, vehicleId, batch });
    }
    const refusal = await retryDatabase(
      async () => {
        try {
          return await this.store(tenantId, vehicleId, batch);
        } catch (err) {
          if (isPayloadError(err)) return `database refused it: ${(err as Error).message}`;
          throw err;
        }
      },
      {
        firstDelayMs: this.opts.retryDelayMs,
        stopping: () => this.stopping,
        onRetry: (err, retryInMs) => {
          this.stats.dbRetries++;
          this.opts.log.warn({ err: err.message, retryInMs }, 'event write failed; retrying');
        },
      },
    );
    if (refusal !== null) return this.refuse(client, topic, payload, refusal, { tenantId, vehicleId, batch });
    this.opts.log.debug(
      { vehicleId, batchSeq: batch.batchSeq, events: batch.events.length },
      'events stored',
    );
    this.sendAck(client, tenantId, vehicleId, batch);
  }

  /** Null when stored; the reason when the vehicle may not send it. */
  private async store(tenantId: string, vehicleId: string, batch: VehicleEventBatch): Promise<string | null> {
    const db = await this.opts.pool.connect();
    const onClientError = (err: Error) =>
      this.opts.log.warn({ err: err.message }, 'database connection lost');
    db.on('error', onClientError);
    let broken: Error | undefined;
    try {
      await db.query('BEGIN');
      const claims = [{ tenantId, vehicleId }];
      const owners = this.opts.autoRegisterVehicles
        ? await registerVehicles(db, claims)
        : await findVehicleTenants(db, [vehicleId]);
      const owner = owners.get(vehicleId);
      if (owner !== tenantId) {
        await db.query('ROLLBACK');
        return owner === undefined
          ? `vehicle "${vehicleId}" is not registered`
          : `vehicle "${vehicleId}" does not belong to tenant "${tenantId}"`;
      }
      const inserted = await storeVehicleEvents(
        db,
        batch.events.map((event) => ({ tenantId, vehicleId, event })),
      );
      await db.query('COMMIT');
      this.stats.batches++;
      this.stats.eventsInserted += inserted;
      this.stats.eventsDuplicate += batch.events.length - inserted;
      return null;
    } catch (err) {
      await db.query('ROLLBACK').catch(() => {});
      // A broken connection must not go back to the pool; one that refused a value is fine.
      if (!isPayloadError(err)) broken = err as Error;
      throw err;
    } finally {
      db.off('error', onClientError);
      db.release(broken);
    }
  }

  private async refuse(
    client: IngestConnection,
    topic: string,
    payload: Buffer,
    reason: string,
    to?: { tenantId: string; vehicleId: string; batch?: VehicleEventBatch },
  ): Promise<void> {
    await retryDatabase(() => insertDeadLetters(this.opts.pool, [{ topic, reason, payload }]), {
      firstDelayMs: this.opts.retryDelayMs,
      stopping: () => this.stopping,
      onRetry: () => this.stats.dbRetries++,
    });
    this.stats.deadLetters++;
    countReject('events', reason);
    this.opts.log.warn({ topic, reason, bytes: payload.byteLength }, 'events payload dead-lettered');
    // Tell the agent, so it backs off instead of resending every ack timeout. An undecodable
    // payload may still carry its batchSeq.
    if (to) {
      const batchSeq = to.batch?.batchSeq ?? batchSeqOf(payload);
      if (batchSeq !== undefined) this.sendAck(client, to.tenantId, to.vehicleId, to.batch, batchSeq, reason);
    }
  }

  /** QoS 0, as the telemetry ack: a lost one costs a resend, which the key makes harmless. */
  private sendAck(
    client: IngestConnection,
    tenantId: string,
    vehicleId: string,
    batch: VehicleEventBatch | undefined,
    batchSeq = batch?.batchSeq ?? 0,
    reason?: string,
  ) {
    const ids = batch?.events.map((e) => e.id) ?? [0];
    const ack: VehicleEventAck = {
      v: 1,
      batchSeq,
      status: reason === undefined ? 'stored' : 'refused',
      first: Math.min(...ids),
      last: Math.max(...ids),
      ...(reason === undefined ? {} : { reason: reason.slice(0, 500) }),
    };
    client.publish(
      vehicleTopic('events-ack', tenantId, vehicleId, this.opts.baseTopic),
      JSON.stringify(ack),
      { qos: 0 },
    );
    this.stats.acksSent++;
  }
}

function batchSeqOf(payload: Buffer): number | undefined {
  try {
    const v = (JSON.parse(payload.toString('utf8')) as { batchSeq?: unknown }).batchSeq;
    return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
  } catch {
    return undefined;
  }
}
