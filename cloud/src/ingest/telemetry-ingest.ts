/**
 *                 $share/{group}/{base}/v1/+/+/{telemetry,status}
 *   broker ==QoS 1==> connection 0 ─┐
 *          ==QoS 1==> connection 1 ─┼─> lanes ──(window)──> group commit ──> done() x n ──> PUBACK x n
 *          ==QoS 1==> connection k ─┘  live,       │          then a TelemetryAck per batch
 *   (ingest-client.ts)                 backfill    │
 *                                    (lanes.ts)    classify (classify.ts) → BEGIN; owners (owners.ts);
 *                                                  planGroup (group.ts); samples → telemetry → minute
 *                                                  rollup → latest → geofence alerts (store-samples.ts);
 *                                                  statuses; dead letters; COMMIT (group-commit.ts)
 *
 * Ack after commit: mqtt.js sends a message's PUBACK when handleMessage's callback runs, and it
 * handles one message per connection at a time. So one connection commits one message per
 * transaction; this ingest opens `connections` connections on an MQTT 5 shared subscription
 * (the broker spreads messages over them, and over other ingest processes of the same group) and
 * commits whatever they hold together (group commit), up to `maxConcurrentFlushes` transactions
 * at once. Every callback is released only after its transaction committed; on a database error
 * the whole group is retried with backoff while the broker keeps the rest queued.
 *
 * Early PUBACK for agents that wait for our ack: a batch published with the MQTT 5 user property
 * `ack=cloud` is protected end to end (its agent resends until the TelemetryAck after COMMIT), so
 * its PUBACK only covers the hop to us and is sent on arrival; the connection then hands us the
 * next message at once instead of one per commit. Up to `maxUncommitted` messages; past that the
 * PUBACK waits for the COMMIT again, which slows the broker down (backpressure). Everything else
 * (status, v1 publishers, agents on MQTT 3.1.1) keeps the PUBACK after COMMIT.
 *
 * Brokers without shared subscriptions (the embedded aedes) get one connection with a plain
 * subscription (ingest-client.ts).
 *
 * Refused payloads go to dead_letters with their reason in the same transaction and are acked.
 *
 * End-to-end acknowledgement: a broker PUBACK is not storage (a broker crash loses what it had
 * not yet written; after a restart Mosquitto drops batches for a shared group whose member has
 * not resubscribed yet). So after each COMMIT the ingest publishes a TelemetryAck on the
 * vehicle's `ack` topic for every batch that carries a batchSeq, and only that moves the agent's
 * cursor; an agent resends what stays unanswered, and (vehicle, seq) makes the resend harmless.
 */
import { fleetFilter, type TelemetryBatch } from '@fleet/shared';
import type mqtt from 'mqtt';
import type pg from 'pg';
import { GeofenceWatch } from '../alerts/geofence-watch.ts';
import type { AgentDrops } from '../db/queries/upsert-agent-drops.ts';
import { countReject, recordTelemetryGroup } from '../metrics/ingest-metrics.ts';
import { type OutgoingAck, sendAcks } from './acks.ts';
import { classify } from './classify.ts';
import { retryDatabase } from './db-retry.ts';
import { type Answerable, commitGroup } from './group-commit.ts';
import { type IngestOptions, subscribeIngest } from './ingest-client.ts';
import { IngestLanes, type Lane } from './lanes.ts';
import { VehicleOwners } from './owners.ts';
import { TelemetryPartitions } from './partitions.ts';

export interface TelemetryIngestOptions extends IngestOptions {
  /** [1...256] MQTT connections of this process on the shared subscription, default 8. */
  connections?: number;
  /** [0...1000] ms, default 2: how long a group waits for more messages before committing. */
  groupWindowMs?: number;
  /**
   * [1 KiB...64 MiB] payload bytes per group transaction, default 256 KiB (about 5,000-12,000
   * binary samples): a bigger group commits later, holding up the live samples in it.
   */
  maxGroupBytes?: number;
  /** [1...32] transactions in flight at once, default 2 (the next group fills while one commits). */
  maxConcurrentFlushes?: number;
  /**
   * [0...10000] ms, default 40: while live messages take longer than this from arrival to COMMIT
   * (a moving average), backfill groups wait, up to `backfillMaxHoldMs` between two of them, so a
   * draining backlog never pushes live latency up. 0 = backfill never yields.
   */
  backfillYieldMs?: number;
  /** [0...60000] ms, default 250: the longest backfill waits while live is slow (it always moves). */
  backfillMaxHoldMs?: number;
  /** [0...1000000] messages taken in before their COMMIT (early PUBACK), default 20,000; 0 = never. */
  maxUncommitted?: number;
  /** Test hook: awaited inside every group transaction before COMMIT (a slow database). */
  beforeCommit?: (db: pg.PoolClient) => Promise<void>;
  /** Bench/test hook: called after each COMMIT with its time and the batches it stored. */
  onCommit?: (committedAt: number, batches: readonly TelemetryBatch[]) => void;
}

