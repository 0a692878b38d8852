/**
 *   broker --QoS 1--> handleMessage --validate--> [bad] dead_letters ----------------+--> PUBACK
 *                                        |                                           |
 *                                        +--[good] BEGIN; telemetry; latest; COMMIT -+
 *
 * The PUBACK leaves only after the commit (mqtt.js sends it when handleMessage's callback
 * runs): a broker PUBACK is not storage, so the broker keeps the message until PostgreSQL has it.
 * While the database is down the message is retried with backoff and the broker queues the rest.
 */
import {
  decodeTelemetryBatch,
  fleetFilter,
  parseVehicleTopic,
  type TelemetrySample,
  VehicleStatus,
} from '@fleet/shared';
import { type Logger, safeUrl } from '@fleet/shared/log';
import mqtt from 'mqtt';
import type pg from 'pg';
import { insertDeadLetter } from '../db/queries/insert-dead-letter.ts';
import { insertTelemetryBatch } from '../db/queries/insert-telemetry-batch.ts';
import { findVehicleTenant, registerVehicle } from '../db/queries/register-vehicle.ts';
import { updateVehicleStatus } from '../db/queries/update-vehicle-status.ts';
import { LATEST_FUTURE_TOLERANCE_MS, upsertVehicleLatest } from '../db/queries/upsert-vehicle-latest.ts';
import { CloudError, CloudErrorCode } from '../errors.ts';

export interface TelemetryIngestOptions {
  pool: pg.Pool;
  mqttUrl: string;
  mqttUsername?: string | undefined;
  mqttPassword?: string | undefined;
  baseTopic: string;
  /** Stable client id: with a persistent session the broker keeps QoS 1 messages while we are away. */
  clientId: string;
  autoRegisterVehicles: boolean;
  log: Logger;
  /** [100...60000] ms, default 500: first retry delay after a database error, doubled up to 10 s. */
  retryDelayMs?: number;
}

export interface IngestStats {
  batches: number;
  samplesInserted: number;
  samplesDuplicate: number;
  deadLetters: number;
  dbRetries: number;
}

/** A payload we refuse for good (as opposed to a database outage, which we retry). */
class Rejected extends Error {}

export class TelemetryIngest {
  readonly stats: IngestStats = {
    batches: 0,
    samplesInserted: 0,
    samplesDuplicate: 0,
    deadLetters: 0,
    dbRetries: 0,
  };
  private client: mqtt.MqttClient | undefined;
  private stopping = false;

  constructor(private readonly opts: TelemetryIngestOptions) {}

  async start(): Promise<void> {
    const { log } = this.opts;
    const client = mqtt.connect(this.opts.mqttUrl, {
      clientId: this.opts.clientId,
      clean: false,
      username: this.opts.mqttUsername,
      password: this.opts.mqttPassword,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
    });
    this.client = client;
    client.handleMessage = (packet, done) => {
      this.handle(packet.topic, packet.payload as Buffer).then(
        () => done(),
        (err: unknown) => {
          // Only reached when stopping: leave the message un-acked for the next run.
          log.warn({ err: (err as Error).message }, 'message left unacknowledged');
        },
      );
    };
    client.on('error', (err) => log.warn({ err: err.message }, 'mqtt error'));
    client.on('reconnect', () => log.info('mqtt reconnecting'));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new CloudError(
              CloudErrorCode.BrokerUnreachable,
              `cannot reach MQTT broker at ${safeUrl(this.opts.mqttUrl)}`,
            ),
          ),
        15_000,
      );
      client.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    const filters = [
      fleetFilter('telemetry', this.opts.baseTopic),
      fleetFilter('status', this.opts.baseTopic),
    ];
    await client.subscribeAsync(filters, { qos: 1 });
    log.info({ broker: safeUrl(this.opts.mqttUrl), filters }, 'ingest subscribed');
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.client?.endAsync();
  }

  private async handle(topic: string, payload: Buffer): Promise<void> {
    let delay = this.opts.retryDelayMs ?? 500;
    for (;;) {
      try {
        await this.process(topic, payload);
        return;
      } catch (err) {
        if (err instanceof Rejected) {
          await this.deadLetter(topic, err.message, payload);
          return;
        }
        if (this.stopping) throw err;
        this.stats.dbRetries++;
        this.opts.log.warn(
          { topic, err: (err as Error).message, retryInMs: delay },
          'database write failed; retrying',
        );
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 10_000);
      }
    }
  }

  private async process(topic: string, payload: Buffer): Promise<void> {
    const parsedTopic = parseVehicleTopic(topic, this.opts.baseTopic);
    if (!parsedTopic) throw new Rejected('topic outside the namespace');
    const { tenantId, vehicleId, kind } = parsedTopic;
    if (kind === 'status') return this.processStatus(tenantId, vehicleId, payload);

    const decoded = decodeTelemetryBatch(payload);
    if (!decoded.ok) throw new Rejected(decoded.reason);
    const { batch } = decoded;
    if (batch.vehicleId !== vehicleId) {
      throw new Rejected(`payload vehicle "${batch.vehicleId}" does not match topic vehicle "${vehicleId}"`);
    }
    const horizon = Date.now() + LATEST_FUTURE_TOLERANCE_MS;
    const newest = batch.samples.reduce<TelemetrySample | null>(
      (a, b) => (b.ts <= horizon && (a === null || b.ts > a.ts) ? b : a),
      null,
    );

    const db = await this.opts.pool.connect();
    try {
      await db.query('BEGIN');
      await this.checkOwner(db, tenantId, vehicleId);
      const inserted = await insertTelemetryBatch(db, vehicleId, batch.samples);
      if (newest) await upsertVehicleLatest(db, vehicleId, newest);
      await db.query('COMMIT');
      this.stats.batches++;
      this.stats.samplesInserted += inserted;
      this.stats.samplesDuplicate += batch.samples.length - inserted;
      this.opts.log.debug({ vehicle: vehicleId, samples: batch.samples.length, inserted }, 'batch stored');
    } catch (err) {
      await db.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      db.release();
    }
  }

  private async checkOwner(db: pg.PoolClient, tenantId: string, vehicleId: string) {
    const owner = this.opts.autoRegisterVehicles
      ? await registerVehicle(db, tenantId, vehicleId)
      : await findVehicleTenant(db, vehicleId);
    if (owner === null) throw new Rejected(`vehicle "${vehicleId}" is not registered`);
    if (owner !== tenantId)
      throw new Rejected(`vehicle "${vehicleId}" does not belong to tenant "${tenantId}"`);
  }

  private async processStatus(tenantId: string, vehicleId: string, payload: Buffer) {
    let status: VehicleStatus;
    try {
      status = VehicleStatus.parse(JSON.parse(payload.toString('utf8')));
    } catch (err) {
      throw new Rejected(`bad status payload: ${(err as Error).message}`);
    }
    const db = await this.opts.pool.connect();
    try {
      await this.checkOwner(db, tenantId, vehicleId);
    } finally {
      db.release();
    }
    await updateVehicleStatus(this.opts.pool, vehicleId, status.state === 'online', status.ts);
  }

  private async deadLetter(topic: string, reason: string, payload: Buffer) {
    this.stats.deadLetters++;
    this.opts.log.warn({ topic, reason, bytes: payload.byteLength }, 'payload dead-lettered');
    let delay = this.opts.retryDelayMs ?? 500;
    for (;;) {
      try {
        await insertDeadLetter(this.opts.pool, topic, reason, payload);
        return;
      } catch (err) {
        if (this.stopping) throw err;
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 10_000);
      }
    }
  }
}
