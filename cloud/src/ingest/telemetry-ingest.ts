/**
 *                 $share/{group}/{base}/v1/+/+/{telemetry,status}
 *   broker ==QoS 1==> connection 0 ─┐
 *          ==QoS 1==> connection 1 ─┼─> pending ──(window)──> group commit ──> done() x n ──> PUBACK x n
 *          ==QoS 1==> connection k ─┘      │          BEGIN; owners; samples → keys → telemetry
 *                                          │                 → minute rollup → latest;
 *                                          │                 statuses; dead letters; COMMIT
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
 * Brokers without shared subscriptions (the embedded aedes speaks MQTT 3.1.1 only) get one
 * connection with a plain subscription: the MQTT 5 CONNECT is refused there, or the CONNACK says
 * `sharedSubscriptionAvailable: false`, and the ingest falls back (`sharedGroup: false` forces it).
 *
 * Refused payloads go to dead_letters with their reason in the same transaction and are acked.
 *
 * End-to-end acknowledgement: a broker PUBACK is not storage (a broker crash loses what it had
 * not yet written; after a restart Mosquitto drops batches for a shared group whose member has
 * not resubscribed yet). So after each COMMIT the ingest publishes a TelemetryAck on the
 * vehicle's `ack` topic for every batch that carries a batchSeq, and only that moves the agent's
 * cursor; an agent resends what stays unanswered, and (vehicle, seq) makes the resend harmless.
 */
import {
  DROP_COUNTER_NAMES,
  type DropCounters,
  decodeTelemetryBatch,
  fleetFilter,
  parseVehicleTopic,
  type TelemetryAck,
  type TelemetryBatch,
  VehicleStatus,
  vehicleTopic,
} from '@fleet/shared';
import { type Logger, safeUrl } from '@fleet/shared/log';
import type mqtt from 'mqtt';
import type pg from 'pg';
import { daysAhead, ensureTelemetryPartitions, utcDay } from '../db/queries/ensure-telemetry-partitions.ts';
import { type DeadLetter, insertDeadLetters } from '../db/queries/insert-dead-letter.ts';
import { emptyTelemetryColumns, insertTelemetryRows } from '../db/queries/insert-telemetry-rows.ts';
import { findVehicleTenants, registerVehicles } from '../db/queries/register-vehicles.ts';
import { updateVehicleStatus } from '../db/queries/update-vehicle-status.ts';
import { type AgentDrops, upsertAgentDrops } from '../db/queries/upsert-agent-drops.ts';
import { connectIngestClient } from './ingest-client.ts';

