/**
 *   SampleStore --pending(batch)--> publish QoS 1 --PUBACK--> acknowledge(last seq)
 *        ^                                 |
 *        +------ nothing moves until the broker acknowledged; a crash resends one batch
 *
 * Retained status: `online` on connect, `offline` as the MQTT will when the link dies.
 */
import {
  encodeTelemetryBatch,
  TELEMETRY_PAYLOAD_VERSION,
  type VehicleStatus,
  vehicleTopic,
} from '@fleet/shared';
import { type Logger, safeUrl } from '@fleet/shared/log';
import mqtt from 'mqtt';
import type { SampleStore } from '../store/sample-store.ts';

export interface MqttSyncOptions {
  url: string;
  username?: string | undefined;
  password?: string | undefined;
  tenantId: string;
  vehicleId: string;
  baseTopic: string;
  /** [1...5000] samples per batch, default 500. */
  batchSize?: number;
  /** [50...600000] ms between flushes, default 1000. */
  flushIntervalMs?: number;
  /** [0...60000] ms of random extra delay per flush so a fleet does not flush in lockstep, default 200. */
  flushJitterMs?: number;
}

export class MqttSync {
  readonly stats = { batchesSent: 0, samplesSent: 0 };
  private client: mqtt.MqttClient | undefined;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly store: SampleStore,
    private readonly opts: MqttSyncOptions,
    private readonly log: Logger,
  ) {}

  start(): void {
    const statusTopic = vehicleTopic('status', this.opts.tenantId, this.opts.vehicleId, this.opts.baseTopic);
    // The will is fixed at connect time, so `online` and the will carry the same ts: the cloud
    // keeps the newest status, and an equal ts lets the will (which always arrives later) win.
    const since = Date.now();
    const status = (state: VehicleStatus['state']): string =>
      JSON.stringify({ v: 1, state, ts: since } satisfies VehicleStatus);
    this.client = mqtt.connect(this.opts.url, {
      clientId: `fleet-agent-${this.opts.vehicleId}`,
      clean: false,
      username: this.opts.username,
      password: this.opts.password,
      reconnectPeriod: 2000,
      will: { topic: statusTopic, payload: Buffer.from(status('offline')), qos: 1, retain: true },
    });
    this.client.on('connect', () => {
      this.log.info({ broker: safeUrl(this.opts.url) }, 'connected to broker');
      this.client?.publish(statusTopic, status('online'), { qos: 1, retain: true });
      void this.flush();
    });
    this.client.on('offline', () => this.log.warn('broker unreachable; buffering in SQLite'));
    this.client.on('error', (err) => this.log.warn({ err: err.message }, 'mqtt error'));
    this.schedule();
  }

  private schedule() {
    if (this.stopped) return;
    const interval = this.opts.flushIntervalMs ?? 1000;
    const jitter = Math.random() * (this.opts.flushJitterMs ?? 200);
    this.timer = setTimeout(() => {
      void this.flush().finally(() => this.schedule());
    }, interval + jitter);
  }

  /** Sends everything pending, batch by batch, oldest first. One flush runs at a time. */
  flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async drain() {
    const client = this.client;
    const topic = vehicleTopic('telemetry', this.opts.tenantId, this.opts.vehicleId, this.opts.baseTopic);
    while (client?.connected && !this.stopped) {
      const samples = this.store.pending(this.opts.batchSize ?? 500);
      if (samples.length === 0) return;
      const payload = encodeTelemetryBatch({
        v: TELEMETRY_PAYLOAD_VERSION,
        vehicleId: this.opts.vehicleId,
        samples,
      });
      try {
        await client.publishAsync(topic, payload, { qos: 1 });
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'publish failed; will retry');
        return;
      }
      const last = samples[samples.length - 1]!.seq;
      this.store.acknowledge(last);
      this.stats.batchesSent++;
      this.stats.samplesSent += samples.length;
      this.log.debug({ samples: samples.length, lastSeq: last }, 'batch acknowledged by broker');
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.flushing?.catch(() => {});
    const client = this.client;
    if (client?.connected) {
      // A clean disconnect suppresses the will, so say "offline" ourselves.
      const topic = vehicleTopic('status', this.opts.tenantId, this.opts.vehicleId, this.opts.baseTopic);
      const payload = JSON.stringify({ v: 1, state: 'offline', ts: Date.now() } satisfies VehicleStatus);
      await client.publishAsync(topic, payload, { qos: 1, retain: true }).catch(() => {});
    }
    await client?.endAsync();
  }
}
