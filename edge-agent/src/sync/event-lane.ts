/**
 *   EventOutbox ─nextBatch─▶ EventLane ──QoS 1──▶ .../events ─▶ cloud EventIngest
 *        ▲                       │                                  │ COMMIT
 *        └── acknowledge(id) ◀───┴──────── .../events-ack ◀─────────┘
 *
 * The detectors' events go to the cloud on a lane of their own: an events batch never waits
 * behind a week of telemetry backfill, and a refused telemetry batch never holds the events back.
 * The rules are the telemetry lane's: the cursor (highest event id the cloud committed) moves only
 * on the ingest's VehicleEventAck after its COMMIT, never on the broker's PUBACK; an unanswered
 * batch is sent again after `ackTimeoutMs` (new batchSeq, same events), and the cloud's (tenant,
 * vehicle, event id) key makes that harmless. One batch is in flight at a time: events are a few
 * per hour, and stop-and-wait keeps the cursor a single number.
 *
 * Rows of the events table that are not VehicleEvents (trips, a payload a future detector writes
 * differently) are stepped over, counted and logged, never sent: the cloud would refuse the whole
 * batch for one of them.
 */
import {
  MAX_EVENTS_PER_BATCH,
  VEHICLE_EVENT_BATCH_VERSION,
  type VehicleEvent,
  VehicleEventAck,
  type VehicleEventBatch,
} from '@fleet/shared';
import { type Logger, newTraceparent, TRACEPARENT, traceIdOf } from '@fleet/shared/log';
import type { EventOutbox } from '../store/event-outbox.ts';
import {
  awaitCloudAck,
  FlushLoop,
  type Lane,
  type LinkPort,
  parseCloudAnswer,
  RefusalPause,
  type Settle,
} from './lane.ts';

export interface EventLaneOptions {
  vehicleId: string;
  /** [1...500] events per batch, default 100. */
  eventBatchSize?: number;
  /** [50...600000] ms between looks at the events table, default 2000. */
  eventFlushIntervalMs?: number;
  /** [100...600000] ms to wait for the cloud's ack before sending the batch again, default 30 s. */
  ackTimeoutMs?: number;
  /** [1000...3600000] ms to pause after the cloud refused a batch, default 60 s. */
  refusedBackoffMs?: number;
}

export interface EventLaneStats {
  batchesSent: number;
  eventsSent: number;
  /** Batches the cloud confirmed after COMMIT. */
  cloudAcks: number;
  ackTimeouts: number;
  refusedBatches: number;
  /** Rows of the events table that are not VehicleEvents: stepped over, never sent. */
  skipped: number;
}

export class EventLane implements Lane {
  readonly stats: EventLaneStats = {
    batchesSent: 0,
    eventsSent: 0,
    cloudAcks: 0,
    ackTimeouts: 0,
    refusedBatches: 0,
    skipped: 0,
  };
  readonly inbound = ['events-ack'] as const;
  private readonly loop: FlushLoop;
  private readonly pause: RefusalPause;
  /** The batch waiting for its ack. */
  private inflight: { batchSeq: number; settle: Settle<VehicleEventAck> } | undefined;

  constructor(
    private readonly outbox: EventOutbox,
    private readonly link: LinkPort,
    private readonly opts: EventLaneOptions,
    private readonly log: Logger,
  ) {
    this.pause = new RefusalPause(opts.refusedBackoffMs ?? 60_000, log);
    this.loop = new FlushLoop(
      () => this.drain(),
      () => opts.eventFlushIntervalMs ?? 2000,
      (err) => this.log.warn({ err: err.message }, 'events not sent; will retry'),
    );
  }

  start(): void {
    this.loop.start();
  }

  subscribed(refused: readonly string[]): void {
    if (refused.length === 0) void this.flush();
  }

  message(_kind: 'events-ack', payload: Buffer): void {
    const ack = parseCloudAnswer(VehicleEventAck, payload, this.log, 'event ack');
    if (!ack) return;
    // Only the batch in flight counts: a late answer to an earlier send of the same events is
    // covered by the resend's own answer.
    if (this.inflight?.batchSeq === ack.batchSeq) this.inflight.settle(ack);
  }

  /** Sends every pending event, batch after batch; resolves when none is left or the link is down. */
  flush(): Promise<void> {
    return this.loop.flush();
  }

  private async drain() {
    const size = Math.max(1, Math.min(MAX_EVENTS_PER_BATCH, this.opts.eventBatchSize ?? 100));
    while (this.link.connected && !this.loop.stopped && !this.pause.active) {
      const batch = this.outbox.nextBatch(size);
      if (batch.lastId === this.outbox.ackedId()) return;
      if (batch.events.length > 0) await this.send(batch.events);
      // Stored (or nothing to send): the cursor steps over the whole scanned range, skipped rows too.
      this.outbox.acknowledge(batch.lastId);
      if (batch.skipped.length > 0) {
        this.stats.skipped += batch.skipped.length;
        this.log.warn(
          { skipped: batch.skipped.length, first: batch.skipped[0] },
          'events rows that are not VehicleEvents not sent',
        );
      }
    }
  }

  private async send(events: VehicleEvent[]) {
    const batchSeq = this.outbox.nextBatchSeq();
    const batch: VehicleEventBatch = {
      v: VEHICLE_EVENT_BATCH_VERSION,
      vehicleId: this.opts.vehicleId,
      batchSeq,
      events,
    };
    const answered = awaitCloudAck<VehicleEventAck>(
      `events batch ${batchSeq}`,
      this.opts.ackTimeoutMs ?? 30_000,
      (settle) => {
        this.inflight = {
          batchSeq,
          settle: (r) => {
            this.inflight = undefined;
            settle(r);
          },
        };
      },
      () => {
        this.inflight = undefined;
        this.stats.ackTimeouts++;
      },
    );
    // One trace id from here to the alert and its notifications (MQTT 5 only; shared/src/log.ts).
    const traceparent = newTraceparent();
    this.link
      .publish('events', JSON.stringify(batch), { [TRACEPARENT]: traceparent })
      .catch((err: Error) => this.inflight?.batchSeq === batchSeq && this.inflight.settle(err));
    this.stats.batchesSent++;
    const ack = await answered;
    if (ack.status === 'refused') {
      this.stats.refusedBatches++;
      this.pause.refused('events batch', 'events', ack, {});
    }
    this.stats.cloudAcks++;
    this.stats.eventsSent += events.length;
    this.log.debug(
      { batchSeq, events: events.length, trace: traceIdOf(traceparent) },
      'events committed by the cloud',
    );
  }

  async stop(): Promise<void> {
    const idle = this.loop.stop();
    this.inflight?.settle(new Error('events sync stopping'));
    await idle;
  }
}
