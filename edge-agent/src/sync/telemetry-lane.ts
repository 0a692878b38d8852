/**
 *   SampleOutbox ──unsent──┬─ live:     newest ≤ metricBatchSize samples recorded since the link
 *                          │            came up ─────────────────────────────┐
 *                          └─ backfill: oldest-first, historical=true,       ├─ publish QoS 1 ─ PUBACK ─ cloud ack ─▶ acknowledgeRange
 *                                       ≤ backfillInflight batches per round ┘   (after COMMIT)
 *
 * The cursor moves on the ingest's TelemetryAck (`.../ack`, published after the batch's COMMIT),
 * not on the broker's PUBACK: a broker that crashes before writing its queue to disk, or that
 * drops a batch for a shared subscription nobody has rejoined yet, has still PUBACKed it. A batch
 * unanswered after `ackTimeoutMs` is sent again (new batchSeq, same samples); the cloud's
 * (vehicle, seq) key makes that harmless. A refused batch (dead-lettered in the cloud, e.g. an
 * unregistered vehicle) stays on the vehicle and the lane backs off. `ackFrom: 'broker'` restores
 * the PUBACK-only behaviour for a cloud that does not answer.
 *
 * Each round sends one live batch first, then at most `backfillInflight` backfill batches, and
 * waits for their answers; so live data never waits behind more than that many batches, however
 * long the outage was. The outbox's cursor moves only over a contiguous acknowledged prefix
 * (SampleOutbox.acknowledgeRange): a crash at any instant resends at most the batches in flight,
 * which the cloud ignores by (vehicle, seq).
 */
import {
  encodeTelemetryBatch,
  TELEMETRY_BINARY_VERSION,
  TELEMETRY_PAYLOAD_VERSION,
  TelemetryAck,
  type TelemetrySample,
} from '@fleet/shared';
import type { Logger } from '@fleet/shared/log';
import type { SampleOutbox } from '../store/sample-outbox.ts';
import {
  awaitCloudAck,
  FlushLoop,
  type Lane,
  type LinkPort,
  parseCloudAnswer,
  RefusalPause,
  type Settle,
} from './lane.ts';

export interface TelemetryLaneOptions {
  vehicleId: string;
  /** [1...5000] samples per batch (telegraf metric_batch_size), default 500. */
  batchSize?: number;
  /** [50...600000] ms between flushes (telegraf flush_interval), default 1000. */
  flushIntervalMs?: number;
  /** [0...60000] ms of random extra delay per flush so a fleet does not flush in lockstep, default 200. */
  flushJitterMs?: number;
  /** [1...64] backfill batches in flight per round next to the live one, default 4. */
  backfillInflight?: number;
  /** Send JSON v1 instead of binary v2 (for an ingest not yet updated). */
  jsonPayload?: boolean;
  /** What moves the cursor: the ingest's ack after COMMIT ('cloud', default) or the broker's PUBACK. */
  ackFrom?: 'cloud' | 'broker';
  /** [100...600000] ms to wait for the cloud's ack before sending the batch again, default 30 s. */
  ackTimeoutMs?: number;
  /** [1000...3600000] ms to pause after the cloud refused a batch, default 60 s. */
  refusedBackoffMs?: number;
}

export interface TelemetryLaneStats {
  batchesSent: number;
  samplesSent: number;
  liveBatches: number;
  backfillBatches: number;
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
  settle?: Settle<TelemetryAck> | undefined;
}

/** Batches remembered for a late ack (answered after their timeout, before the resend's). */
const MAX_REMEMBERED_BATCHES = 1024;

export class TelemetryLane implements Lane {
  readonly stats: TelemetryLaneStats = {
    batchesSent: 0,
    samplesSent: 0,
    liveBatches: 0,
    backfillBatches: 0,
    cloudAcks: 0,
    ackTimeouts: 0,
    refusedBatches: 0,
  };
  readonly inbound;
  /** batchSeq -> samples it carried, until the cloud answers (ackFrom 'cloud'). */
  private readonly sent = new Map<number, SentBatch>();
  private readonly loop: FlushLoop;
  private readonly pause: RefusalPause;
  /** Samples at or below this seq were recorded before the current link came up: backfill. */
  private liveFloor = 0;

  constructor(
    private readonly outbox: SampleOutbox,
    private readonly link: LinkPort,
    private readonly opts: TelemetryLaneOptions,
    private readonly log: Logger,
  ) {
    this.inbound = this.cloudAcks ? (['ack'] as const) : ([] as const);
    this.pause = new RefusalPause(opts.refusedBackoffMs ?? 60_000, log);
    this.loop = new FlushLoop(
      () => this.drain(),
      () => (opts.flushIntervalMs ?? 1000) + Math.random() * (opts.flushJitterMs ?? 200),
      (err) => this.log.warn({ err: err.message }, 'telemetry not sent; will retry'),
    );
  }

