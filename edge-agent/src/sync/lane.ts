/**
 * What a lane of the broker link is, and what the lanes share.
 *
 * A lane is one flow of messages over the agent's single MQTT session (broker-link.ts): the
 * topic kinds it receives, what it does when the link comes up or a message arrives, and how it
 * stops. It publishes through the link's port, only the kinds the agent sends (shared TOPICS).
 *
 * The two acked lanes (telemetry, events) also share: waiting for the cloud's answer to a batch,
 * published by the ingest after its COMMIT, with a deadline; the pause after the cloud refused a
 * batch (dead-lettered, e.g. an unregistered vehicle), which keeps the data on the vehicle instead
 * of hammering the cloud with it; and the send loop.
 */
import type { AgentInboundKind, AgentOutboundKind } from '@fleet/shared';
import type { Logger } from '@fleet/shared/log';
import type { z } from 'zod';

/** MQTT 5 user properties (routing hints a broker or tool reads without decoding the payload). */
export type UserProperties = Record<string, string>;

/** The link as a lane sees it. */
export interface LinkPort {
  readonly connected: boolean;
  /** The session's MQTT version (null before the first connect). */
  readonly protocolVersion: 4 | 5 | null;
  /** Resolves on the PUBACK (QoS 1) or when written (QoS 0); QoS and retain come from TOPICS. */
  publish(kind: AgentOutboundKind, payload: string | Buffer, userProperties?: UserProperties): Promise<void>;
}

export interface Lane {
  /** Kinds this lane receives; the link subscribes to them at every connect. */
  readonly inbound: readonly AgentInboundKind[];
  /** The link is up (before the SUBACK). */
  connected?(): void;
  /** The SUBACK came back; `refused` are the lane's kinds the broker would not grant (its ACL). */
  subscribed?(refused: readonly AgentInboundKind[]): void;
  message?(kind: AgentInboundKind, payload: Buffer): void;
  start?(): void;
  /** Before the link disconnects: end the rounds in flight. */
  stop?(): Promise<void>;
}

/** The part of TelemetryAck / VehicleEventAck a lane acts on. */
export interface CloudAnswer {
  batchSeq: number;
  status: 'stored' | 'refused';
  reason?: string | undefined;
}

export type Settle<A> = (result: A | Error) => void;

/** The cloud's JSON answer checked against its schema; null (logged, ignored) when it is not one. */
export function parseCloudAnswer<A>(
  schema: z.ZodType<A>,
  payload: Buffer,
  log: Logger,
  what: string,
): A | null {
  try {
    return schema.parse(JSON.parse(payload.toString('utf8')));
  } catch (err) {
    log.warn({ err: (err as Error).message }, `malformed ${what} ignored`);
    return null;
  }
}

/**
 * Resolves with the cloud's answer, given to the `settle` that `register` receives; rejects with
 * what `settle` gets as an Error, or after `timeoutMs` (`onTimeout` runs first: the lane forgets
 * the batch or keeps it for a late answer, and the round ends and resends). Register before
 * publishing: the answer can overtake the PUBACK.
 */
export function awaitCloudAck<A>(
  what: string,
  timeoutMs: number,
  register: (settle: Settle<A>) => void,
  onTimeout: () => void,
): Promise<A> {
  return new Promise<A>((resolve, reject) => {
    const timer = setTimeout(() => {
      onTimeout();
      reject(new Error(`no ack from the cloud for ${what} within ${timeoutMs} ms; resending`));
    }, timeoutMs);
    register((result) => {
      clearTimeout(timer);
      if (result instanceof Error) reject(result);
      else resolve(result);
    });
  });
}

/** A lane's pause after a refused batch; its data stays on the vehicle meanwhile. */
export class RefusalPause {
  private until = 0;

  constructor(
    /** [1000...3600000] ms, default 60 s. */
    private readonly backoffMs: number,
    private readonly log: Logger,
  ) {}

  get active(): boolean {
    return Date.now() < this.until;
  }

  /** Pauses the lane, says so, and throws to end the round. */
  refused(what: string, keptWhat: string, ack: CloudAnswer, context: Record<string, unknown>): never {
    this.until = Date.now() + this.backoffMs;
    this.log.error(
      { ...context, batchSeq: ack.batchSeq, reason: ack.reason, retryInMs: this.backoffMs },
      `cloud refused the ${what}; ${keptWhat} kept on the vehicle`,
    );
    throw new Error(`cloud refused ${what} ${ack.batchSeq}: ${ack.reason ?? 'no reason given'}`);
  }
}

/**
 * A lane's send loop (telegraf's flush_interval): `drain` every `delayMs()`, one drain at a time;
 * `flush()` runs one now (or joins the running one). A failed drain is logged, the next tick
 * tries again: the data is in SQLite.
 */
export class FlushLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private halted = false;

  constructor(
    private readonly drain: () => Promise<void>,
    private readonly delayMs: () => number,
    private readonly onError: (err: Error) => void,
  ) {}

  get stopped(): boolean {
    return this.halted;
  }

  start(): void {
    this.schedule();
  }

  private schedule() {
    if (this.halted) return;
    this.timer = setTimeout(() => {
      void this.flush().finally(() => this.schedule());
    }, this.delayMs());
  }

  flush(): Promise<void> {
    this.running ??= this.drain()
      .catch((err: unknown) => {
        if (!this.halted) this.onError(err as Error);
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  /** No new rounds; resolves when the running one (if any) is over. */
  stop(): Promise<void> {
    this.halted = true;
    clearTimeout(this.timer);
    return this.running ?? Promise.resolve();
  }
}
