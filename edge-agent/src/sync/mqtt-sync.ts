/**
 *   SampleStore ──unsent──┬─ live lane:     newest ≤ metricBatchSize samples recorded since the link
 *                         │                 came up ─────────────────────────────┐
 *                         └─ backfill lane: oldest-first, historical=true,       ├─ publish QoS 1 ─ PUBACK ─ cloud ack ─▶ acknowledgeRange
 *                                           ≤ backfillInflight batches per round ┘   (after COMMIT)
 *
 * The cursor moves on the ingest's TelemetryAck (`.../ack`, published after the batch's COMMIT),
 * not on the broker's PUBACK: a broker that crashes before writing its queue to disk, or that
 * drops a batch for a shared subscription nobody has rejoined yet, has still PUBACKed it. A batch
 * unanswered after `ackTimeoutMs` is sent again (new batchSeq, same samples); the cloud's
 * (vehicle, seq) key makes that harmless. A refused batch (dead-lettered in the cloud, e.g. an
 * unregistered vehicle) stays on the vehicle and the sync backs off. `ackFrom: 'broker'` restores
 * the PUBACK-only behaviour for a cloud that does not answer.
 *
 * Each round sends one live batch first, then at most `backfillInflight` backfill batches, and
 * waits for their PUBACKs; so live data never waits behind more than that many batches, however
 * long the outage was. The store's cursor moves only over a contiguous acknowledged prefix
 * (SampleStore.acknowledgeRange): a crash at any instant resends at most the batches in flight,
 * which the cloud ignores by (vehicle, seq).
 *
 * Session: clean: false (and, on MQTT 5, sessionExpiryInterval) so the broker keeps our
 * unacknowledged QoS 1 packets across a reconnect. MQTT 5 when the broker speaks it; 'auto' falls
 * back to 3.1.1 when the broker refuses the protocol version (CONNACK code 1 / reason 0x84), as
 * the embedded aedes does.
 *
 * Retained status: `online` on connect, `offline` as the MQTT will when the link dies. The will is
 * fixed at connect time, so `online` and the will carry the same ts: the cloud keeps the newest
 * status, and an equal ts lets the will (which always arrives later) win.
 */
import {
  encodeTelemetryBatch,
  TELEMETRY_BINARY_VERSION,
  TELEMETRY_PAYLOAD_VERSION,
  TelemetryAck,
  type TelemetrySample,
  type VehicleStatus,
  vehicleTopic,
} from '@fleet/shared';
import { type Logger, safeUrl } from '@fleet/shared/log';
import mqtt from 'mqtt';
import type { SampleStore } from '../store/sample-store.ts';
import { brokerClientOptions } from './broker-options.ts';

export type MqttProtocol = 'auto' | '5' | '4';

export interface MqttSyncOptions {
  url: string;
  username?: string | undefined;
  password?: string | undefined;
  tenantId: string;
  vehicleId: string;
  baseTopic: string;
  /** [1...5000] samples per batch (telegraf metric_batch_size), default 500. */
  batchSize?: number;
  /** [50...600000] ms between flushes (telegraf flush_interval), default 1000. */
  flushIntervalMs?: number;
  /** [0...60000] ms of random extra delay per flush so a fleet does not flush in lockstep, default 200. */
  flushJitterMs?: number;
  /** [1...64] backfill batches in flight per round next to the live one, default 4. */
  backfillInflight?: number;
  /** 'auto' (MQTT 5, falling back to 3.1.1), '5' or '4' (3.1.1); default 'auto'. */
  protocol?: MqttProtocol;
  /** [0...4294967295] s the broker keeps our session while we are away (MQTT 5), default 7 days. */
  sessionExpirySec?: number;
  /** PEM files for mqtts:// (CA to trust, client certificate and key). */
  caFile?: string | undefined;
  certFile?: string | undefined;
  keyFile?: string | undefined;
  /** Default `fleet-agent-{vehicleId}`: stable, so the broker keeps the session. */
  clientId?: string;
  /**
   * [5...1200] s MQTT keepalive, default 30: a link that silently stops carrying packets (a
   * cellular NAT that forgot us, a tunnel) is noticed after 1.5x this without a PINGRESP, and
   * the agent reconnects and buffers meanwhile. Outgoing publishes do not postpone the ping
   * (mqtt.js reschedules it only on what it receives), so a dead link is found while sending too.
   */
  keepaliveSec?: number;
  /** [100...60000] ms between reconnect attempts, default 2000. */
  reconnectPeriodMs?: number;
  /** Send JSON v1 instead of binary v2 (for an ingest not yet updated). */
  jsonPayload?: boolean;
  /** What moves the cursor: the ingest's ack after COMMIT ('cloud', default) or the broker's PUBACK. */
  ackFrom?: 'cloud' | 'broker';
  /** [100...600000] ms to wait for the cloud's ack before sending the batch again, default 30 s. */
  ackTimeoutMs?: number;
  /** [1000...3600000] ms to pause after the cloud refused a batch, default 60 s. */
  refusedBackoffMs?: number;
}