  private get cloudAcks(): boolean {
    return (this.opts.ackFrom ?? 'cloud') === 'cloud';
  }

  start(): void {
    this.loop.start();
  }

  connected(): void {
    // Everything recorded so far (the outage's backlog) is historical; what comes now is live.
    this.liveFloor = this.outbox.stats().lastSeq;
    this.log.debug({ backlogUpTo: this.liveFloor }, 'telemetry lane up');
    void this.flush();
  }

  message(_kind: 'ack', payload: Buffer): void {
    const ack = parseCloudAnswer(TelemetryAck, payload, this.log, 'cloud ack');
    if (!ack) return;
    const batch = this.sent.get(ack.batchSeq);
    if (!batch) return; // answered already, or sent by an earlier run: its samples were resent
    this.sent.delete(ack.batchSeq);
    if (ack.status === 'stored') {
      // Our own record of the range, not the payload's: an ack can only confirm what we sent.
      this.outbox.acknowledgeRange(batch.first, batch.last);
      this.stats.cloudAcks++;
    }
    batch.settle?.(ack);
  }

  /** Sends everything pending, round by round (live first). One flush runs at a time. */
  flush(): Promise<void> {
    return this.loop.flush();
  }

  private async drain() {
    const size = this.opts.batchSize ?? 500;
    const inflight = this.opts.backfillInflight ?? 4;
    while (this.link.connected && !this.loop.stopped && !this.pause.active) {
      const batches: { samples: TelemetrySample[]; historical: boolean }[] = [];
      const live = this.outbox.unsent({ after: this.liveFloor, limit: size, newest: true });
      if (live.length > 0) {
        // More live samples than one batch (a slow link): the older ones join the backfill lane,
        // so the newest data always goes first.
        this.liveFloor = Math.max(this.liveFloor, live[0]!.seq - 1);
        batches.push({ samples: live, historical: false });
      }
      let after = 0;
      for (let i = 0; i < inflight; i++) {
        const old = this.outbox.unsent({ after, upTo: this.liveFloor, limit: size });
        if (old.length === 0) break;
        batches.push({ samples: old, historical: true });
        after = old[old.length - 1]!.seq;
      }
      if (batches.length === 0) return;
      const results = await Promise.allSettled(batches.map((b) => this.publish(b.samples, b.historical)));
      const failed = results.find((r) => r.status === 'rejected');
      if (failed) {
        this.log.warn({ err: (failed.reason as Error).message }, 'publish failed; will retry');
        return;
      }
    }
  }

  private async publish(samples: TelemetrySample[], historical: boolean) {
    const batchSeq = this.outbox.nextBatchSeq();
    const payload = encodeTelemetryBatch({
      v: this.opts.jsonPayload ? TELEMETRY_PAYLOAD_VERSION : TELEMETRY_BINARY_VERSION,
      vehicleId: this.opts.vehicleId,
      samples,
      batchSeq,
      dropped: this.outbox.evictions(),
      ...(historical ? { historical: true } : {}),
    });
    const first = samples[0]!.seq;
    const last = samples[samples.length - 1]!.seq;
    const answered = this.cloudAcks ? this.awaitAck(batchSeq, first, last) : undefined;
    // `ack=cloud`: we resend until the ingest's ack, so it may PUBACK on arrival.
    const puback = this.link.publish('telemetry', payload, {
      batchSeq: String(batchSeq),
      historical: String(historical),
      ack: this.cloudAcks ? 'cloud' : 'broker',
    });
    if (answered) {
      // The ack's timeout bounds the whole round trip: a PUBACK that never comes (the link died
      // with the packet in flight; mqtt.js resends it after reconnecting) must not hold the round.
      puback.catch((err: Error) => this.sent.get(batchSeq)?.settle?.(err));
      const ack = await answered;
      if (ack.status === 'refused') {
        this.stats.refusedBatches++;
        this.pause.refused('batch', 'samples', ack, { first, last });
      }
    } else {
      await puback;
      this.outbox.acknowledgeRange(first, last);
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

  private awaitAck(batchSeq: number, first: number, last: number): Promise<TelemetryAck> {
    if (this.sent.size >= MAX_REMEMBERED_BATCHES) {
      const oldest = this.sent.keys().next().value as number;
      this.sent.delete(oldest);
    }
    const batch: SentBatch = { first, last };
    this.sent.set(batchSeq, batch);
    return awaitCloudAck<TelemetryAck>(
      `batch ${batchSeq}`,
      this.opts.ackTimeoutMs ?? 30_000,
      (settle) => {
        batch.settle = (result) => {
          batch.settle = undefined;
          settle(result);
        };
      },
      () => {
        // Stays in `sent`: a late ack still moves the cursor.
        batch.settle = undefined;
        this.stats.ackTimeouts++;
      },
    );
  }

  async stop(): Promise<void> {
    const idle = this.loop.stop();
    for (const b of this.sent.values()) b.settle?.(new Error('sync stopping'));
    await idle;
  }
}