export interface IngestStats {
  /** Telemetry messages (batches) committed. */
  batches: number;
  samplesInserted: number;
  samplesDuplicate: number;
  /** Status messages applied (older ones included: they were processed, just not newer). */
  statuses: number;
  deadLetters: number;
  dbRetries: number;
  /** Transactions committed (each holds one or more messages). */
  groups: number;
  /** Samples of batches flagged historical (backfill) by the agent, when it says so. */
  samplesHistorical: number;
  /**
   * Growth of the unsynced samples agents report having evicted from their disk budget (never
   * reached the cloud), as committed to vehicle_agent_drops by this process.
   */
  agentEvictedSamples: number;
  /** TelemetryAck messages published to agents after COMMIT (stored and refused). */
  acksSent: number;
  /** Messages PUBACKed on arrival (their agents wait for the TelemetryAck). */
  earlyAcks: number;
}

/** A message received and not yet committed. */
interface Pending extends Answerable {
  /** performance.now() at arrival: live latency inside this process is measured from here. */
  at: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class TelemetryIngest {
  readonly stats: IngestStats = {
    batches: 0,
    samplesInserted: 0,
    samplesDuplicate: 0,
    statuses: 0,
    deadLetters: 0,
    dbRetries: 0,
    groups: 0,
    samplesHistorical: 0,
    agentEvictedSamples: 0,
    acksSent: 0,
    earlyAcks: 0,
  };
  /** How the broker was subscribed: shared (MQTT 5) or plain (fallback). */
  mode: 'shared' | 'plain' = 'plain';
  private clients: mqtt.MqttClient[] = [];
  private stopping = false;
  private readonly lanes: IngestLanes<Pending>;
  private readonly owners: VehicleOwners;
  private readonly partitions: TelemetryPartitions;
  private readonly geofences = new GeofenceWatch();
  /** vehicle -> highest eviction counters its agent reported, as committed to vehicle_agent_drops. */
  private readonly agentDropped = new Map<string, AgentDrops>();
  private timer: NodeJS.Timeout | undefined;
  private backfillTimer: NodeJS.Timeout | undefined;
  private flushing = 0;
  /** Messages in the groups being committed right now. */
  private inTransaction = 0;

  constructor(private readonly opts: TelemetryIngestOptions) {
    this.lanes = new IngestLanes(opts);
    this.owners = new VehicleOwners(opts.autoRegisterVehicles);
    this.partitions = new TelemetryPartitions(opts.pool, opts.log);
  }

  /** Client ids of the connections this ingest opened (their persistent sessions). */
  get clientIds(): string[] {
    return this.clients.map((c) => c.options.clientId as string);
  }

  async start(): Promise<void> {
    await this.partitions.start();
    const { clients, mode } = await subscribeIngest({
      ...this.opts,
      sharedGroup: this.opts.sharedGroup ?? 'fleet-ingest',
      filters: [fleetFilter('telemetry', this.opts.baseTopic), fleetFilter('status', this.opts.baseTopic)],
      connections: Math.max(1, Math.min(256, this.opts.connections ?? 8)),
      clientIdOf: (i) => `${this.opts.clientId}-${i}`,
      logContext: { ingest: 'telemetry' },
      onMessage: (client, packet, done) => this.receive(client, packet, done),
    });
    this.clients = clients;
    this.mode = mode;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.partitions.stop();
    clearTimeout(this.backfillTimer);
    clearTimeout(this.timer);
    for (const p of this.lanes.drain()) p.reject(new Error('ingest stopping'));
    await Promise.all(this.clients.map((c) => c.endAsync()));
  }

  /** mqtt.js sends the PUBACK when `done` runs: on arrival for `ack=cloud` batches, else after COMMIT. */
  private receive(client: mqtt.MqttClient, packet: mqtt.IPublishPacket, done: () => void) {
    const props = packet.properties?.userProperties;
    const committed = this.enqueue(
      packet.topic,
      packet.payload as Buffer,
      client,
      props?.historical === 'true',
    );
    if (
      props?.ack === 'cloud' &&
      this.lanes.waiting + this.inTransaction <= (this.opts.maxUncommitted ?? 20_000)
    ) {
      this.stats.earlyAcks++;
      done();
      committed.catch(() => {}); // stopping: the agent resends what we never acked
      return;
    }
    committed.then(
      () => done(),
      (err: unknown) => {
        // Only reached when stopping: leave the message un-acked for the next run.
        this.opts.log.warn({ err: (err as Error).message }, 'message left unacknowledged');
      },
    );
  }

  private enqueue(
    topic: string,
    payload: Buffer,
    client: mqtt.MqttClient,
    historical: boolean,
  ): Promise<void> {
    if (this.stopping) return Promise.reject(new Error('ingest stopping'));
    return new Promise<void>((resolve, reject) => {
      this.lanes.add({ topic, payload, client, at: performance.now(), resolve, reject }, historical);
      this.schedule();
    });
  }

  /** The lane that may go now; while backfill is held, looks again when the hold runs out. */
  private nextLane(): Lane | undefined {
    const next = this.lanes.next(performance.now());
    if (next === null) return undefined;
    if ('lane' in next) return next.lane;
    // In case no live commit comes to call schedule() first.
    this.backfillTimer ??= setTimeout(() => {
      this.backfillTimer = undefined;
      this.schedule();
    }, next.holdMs);
    return undefined;
  }

  private schedule() {
    if (this.timer || !this.nextLane()) return;
    if (this.flushing >= (this.opts.maxConcurrentFlushes ?? 2)) return; // resumes when one ends
    // Every connection already waits for us: nothing more can arrive, commit now.
    const full = this.lanes.waiting >= this.clients.length;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        void this.flush();
      },
      full ? 0 : (this.opts.groupWindowMs ?? 2),
    );
  }

  private async flush() {
    const lane = this.nextLane();
    if (!lane) return;
    const group = this.lanes.take(lane, performance.now());
    this.flushing++;
    this.inTransaction += group.length;
    // More than one group's worth waiting: start the next transaction now, not after this one.
    this.schedule();
    let committedAt: number | undefined;
    try {
      const acks = await this.store(group, lane);
      committedAt = performance.now();
      for (const p of group) p.resolve();
      sendAcks(acks, (err, topic) => {
        if (!this.stopping) this.opts.log.debug({ err: err.message, topic }, 'ack not sent');
      });
      this.stats.acksSent += acks.length;
    } catch (err) {
      for (const p of group) p.reject(err as Error);
    } finally {
      this.lanes.done(lane, group, committedAt);
      this.flushing--;
      this.inTransaction -= group.length;
      this.schedule();
    }
  }

  /** Commits the group (retried on database errors) and counts; returns the answers to send. */
  private async store(group: Pending[], lane: Lane): Promise<OutgoingAck[]> {
    const { log } = this.opts;
    const classified = group.map((p) => classify(p, p.topic, p.payload, this.opts.baseTopic));
    let commitMs = 0;
    const { plan, inserted, acks } = await retryDatabase(
      async () => {
        // Outside the group's transaction: creating a partition locks the parent table briefly.
        await this.partitions.ensureFor(
          classified.flatMap((c) => (c.kind === 'telemetry' ? c.batch.samples.map((s) => s.ts) : [])),
        );
        const began = performance.now();
        const committed = await commitGroup(
          {
            pool: this.opts.pool,
            baseTopic: this.opts.baseTopic,
            owners: this.owners,
            geofences: this.geofences,
            knownDrops: (v) => this.agentDropped.get(v),
            log,
            beforeCommit: this.opts.beforeCommit,
          },
          classified,
        );
        commitMs = performance.now() - began;
        return committed;
      },
      {
        firstDelayMs: this.opts.retryDelayMs,
        stopping: () => this.stopping,
        onRetry: (err, retryInMs) => {
          this.stats.dbRetries++;
          // A partition dropped behind our back (retention): look again next time.
          if ((err as { code?: string }).code === '23514') this.partitions.forget();
          log.warn(
            { messages: group.length, err: err.message, retryInMs },
            'database write failed; retrying',
          );
        },
      },
    );
    this.opts.onCommit?.(Date.now(), plan.batches);
    let evicted = 0;
    for (const d of plan.drops.values()) {
      evicted += d.rawUnsynced - (this.agentDropped.get(d.vehicleId)?.rawUnsynced ?? 0);
      this.agentDropped.set(d.vehicleId, d);
    }
    const samples = plan.rows.seq.length;
    this.stats.groups++;
    this.stats.batches += plan.batches.length;
    this.stats.statuses += plan.statuses.length;
    this.stats.samplesInserted += inserted;
    this.stats.samplesDuplicate += samples - inserted;
    this.stats.samplesHistorical += plan.historical;
    this.stats.agentEvictedSamples += evicted;
    this.stats.deadLetters += plan.letters.length;
    // Once per group, never per sample: the live path's CPU per message matters.
    recordTelemetryGroup({
      lane,
      messages: group.length,
      samples,
      commitSeconds: commitMs / 1000,
      batches: plan.batches,
      committedAt: Date.now(),
    });
    for (const l of plan.letters) {
      log.warn({ topic: l.topic, reason: l.reason, bytes: l.payload.byteLength }, 'payload dead-lettered');
      countReject('telemetry', l.reason);
    }
    if (evicted > 0) log.warn({ evicted }, 'agents report unsynced samples evicted');
    log.debug({ messages: group.length, samples, inserted }, 'group stored');
    return acks;
  }
}