export interface SyncStats {
  batchesSent: number;
  samplesSent: number;
  liveBatches: number;
  backfillBatches: number;
  connects: number;
  protocolVersion: 4 | 5 | null;
  /** Batches the cloud confirmed after COMMIT (ackFrom 'cloud'). */
  cloudAcks: number;
  /** Batches not confirmed in time: sent again. */
  ackTimeouts: number;
  /** Batches the cloud refused (dead-lettered); their samples stay on the vehicle. */
  refusedBatches: number;
}

interface SentBatch {
  first: number;
  last: number;
  settle?: (ack: TelemetryAck | Error) => void;
}

/** Batches remembered for a late ack (answered after their timeout, before the resend's). */
const MAX_REMEMBERED_BATCHES = 1024;

export class MqttSync {
  readonly stats: SyncStats = {
    batchesSent: 0,
    samplesSent: 0,
    liveBatches: 0,
    backfillBatches: 0,
    connects: 0,
    protocolVersion: null,
    cloudAcks: 0,
    ackTimeouts: 0,
    refusedBatches: 0,
  };
  /** batchSeq -> samples it carried, until the cloud answers (ackFrom 'cloud'). */
  private readonly sent = new Map<number, SentBatch>();
  private pausedUntil = 0;
  private client: mqtt.MqttClient | undefined;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private stopped = false;
  /** Samples at or below this seq were recorded before the current link came up: backfill. */
  private liveFloor = 0;
  private readonly since = Date.now();

  constructor(
    private readonly store: SampleStore,
    private readonly opts: MqttSyncOptions,
    private readonly log: Logger,
  ) {}

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  start(): void {
    this.connect(this.opts.protocol === '4' ? 4 : 5);
    this.schedule();
  }

  private statusPayload(state: VehicleStatus['state'], ts = this.since): string {
    return JSON.stringify({ v: 1, state, ts } satisfies VehicleStatus);
  }

  private get cloudAcks(): boolean {
    return (this.opts.ackFrom ?? 'cloud') === 'cloud';
  }

  private topic(kind: 'telemetry' | 'status' | 'ack') {
    return vehicleTopic(kind, this.opts.tenantId, this.opts.vehicleId, this.opts.baseTopic);
  }