export interface TelemetryIngestOptions {
  pool: pg.Pool;
  mqttUrl: string;
  mqttUsername?: string | undefined;
  mqttPassword?: string | undefined;
  baseTopic: string;
  /**
   * Stable client id prefix: connection i is `${clientId}-${i}`. With persistent sessions the
   * broker keeps QoS 1 messages while we are away.
   */
  clientId: string;
  autoRegisterVehicles: boolean;
  log: Logger;
  /** [100...60000] ms, default 500: first retry delay after a database error, doubled up to 10 s. */
  retryDelayMs?: number;
  /**
   * Shared-subscription group, default `fleet-ingest`: every ingest process of one deployment
   * uses the same group so each message goes to exactly one of them. `false`: plain
   * subscription on a single connection (brokers without MQTT 5).
   */
  sharedGroup?: string | false;
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

interface Pending {
  topic: string;
  payload: Buffer;
  /** performance.now() at arrival: live latency inside this process is measured from here. */
  at: number;
  /** The connection the message came in on; its ack goes out on the same one. */
  client: mqtt.MqttClient;
  resolve: () => void;
  reject: (err: Error) => void;
}

type Classified =
  | { kind: 'telemetry'; item: Pending; tenantId: string; vehicleId: string; batch: TelemetryBatch }
  | { kind: 'status'; item: Pending; tenantId: string; vehicleId: string; status: VehicleStatus }
  | { kind: 'dead'; item: Pending; reason: string; refusedBatch?: Addressed };

/** A decoded batch and the vehicle topic it came from: enough to answer it. */
interface Addressed {
  tenantId: string;
  vehicleId: string;
  batch: TelemetryBatch;
}

interface OutgoingAck {
  client: mqtt.MqttClient;
  topic: string;
  payload: string;
}

const NO_DROPS: DropCounters = { rawSynced: 0, rawUnsynced: 0, rollups: 0, events: 0 };
const MAINTENANCE_INTERVAL_MS = 3600_000;

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
  private clients: mqtt.MqttClient[] = [];
  private stopping = false;
  /** Received, not yet in a transaction: live (and unflagged) messages, and flagged backfill. */
  private pending: Pending[] = [];
  private backfill: Pending[] = [];
  private backfillFlushing = false;
  /** Moving average of live messages' arrival -> COMMIT, ms; and when live last committed. */
  private liveLatencyMs = 0;
  private liveCommittedAt = Number.NEGATIVE_INFINITY;
  /** When the last backfill group started (performance.now()). */
  private backfillStartedAt = Number.NEGATIVE_INFINITY;
  private backfillTimer: NodeJS.Timeout | undefined;
  private flushing = 0;
  /** Messages in the groups being committed right now. */
  private inTransaction = 0;
  private timer: NodeJS.Timeout | undefined;
  private maintenance: NodeJS.Timeout | undefined;
  /** vehicle -> tenant, only from committed rows (ownership never changes once registered). */
  private readonly owners = new Map<string, string>();
  /** vehicle -> highest eviction counters its agent reported, as committed to vehicle_agent_drops. */
  private readonly agentDropped = new Map<string, DropCounters>();
  /** Days whose partition is known to exist. */
  private readonly days = new Set<string>();
  /** How the broker was subscribed: shared (MQTT 5) or plain (fallback). */
  mode: 'shared' | 'plain' = 'plain';

  constructor(private readonly opts: TelemetryIngestOptions) {}

  /** Client ids of the connections this ingest opened (their persistent sessions). */
  get clientIds(): string[] {
    return this.clients.map((c) => c.options.clientId as string);
  }

  async start(): Promise<void> {
    const { log } = this.opts;
    await this.runMaintenance();
    this.maintenance = setInterval(() => void this.runMaintenance(), MAINTENANCE_INTERVAL_MS);
    this.maintenance.unref();

    const group = this.opts.sharedGroup ?? 'fleet-ingest';
    const wanted = Math.max(1, Math.min(256, this.opts.connections ?? 8));
    let first: mqtt.MqttClient | undefined;
    if (group !== false) {
      first = await this.connect(0, 5).catch((err: unknown) => {
        log.info({ err: (err as Error).message }, 'MQTT 5 refused; falling back to one plain subscription');
        return undefined;
      });
      if (first && !this.sharedAvailable) {
        log.info('broker has no shared subscriptions; falling back to one plain subscription');
        await first.endAsync();
        first = undefined;
      }
    }
    const filters = [
      fleetFilter('telemetry', this.opts.baseTopic),
      fleetFilter('status', this.opts.baseTopic),
    ];
    if (first && group !== false) {
      this.mode = 'shared';
      const shared = filters.map((f) => `$share/${group}/${f}`);
      this.clients.push(first);
      for (let i = 1; i < wanted; i++) this.clients.push(await this.connect(i, 5));
      await Promise.all(this.clients.map((c) => c.subscribeAsync(shared, { qos: 1 })));
      for (const c of this.clients) this.resubscribeOnReconnect(c, shared);
      log.info(
        { broker: safeUrl(this.opts.mqttUrl), filters: shared, connections: this.clients.length },
        'ingest subscribed (shared)',
      );
    } else {
      this.mode = 'plain';
      const client = await this.connect(0, 4);
      this.clients.push(client);
      await client.subscribeAsync(filters, { qos: 1 });
      this.resubscribeOnReconnect(client, filters);
      log.info({ broker: safeUrl(this.opts.mqttUrl), filters }, 'ingest subscribed (plain)');
    }
  }

  private sharedAvailable = true;

