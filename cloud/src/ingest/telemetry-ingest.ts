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
import type pg from 'pg';
import { GeofenceWatch } from '../alerts/geofence-watch.ts';
import type { AgentDrops } from '../db/queries/upsert-agent-drops.ts';
import { countReject, recordTelemetryGroup } from '../metrics/ingest-metrics.ts';
import { type OutgoingAck, sendAcks } from './acks.ts';
import { type Classified, classify } from './classify.ts';
import { retryDatabase } from './db-retry.ts';
import { type Answerable, commitGroup } from './group-commit.ts';
import type { IngestConnection, IngestMode, IngestOptions, IngestPacket } from './ingest-client.ts';
import { subscribeSource } from './ingest-source.ts';
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
  /**
   * [1...32] transactions in flight at once, default 2: the next group fills while one commits,
   * and starts beside it only when it is full (maxGroupBytes) or is backfill.
   */
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
  /** Sends the PUBACK after the COMMIT (no error) or leaves it unsent; none when PUBACKed on arrival. */
  settle: ((err?: Error) => void) | undefined;
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
  /** How the broker was subscribed: shared (MQTT 5), plain (fallback) or JetStream. */
  mode: IngestMode = 'plain';
  private clients: IngestConnection[] = [];
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
  /** Of those, live groups: the next live group waits for them (schedule). */
  private liveFlushing = 0;
  /** Messages in the groups being committed right now. */
  private inTransaction = 0;
  /** Messages whose PUBACK waits for their COMMIT: each holds its connection's next message back. */
  private blocked = 0;

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
    const { clients, mode } = await subscribeSource({
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
    const stopping = new Error('ingest stopping');
    for (const p of this.lanes.drain()) p.settle?.(stopping);
    await Promise.all(this.clients.map((c) => c.endAsync()));
  }

  /** mqtt.js sends the PUBACK when `done` runs: on arrival for `ack=cloud` batches, else after COMMIT. */
  private receive(client: IngestConnection, packet: IngestPacket, done: () => void) {
    const props = packet.properties?.userProperties;
    // No promise or closure per message on the live path: `settle` is set only where the
    // PUBACK waits for the COMMIT.
    const early =
      props?.ack === 'cloud' &&
      this.lanes.waiting + this.inTransaction <= (this.opts.maxUncommitted ?? 20_000);
    if (this.stopping) {
      // As before: an agent that waits for our ack resends what we never stored; anything else
      // stays un-acked for the next run.
      if (early) {
        this.stats.earlyAcks++;
        done();
      } else this.leftUnacked(new Error('ingest stopping'));
      return;
    }
    this.lanes.add(
      {
        topic: packet.topic,
        payload: packet.payload as Buffer,
        client,
        at: performance.now(),
        settle: early
          ? undefined
          : (err) => {
              this.blocked--;
              if (err) this.leftUnacked(err);
              else done();
            },
      },
      props?.historical === 'true',
    );
    if (early) {
      // The agent resends what we never acked (stopping, or a crash before the COMMIT).
      this.stats.earlyAcks++;
      done();
    } else this.blocked++;
    this.schedule();
  }

  private leftUnacked(err: Error) {
    // Only reached when stopping: leave the message un-acked for the next run.
    this.opts.log.warn({ err: err.message }, 'message left unacknowledged');
  }

  /**
   * The lane that may go now (`liveHeld`: not live); while backfill is held, looks again when the
   * hold runs out.
   */
  private nextLane(liveHeld = false): Lane | undefined {
    const next = this.lanes.next(performance.now(), liveHeld);
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
    if (this.timer) return;
    if (this.flushing >= (this.opts.maxConcurrentFlushes ?? 2)) return; // resumes when one ends
    // Every connection already waits for a COMMIT of ours before it hands over its next message:
    // nothing more can arrive, commit now. Messages PUBACKed on arrival block nothing: counting
    // them made a few connections commit every few messages (groups of 8 at 20,000 messages/s).
    const full = this.blocked >= this.clients.length;
    // While a live transaction commits, the next live group fills; it starts beside it only once it
    // is a full group (a backlog) or nothing more can arrive, else when that one ends. A
    // transaction costs PostgreSQL about 2 ms of CPU besides its rows (bench: 20 one-sample
    // messages per transaction cost it 100-160 µs per message, 200 about 35): starting one every
    // groupWindowMs beside the running one spent a core on groups of a few dozen messages at
    // 10,000 messages/s. Backfill keeps its own pace (lanes.ts).
    const liveHeld = this.liveFlushing > 0 && !full && !this.lanes.liveGroupFull;
    const lane = this.nextLane(liveHeld);
    if (!lane) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        void this.flush(lane);
      },
      full ? 0 : (this.opts.groupWindowMs ?? 2),
    );
  }

  private async flush(lane: Lane) {
    const group = this.lanes.take(lane, performance.now());
    if (group.length === 0) {
      this.lanes.done(lane, group);
      this.schedule();
      return;
    }
    this.flushing++;
    if (lane === 'live') this.liveFlushing++;
    this.inTransaction += group.length;
    // More than one group's worth waiting: start the next transaction now, not after this one.
    this.schedule();
    let committedAt: number | undefined;
    try {
      const acks = await this.store(group, lane);
      committedAt = performance.now();
      for (const p of group) p.settle?.();
      sendAcks(acks, (err, topic) => {
        if (!this.stopping) this.opts.log.debug({ err: err.message, topic }, 'ack not sent');
      });
      this.stats.acksSent += acks.length;
    } catch (err) {
      for (const p of group) p.settle?.(err as Error);
    } finally {
      this.lanes.done(lane, group, committedAt);
      this.flushing--;
      if (lane === 'live') this.liveFlushing--;
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
        await this.partitions.ensureFor(sampleTimes(classified));
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

/** The samples' times of a group, without an array per message. */
function* sampleTimes(classified: readonly Classified<Pending>[]): Iterable<number> {
  for (const c of classified) if (c.kind === 'telemetry') for (const s of c.batch.samples) yield s.ts;
}