  private connect(version: 4 | 5) {
    const statusTopic = this.topic('status');
    const o = this.opts;
    const client = mqtt.connect(o.url, {
      ...brokerClientOptions(o, '', { reconnectPeriodMs: 2000, keepaliveSec: 30 }),
      protocolVersion: version,
      clean: false,
      ...(version === 5
        ? { properties: { sessionExpiryInterval: o.sessionExpirySec ?? 7 * 24 * 3600 } }
        : {}),
      will: { topic: statusTopic, payload: Buffer.from(this.statusPayload('offline')), qos: 1, retain: true },
    });
    this.client = client;
    let everConnected = false;
    client.on('connect', () => {
      everConnected = true;
      this.stats.connects++;
      this.stats.protocolVersion = version;
      // Everything recorded so far (the outage's backlog) is historical; what comes now is live.
      this.liveFloor = this.store.stats().lastSeq;
      this.store.setLinkState(true, safeUrl(o.url));
      this.log.info(
        { broker: safeUrl(o.url), mqtt: version, backlogUpTo: this.liveFloor },
        'connected to broker',
      );
      client.publish(statusTopic, this.statusPayload('online'), { qos: 1, retain: true });
      if (this.cloudAcks) {
        // Every connect: a broker restored from persistence may have kept the session but not
        // the subscription, and mqtt.js skips a filter it already lists unless told `resubscribe`.
        const map = {
          [this.topic('ack')]: { qos: 1 },
          resubscribe: true,
        } as unknown as mqtt.ISubscriptionMap;
        client.subscribe(map, (err) => {
          if (err) this.log.warn({ err: err.message }, 'cannot subscribe to cloud acks');
        });
      }
      void this.flush();
    });
    client.on('message', (topic, payload) => {
      if (topic === this.topic('ack')) this.onCloudAck(payload);
    });
    client.on('offline', () => {
      this.store.setLinkState(false);
      this.log.warn('broker unreachable; buffering in SQLite');
    });
    client.on('error', (err) => {
      const code = (err as { code?: unknown }).code;
      if (
        version === 5 &&
        (o.protocol ?? 'auto') === 'auto' &&
        !everConnected &&
        (code === 1 || code === 132)
      ) {
        this.log.info('broker refuses MQTT 5; falling back to MQTT 3.1.1');
        client.end(true);
        if (!this.stopped) this.connect(4);
        return;
      }
      this.log.warn({ err: err.message }, 'mqtt error');
    });
  }

  private schedule() {
    if (this.stopped) return;
    const interval = this.opts.flushIntervalMs ?? 1000;
    const jitter = Math.random() * (this.opts.flushJitterMs ?? 200);
    this.timer = setTimeout(() => {
      void this.flush().finally(() => this.schedule());
    }, interval + jitter);
  }