  /**
   * Subscribe again after every reconnect. mqtt.js resubscribes only when the broker says the
   * session is gone, but Mosquitto 2.0 restores a persistent session after a restart without its
   * shared subscriptions: the ingest would be subscribed to nothing while agents' batches are
   * PUBACKed by the broker and dropped (cloud/test/faults.test.ts). A plain `subscribe` of a
   * filter mqtt.js already lists is a silent no-op; the `resubscribe` flag sends it for real.
   */
  private resubscribeOnReconnect(client: mqtt.MqttClient, filters: string[]) {
    client.on('connect', () => {
      // mqtt.js's type cannot express the flag next to the filters (index signature).
      const map = { ...Object.fromEntries(filters.map((f) => [f, { qos: 1 }])), resubscribe: true };
      client.subscribe(map as unknown as mqtt.ISubscriptionMap, (err) => {
        if (err) this.opts.log.error({ err: err.message }, 'resubscribe after reconnect failed');
      });
    });
  }

  private async connect(index: number, protocolVersion: 4 | 5): Promise<mqtt.MqttClient> {
    const { log } = this.opts;
    const { client, sharedSubscriptionAvailable } = await connectIngestClient({
      mqttUrl: this.opts.mqttUrl,
      mqttUsername: this.opts.mqttUsername,
      mqttPassword: this.opts.mqttPassword,
      clientId: `${this.opts.clientId}-${index}`,
      protocolVersion,
      log,
      logContext: { connection: index },
      onMessage: (client, packet, done) => {
        const props = packet.properties?.userProperties;
        const committed = this.enqueue(
          packet.topic,
          packet.payload as Buffer,
          client,
          props?.historical === 'true',
        );
        if (
          props?.ack === 'cloud' &&
          this.pending.length + this.backfill.length + this.inTransaction <=
            (this.opts.maxUncommitted ?? 20_000)
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
            log.warn({ err: (err as Error).message }, 'message left unacknowledged');
          },
        );
      },
    });
    if (!sharedSubscriptionAvailable) this.sharedAvailable = false;
    return client;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.maintenance);
    clearTimeout(this.backfillTimer);
    clearTimeout(this.timer);
    const left = [...this.pending.splice(0), ...this.backfill.splice(0)];
    for (const p of left) p.reject(new Error('ingest stopping'));
    await Promise.all(this.clients.map((c) => c.endAsync()));
  }

  private enqueue(
    topic: string,
    payload: Buffer,
    client: mqtt.MqttClient,
    historical = false,
  ): Promise<void> {
    if (this.stopping) return Promise.reject(new Error('ingest stopping'));
    return new Promise<void>((resolve, reject) => {
      (historical ? this.backfill : this.pending).push({
        topic,
        payload,
        client,
        at: performance.now(),
        resolve,
        reject,
      });
      this.schedule();
    });
  }

  /**
   * Two lanes: live messages (and anything not flagged) always go first; backfill flagged
   * `historical` by the agent's MQTT 5 user property is committed in groups of its own, one at a
   * time, so a week-long backlog never sits in the transaction a live sample waits for and
   * never holds every transaction slot. And it yields: on two cores a backfill group competes
   * with the live ones for the CPU the database runs on, so while live messages are slower than
   * `backfillYieldMs` from arrival to COMMIT the next backfill group waits (at most
   * `backfillMaxHoldMs`): the backlog drains with what live traffic leaves over.
   */
  private nextLane(): Pending[] | undefined {
    if (this.pending.length > 0) return this.pending;
    if (this.backfill.length > 0 && !this.backfillFlushing && this.backfillMayGo()) return this.backfill;
    return undefined;
  }

  private backfillMayGo(): boolean {
    const yieldMs = this.opts.backfillYieldMs ?? 40;
    const now = performance.now();
    const liveRecently = now - this.liveCommittedAt < 1000;
    if (yieldMs === 0 || !liveRecently || this.liveLatencyMs <= yieldMs) return true;
    const hold = this.opts.backfillMaxHoldMs ?? 250;
    if (now - this.backfillStartedAt >= hold) return true;
    // Look again when the hold runs out, in case no live commit comes to call schedule() first.
    if (!this.backfillTimer) {
      this.backfillTimer = setTimeout(
        () => {
          this.backfillTimer = undefined;
          this.schedule();
        },
        hold - (now - this.backfillStartedAt),
      );
    }
    return false;
  }

  private schedule() {
    if (this.timer || !this.nextLane()) return;
    if (this.flushing >= (this.opts.maxConcurrentFlushes ?? 2)) return; // resumes when one ends
    // Every connection already waits for us: nothing more can arrive, commit now.
    const full = this.pending.length + this.backfill.length >= this.clients.length;
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
    const cap = this.opts.maxGroupBytes ?? 256 * 1024;
    let n = 0;
    for (let bytes = 0; n < lane.length && (n === 0 || bytes + lane[n]!.payload.byteLength <= cap); n++)
      bytes += lane[n]!.payload.byteLength;
    const group = lane.splice(0, n);
    const isBackfill = lane === this.backfill;
    this.flushing++;
    if (isBackfill) {
      this.backfillFlushing = true;
      this.backfillStartedAt = performance.now();
    }
    this.inTransaction += group.length;
    // More than one group's worth waiting: start the next transaction now, not after this one.
    this.schedule();
    try {
      const acks = await this.storeWithRetry(group);
      if (!isBackfill) {
        const now = performance.now();
        this.liveLatencyMs = 0.8 * this.liveLatencyMs + 0.2 * (now - group[0]!.at);
        this.liveCommittedAt = now;
      }
      for (const p of group) p.resolve();
      this.sendAcks(acks);
    } catch (err) {
      for (const p of group) p.reject(err as Error);
    } finally {
      this.flushing--;
      if (isBackfill) this.backfillFlushing = false;
      this.inTransaction -= group.length;
      this.schedule();
    }
  }

  /**
   * QoS 0 and not awaited: an ack is idempotent and a lost one costs one resend from the agent,
   * which the (vehicle, seq) key turns into a duplicate count, never a row; QoS 1 would double
   * the broker's packets for it (a PUBACK each way) at 10,000 vehicles x 1 Hz (bench/ingest.ts).
   */
  private sendAcks(acks: OutgoingAck[]) {
    for (const a of acks) {
      a.client.publish(a.topic, a.payload, { qos: 0 }, (err) => {
        if (err && !this.stopping) this.opts.log.debug({ err: err.message, topic: a.topic }, 'ack not sent');
      });
    }
    this.stats.acksSent += acks.length;
  }

  private async storeWithRetry(group: Pending[]): Promise<OutgoingAck[]> {
    let delay = this.opts.retryDelayMs ?? 500;
    const classified = group.map((item) => this.classify(item));
    for (;;) {
      try {
        return await this.store(classified);
      } catch (err) {
        if (this.stopping) throw err;
        this.stats.dbRetries++;
        // A partition dropped behind our back (retention): look again next time.
        if ((err as { code?: string }).code === '23514') this.days.clear();
        this.opts.log.warn(
          { messages: group.length, err: (err as Error).message, retryInMs: delay },
          'database write failed; retrying',
        );
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 10_000);
      }
    }
  }

  /** Everything that can be refused without the database. */
  private classify(item: Pending): Classified {
    const dead = (reason: string, refusedBatch?: Addressed): Classified => ({
      kind: 'dead',
      item,
      reason,
      ...(refusedBatch ? { refusedBatch } : {}),
    });
    const parsed = parseVehicleTopic(item.topic, this.opts.baseTopic);
    if (!parsed) return dead('topic outside the namespace');
    const { tenantId, vehicleId, kind } = parsed;
    if (kind === 'ack') return dead('ack topics are cloud-to-vehicle');
    if (kind === 'status') {
      try {
        const status = VehicleStatus.parse(JSON.parse(item.payload.toString('utf8')));
        return { kind: 'status', item, tenantId, vehicleId, status };
      } catch (err) {
        return dead(`bad status payload: ${(err as Error).message}`);
      }
    }
    const decoded = decodeTelemetryBatch(item.payload);
    if (!decoded.ok) return dead(decoded.reason);
    if (decoded.batch.vehicleId !== vehicleId) {
      return dead(
        `payload vehicle "${decoded.batch.vehicleId}" does not match topic vehicle "${vehicleId}"`,
        {
          tenantId,
          vehicleId,
          batch: decoded.batch,
        },
      );
    }
    return { kind: 'telemetry', item, tenantId, vehicleId, batch: decoded.batch };
  }

  private ack(to: Addressed, client: mqtt.MqttClient, reason?: string): OutgoingAck | null {
    const { batch } = to;
    if (batch.batchSeq === undefined) return null; // a v1 publisher that does not wait for acks
    let first = Number.MAX_SAFE_INTEGER;
    let last = 0;
    for (const s of batch.samples) {
      if (s.seq < first) first = s.seq;
      if (s.seq > last) last = s.seq;
    }
    const ack: TelemetryAck = {
      v: 1,
      batchSeq: batch.batchSeq,
      status: reason === undefined ? 'stored' : 'refused',
      first,
      last,
      ...(reason === undefined ? {} : { reason: reason.slice(0, 500) }),
    };
    return {
      client,
      topic: vehicleTopic('ack', to.tenantId, to.vehicleId, this.opts.baseTopic),
      payload: JSON.stringify(ack),
    };
  }

  private async store(classified: Classified[]): Promise<OutgoingAck[]> {
    const { pool } = this.opts;
    const newDays = new Set<string>();
    for (const c of classified) {
      if (c.kind !== 'telemetry') continue;
      for (const s of c.batch.samples) {
        const day = utcDay(s.ts);
        if (!this.days.has(day)) newDays.add(day);
      }
    }
    // Outside the group's transaction: creating a partition locks the parent table briefly.
    if (newDays.size > 0) {
      await ensureTelemetryPartitions(pool, [...newDays]);
      for (const d of newDays) this.days.add(d);
    }

    const db = await pool.connect();
    // pg-pool removes its own listener while a client is checked out: without one, a server
    // restart between two queries would be an uncaught 'error' and crash the process. The
    // failing query rejects anyway, and the group is retried.
    const onClientError = (err: Error) =>
      this.opts.log.warn({ err: err.message }, 'database connection lost');
    db.on('error', onClientError);
    let owners: Map<string, string>;
    let inserted = 0;
    let samples = 0;
    let historical = 0;
    let evicted = 0;
    let batches = 0;
    let statuses = 0;
    const letters: DeadLetter[] = [];
    const stored: TelemetryBatch[] = [];
    const acks: OutgoingAck[] = [];
    const drops = new Map<string, AgentDrops>();
    const refuse = (c: Classified, reason: string, to?: Addressed) => {
      letters.push({ topic: c.item.topic, reason, payload: c.item.payload });
      const a = to && this.ack(to, c.item.client, reason);
      if (a) acks.push(a);
    };
    try {
      await db.query('BEGIN');
      owners = await this.resolveOwners(db, classified);
      const rows = emptyTelemetryColumns();
      const statusUpdates: Extract<Classified, { kind: 'status' }>[] = [];
      for (const c of classified) {
        if (c.kind === 'dead') {
          refuse(c, c.reason, c.refusedBatch);
          continue;
        }
        const to = c.kind === 'telemetry' ? c : undefined;
        const owner = owners.get(c.vehicleId);
        if (owner === undefined) {
          refuse(c, `vehicle "${c.vehicleId}" is not registered`, to);
          continue;
        }
        if (owner !== c.tenantId) {
          refuse(c, `vehicle "${c.vehicleId}" does not belong to tenant "${c.tenantId}"`, to);
          continue;
        }
        if (c.kind === 'status') {
          statusUpdates.push(c);
          continue;
        }
        batches++;
        stored.push(c.batch);
        const a = this.ack(c, c.item.client);
        if (a) acks.push(a);
        if (c.batch.historical === true) historical += c.batch.samples.length;
        // Cumulative on the agent: written only when a figure grew past the highest one known.
        const reported = c.batch.dropped;
        if (reported) {
          const prev = drops.get(c.vehicleId) ?? this.agentDropped.get(c.vehicleId) ?? NO_DROPS;
          if (DROP_COUNTER_NAMES.some((k) => reported[k] > prev[k])) {
            const next = { tenantId: c.tenantId, vehicleId: c.vehicleId, ...prev };
            for (const k of DROP_COUNTER_NAMES) next[k] = Math.max(prev[k], reported[k]);
            drops.set(c.vehicleId, next);
          }
        }
        for (const s of c.batch.samples) {
          rows.tenantId.push(c.tenantId);
          rows.vehicleId.push(c.vehicleId);
          rows.seq.push(s.seq);
          rows.tsMs.push(s.ts);
          rows.lat.push(s.lat);
          rows.lon.push(s.lon);
          rows.speedKmh.push(s.speedKmh);
          rows.rpm.push(s.rpm);
          rows.fuelLevelPct.push(s.fuelLevelPct);
          rows.coolantC.push(s.coolantC);
        }
      }
      samples = rows.seq.length;
      inserted = await insertTelemetryRows(db, rows);
      for (const s of statusUpdates) {
        await updateVehicleStatus(db, s.vehicleId, s.status.state === 'online', s.status.ts);
        statuses++;
      }
      await upsertAgentDrops(db, [...drops.values()]);
      await insertDeadLetters(db, letters);
      if (this.opts.beforeCommit) await this.opts.beforeCommit(db);
      await db.query('COMMIT');
    } catch (err) {
      await db.query('ROLLBACK').catch(() => {});
      db.off('error', onClientError);
      // A broken connection must not go back to the pool.
      db.release(err as Error);
      throw err;
    }
    db.off('error', onClientError);
    db.release();
    this.opts.onCommit?.(Date.now(), stored);
    for (const [v, t] of owners) this.owners.set(v, t);
    for (const d of drops.values()) {
      evicted += d.rawUnsynced - (this.agentDropped.get(d.vehicleId)?.rawUnsynced ?? 0);
      this.agentDropped.set(d.vehicleId, d);
    }
    this.stats.groups++;
    this.stats.batches += batches;
    this.stats.statuses += statuses;
    this.stats.samplesInserted += inserted;
    this.stats.samplesDuplicate += samples - inserted;
    this.stats.samplesHistorical += historical;
    this.stats.agentEvictedSamples += evicted;
    this.stats.deadLetters += letters.length;
    for (const l of letters) {
      this.opts.log.warn(
        { topic: l.topic, reason: l.reason, bytes: l.payload.byteLength },
        'payload dead-lettered',
      );
    }
    if (evicted > 0) this.opts.log.warn({ evicted }, 'agents report unsynced samples evicted');
    this.opts.log.debug({ messages: classified.length, samples, inserted }, 'group stored');
    return acks;
  }

  /** Owner tenant of every vehicle the group names; unknown vehicles registered if allowed. */
  private async resolveOwners(db: pg.PoolClient, classified: Classified[]): Promise<Map<string, string>> {
    const owners = new Map<string, string>();
    const claims: { tenantId: string; vehicleId: string }[] = [];
    for (const c of classified) {
      if (c.kind === 'dead') continue;
      const known = this.owners.get(c.vehicleId);
      if (known !== undefined) owners.set(c.vehicleId, known);
      else claims.push({ tenantId: c.tenantId, vehicleId: c.vehicleId });
    }
    if (claims.length === 0) return owners;
    const found = this.opts.autoRegisterVehicles
      ? await registerVehicles(db, claims)
      : await findVehicleTenants(
          db,
          claims.map((c) => c.vehicleId),
        );
    for (const [v, t] of found) owners.set(v, t);
    return owners;
  }

  /** Today's and the next two days' partitions, at start and then hourly. */
  private async runMaintenance() {
    try {
      const days = daysAhead(Date.now(), 2);
      await ensureTelemetryPartitions(this.opts.pool, days);
      for (const d of days) this.days.add(d);
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, 'partition maintenance failed; retrying later');
    }
  }
}