  /** Sends everything pending, round by round (live first). One flush runs at a time. */
  flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  /** Resolves once connected (or rejects after `timeoutMs`). */
  waitConnected(timeoutMs: number): Promise<void> {
    if (this.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const started = Date.now();
      const poll = setInterval(() => {
        if (this.connected) {
          clearInterval(poll);
          resolve();
        } else if (Date.now() - started > timeoutMs) {
          clearInterval(poll);
          reject(new Error(`not connected to ${safeUrl(this.opts.url)} after ${timeoutMs} ms`));
        }
      }, 50);
    });
  }

  private onCloudAck(payload: Buffer) {
    let ack: TelemetryAck;
    try {
      ack = TelemetryAck.parse(JSON.parse(payload.toString('utf8')));
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'malformed cloud ack ignored');
      return;
    }
    const batch = this.sent.get(ack.batchSeq);
    if (!batch) return; // answered already, or sent by an earlier run: its samples were resent
    this.sent.delete(ack.batchSeq);
    if (ack.status === 'stored') {
      // Our own record of the range, not the payload's: an ack can only confirm what we sent.
      this.store.acknowledgeRange(batch.first, batch.last);
      this.stats.cloudAcks++;
    }
    batch.settle?.(ack);
  }

  private async drain() {
    const size = this.opts.batchSize ?? 500;
    const inflight = this.opts.backfillInflight ?? 4;
    while (this.client?.connected && !this.stopped && Date.now() >= this.pausedUntil) {
      const client = this.client;
      const batches: { samples: TelemetrySample[]; historical: boolean }[] = [];
      const live = this.store.unsent({ after: this.liveFloor, limit: size, newest: true });
      if (live.length > 0) {
        // More live samples than one batch (a slow link): the older ones join the backfill lane,
        // so the newest data always goes first.
        this.liveFloor = Math.max(this.liveFloor, live[0]!.seq - 1);
        batches.push({ samples: live, historical: false });
      }
      let after = 0;
      for (let i = 0; i < inflight; i++) {
        const old = this.store.unsent({ after, upTo: this.liveFloor, limit: size });
        if (old.length === 0) break;
        batches.push({ samples: old, historical: true });
        after = old[old.length - 1]!.seq;
      }
      if (batches.length === 0) return;
      const results = await Promise.allSettled(
        batches.map((b) => this.publish(client, b.samples, b.historical)),
      );
      const failed = results.find((r) => r.status === 'rejected');
      if (failed) {
        this.log.warn({ err: (failed.reason as Error).message }, 'publish failed; will retry');
        return;
      }
    }
  }

  private async publish(client: mqtt.MqttClient, samples: TelemetrySample[], historical: boolean) {
    const batchSeq = this.store.nextBatchSeq();
    const dropped = this.store.evictions();
    const payload = encodeTelemetryBatch({
      v: this.opts.jsonPayload ? TELEMETRY_PAYLOAD_VERSION : TELEMETRY_BINARY_VERSION,
      vehicleId: this.opts.vehicleId,
      samples,
      batchSeq,
      dropped,
      ...(historical ? { historical: true } : {}),
    });
    const first = samples[0]!.seq;
    const last = samples[samples.length - 1]!.seq;
    // Registered before publishing: the ack can overtake the PUBACK.
    const answered = this.cloudAcks ? this.awaitCloudAck(batchSeq, first, last) : undefined;
    const puback = client.publishAsync(this.topic('telemetry'), payload, {
      qos: 1,
      // MQTT 5 brokers and tools can route on these without decoding the payload.
      ...(this.stats.protocolVersion === 5
        ? {
            properties: {
              // `ack=cloud`: we resend until the ingest's ack, so it may PUBACK on arrival.
              userProperties: {
                batchSeq: String(batchSeq),
                historical: String(historical),
                ack: this.cloudAcks ? 'cloud' : 'broker',
              },
            },
          }
        : {}),
    });
    if (answered) {
      // The ack's timeout bounds the whole round trip: a PUBACK that never comes (the link died
      // with the packet in flight; mqtt.js resends it after reconnecting) must not hold the round.
      puback.catch((err: Error) => this.sent.get(batchSeq)?.settle?.(err));
      const ack = await answered;
      if (ack.status === 'refused') {
        this.stats.refusedBatches++;
        const backoff = this.opts.refusedBackoffMs ?? 60_000;
        this.pausedUntil = Date.now() + backoff;
        this.log.error(
          { batchSeq, first, last, reason: ack.reason, retryInMs: backoff },
          'cloud refused the batch; samples kept on the vehicle',
        );
        throw new Error(`cloud refused batch ${batchSeq}: ${ack.reason ?? 'no reason given'}`);
      }
    } else {
      await puback;
      this.store.acknowledgeRange(first, last);
    }
    this.stats.batchesSent++;
    this.stats.samplesSent += samples.length;
    if (historical) this.stats.backfillBatches++;
    else this.stats.liveBatches++;
    this.log.debug(
      { batchSeq, samples: samples.length, first, last, historical },
      this.cloudAcks ? 'batch committed by the cloud' : 'batch acknowledged by broker',
    );
  }

  /** Resolves with the cloud's answer; rejects after ackTimeoutMs (the round then ends and resends). */
  private awaitCloudAck(batchSeq: number, first: number, last: number): Promise<TelemetryAck> {
    if (this.sent.size >= MAX_REMEMBERED_BATCHES) {
      const oldest = this.sent.keys().next().value as number;
      this.sent.delete(oldest);
    }
    const batch: SentBatch = { first, last };
    this.sent.set(batchSeq, batch);
    const timeoutMs = this.opts.ackTimeoutMs ?? 30_000;
    return new Promise<TelemetryAck>((resolve, reject) => {
      const timer = setTimeout(() => {
        // Stays in `sent`: a late ack still moves the cursor.
        batch.settle = undefined;
        this.stats.ackTimeouts++;
        reject(new Error(`no ack from the cloud for batch ${batchSeq} within ${timeoutMs} ms; resending`));
      }, timeoutMs);
      batch.settle = (result) => {
        clearTimeout(timer);
        batch.settle = undefined;
        if (result instanceof Error) reject(result);
        else resolve(result);
      };
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const b of this.sent.values()) b.settle?.(new Error('sync stopping'));
    await this.flushing?.catch(() => {});
    const client = this.client;
    if (client?.connected) {
      // A clean disconnect suppresses the will, so say "offline" ourselves.
      await client
        .publishAsync(this.topic('status'), this.statusPayload('offline', Date.now()), {
          qos: 1,
          retain: true,
        })
        .catch(() => {});
    }
    await client?.endAsync();
    try {
      this.store.setLinkState(false);
    } catch {
      // the store may already be closed by a caller that stops in another order
    }
  }
}
