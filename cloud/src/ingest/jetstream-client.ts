/**
 * The ingest's JetStream source: the same contract as the MQTT shared subscription of
 * ingest-client.ts (`onMessage(connection, packet, done)`, the ack published on the connection),
 * read from a NATS JetStream cluster instead (scripts/lib/nats-cluster.ts).
 *
 *   vehicles ──MQTT 3.1.1 QoS 1──> NATS MQTT listener (any node)  topic a/b/c = subject a.b.c
 *                                       │
 *                      stream {BASE}_TELEMETRY (R3, work queue)  {base}.v1.*.*.telemetry|status
 *                      stream {BASE}_EVENTS    (R3, work queue)  {base}.v1.*.*.events
 *                                       │ one durable pull consumer per stream, shared by every
 *                                       │ ingest worker (competing consumers: each message goes
 *                                       v to one worker)
 *   worker: consume() ──> onMessage ──> lanes → group commit → COMMIT ──> done() = JetStream ack
 *                                                                   └──> TelemetryAck on
 *                                                                        {base}.v1.t.v.ack (the
 *                                                                        agent's MQTT subscription)
 *
 * Ack after COMMIT: `done()` acks the JetStream message, so a worker killed before its COMMIT
 * leaves its messages unacked and JetStream hands them to another worker after `ackWaitMs`;
 * (vehicle, ts, seq) turns a message committed but not yet acked into a duplicate count, never a
 * second row. Streams are replicated on three nodes (R3): losing one node loses no message the
 * stream acknowledged; what NATS's MQTT listener had not yet stored is resent by the agent,
 * whose outbox waits for the TelemetryAck, not for the broker's PUBACK.
 *
 * The NATS MQTT listener speaks MQTT 3.1.1 only, so packets carry no MQTT 5 user properties:
 * every message takes the ingest's ack-after-COMMIT path.
 *
 * MQTT topic segments containing '.' appear in NATS as '//' (NATS's own mapping); topicOf and
 * subjectOf undo and redo it, so ids with dots keep working.
 */
import { type Logger, safeUrl } from '@fleet/shared/log';
import {
  AckPolicy,
  type ConsumerMessages,
  connect,
  DeliverPolicy,
  type JetStreamManager,
  type NatsConnection,
  nanos,
  RetentionPolicy,
  StorageType,
} from 'nats';
import { CloudError, CloudErrorCode } from '../errors.ts';
import type {
  IngestConnection,
  IngestPacket,
  JetStreamSourceOptions,
  SourceOptions,
} from './ingest-client.ts';

export type { JetStreamSourceOptions };

/** MQTT filter fleet/v1/+/+/telemetry -> NATS subject fleet.v1.*.*.telemetry. */
export function subjectOf(topicOrFilter: string): string {
  return topicOrFilter
    .split('/')
    .map((s) => (s === '+' ? '*' : s === '#' ? '>' : s.replaceAll('.', '//')))
    .join('.');
}

/** NATS subject fleet.v1.t.v.telemetry -> MQTT topic fleet/v1/t/v/telemetry. */
export function topicOf(subject: string): string {
  return subject
    .split('.')
    .map((s) => s.replaceAll('//', '.'))
    .join('/');
}

/** {BASE}_TELEMETRY or {BASE}_EVENTS: one pair of streams per topic namespace (FLEET_BASE_TOPIC). */
function streamNameOf(filters: readonly string[]): string {
  const base = filters[0]!
    .split('/')[0]!
    .toUpperCase()
    .replace(/[^A-Z0-9_-]/g, '_');
  const kinds = filters.map((f) => f.split('/').at(-1)!.toUpperCase());
  return `${base}_${kinds.includes('EVENTS') ? 'EVENTS' : 'TELEMETRY'}`;
}

/** Creates the stream and the durable consumer, or checks that they are there (every worker does). */
async function ensureStream(
  jsm: JetStreamManager,
  stream: string,
  subjects: string[],
  durable: string,
  opts: JetStreamSourceOptions,
): Promise<void> {
  const replicas = Math.max(1, Math.min(3, opts.replicas ?? 3));
  try {
    const info = await jsm.streams.info(stream).catch(() => null);
    if (!info) {
      await jsm.streams
        .add({
          name: stream,
          subjects,
          // Deleted once a worker acked it (after COMMIT): the stream holds only what is not stored yet.
          retention: RetentionPolicy.Workqueue,
          storage: StorageType.File,
          num_replicas: replicas,
          // Agents keep their own outbox for days; the stream is a buffer, not the archive.
          max_age: nanos(7 * 24 * 3600 * 1000),
        })
        // Another worker created it meanwhile: same config, fine; a different one fails below.
        .catch(async (err: Error) => {
          if (!(await jsm.streams.info(stream).catch(() => null))) throw err;
        });
    } else if (subjects.some((s) => !info.config.subjects.includes(s))) {
      throw new Error(
        `stream ${stream} captures ${info.config.subjects.join(', ')}, not ${subjects.join(', ')}`,
      );
    }
    await jsm.consumers.add(stream, {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(opts.ackWaitMs ?? 10_000),
      // Bounds what all workers together hold unacked (between receipt and COMMIT).
      max_ack_pending: 50_000,
    });
  } catch (err) {
    throw new CloudError(
      CloudErrorCode.JetStreamSetup,
      `cannot set up JetStream stream ${stream} / consumer ${durable}: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

/** The NATS connection as the ingests see a connection: where their acks go out, and its close. */
class JetStreamConnection implements IngestConnection {
  readonly options: { clientId: string };
  messages: ConsumerMessages | undefined;
  constructor(
    private readonly nc: NatsConnection,
    clientId: string,
  ) {
    this.options = { clientId };
  }

  /** Core NATS publish (at most once, like the QoS 0 MQTT ack): the agent's MQTT subscription gets it. */
  publish(topic: string, payload: string, _opts: unknown, callback?: (err?: Error) => void): void {
    try {
      this.nc.publish(subjectOf(topic), payload);
      callback?.();
    } catch (err) {
      callback?.(err as Error);
    }
  }

  ended = false;

  async endAsync(): Promise<void> {
    this.ended = true;
    this.messages?.stop();
    if (this.nc.isClosed()) return;
    // Sends the acks still buffered, then closes; unacked messages go to another worker.
    await this.nc.drain().catch(() => this.nc.close());
  }
}

/**
 * Connects to the cluster, makes sure the stream and the durable consumer exist, and feeds every
 * message to `onMessage` until the connection is ended. Resolves once consuming.
 */
export async function subscribeJetStream(
  opts: SourceOptions,
  js: JetStreamSourceOptions,
): Promise<{ clients: IngestConnection[]; mode: 'jetstream' }> {
  const { log, logContext } = opts;
  const clientId = opts.clientIdOf(0);
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: js.servers,
      name: clientId,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      timeout: 10_000,
      user: opts.mqttUsername,
      pass: opts.mqttPassword,
    });
  } catch (err) {
    throw new CloudError(
      CloudErrorCode.NatsUnreachable,
      `cannot reach NATS at ${js.servers.map(safeUrl).join(', ')}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  void logStatus(nc, log, logContext);
  const subjects = opts.filters.map(subjectOf);
  const stream = js.stream ?? streamNameOf(opts.filters);
  const durable = `${opts.sharedGroup === false ? 'fleet-ingest' : opts.sharedGroup}-${stream.toLowerCase()}`;
  const maxInFlight = Math.max(1, Math.min(100_000, js.maxInFlight ?? 5000));
  // A cluster that just lost a node, or is starved of CPU, answers the JetStream API with 503
  // ("temporarily unavailable") or times out until its meta leader is settled: try again.
  const consume = () =>
    retryJetStream(log, logContext, async () => {
      await ensureStream(await nc.jetstreamManager(), stream, subjects, durable, js);
      const consumer = await nc.jetstream().consumers.get(stream, durable);
      // Short pulls: a pull request sent to a consumer leader on a node that then dies is lost,
      // and the client only pulls again when it expires or two idle heartbeats (half of it) are
      // missed. The default 30 s left the ingest idle for up to 30 s after a node loss.
      return consumer.consume({ max_messages: Math.min(1000, maxInFlight), expires: 5_000 });
    });
  const connection = new JetStreamConnection(nc, clientId);
  connection.messages = await consume();
  let inFlight = 0;
  let resume: (() => void) | undefined;
  const take = async (messages: ConsumerMessages) => {
    for await (const m of messages) {
      inFlight++;
      const data = m.data;
      const packet: IngestPacket = {
        topic: topicOf(m.subject),
        payload: Buffer.from(data.buffer, data.byteOffset, data.byteLength),
      };
      let answered = false;
      opts.onMessage(connection, packet, () => {
        if (answered) return;
        answered = true;
        m.ack();
        inFlight--;
        resume?.();
      });
      // Backpressure: a worker behind its database stops taking messages; the others take them.
      if (inFlight >= maxInFlight) {
        await new Promise<void>((r) => {
          resume = () => {
            if (inFlight < maxInFlight) {
              resume = undefined;
              r();
            }
          };
        });
      }
    }
  };
  void (async () => {
    // A consume that ends while the connection is open (its consumer lost with a node, a
    // JetStream error) is started again: a worker that silently stopped taking messages would
    // leave the others all the load and look healthy.
    for (;;) {
      await take(connection.messages!).catch((err: unknown) =>
        log.warn({ err: (err as Error).message, ...logContext }, 'JetStream consume failed'),
      );
      if (connection.ended || nc.isClosed()) return;
      log.warn(logContext, 'JetStream consume ended; consuming again');
      await new Promise((r) => setTimeout(r, 500));
      connection.messages = await consume();
    }
  })().catch((err: unknown) =>
    log.error({ err: (err as Error).message, ...logContext }, 'JetStream consume ended for good'),
  );
  log.info(
    { servers: js.servers.map(safeUrl), stream, subjects, durable, ...logContext },
    'ingest consuming (jetstream)',
  );
  return { clients: [connection], mode: 'jetstream' };
}

/** `attempt` until it succeeds, for up to 60 s (delays 250 ms doubling to 4 s); then its error. */
async function retryJetStream<T>(
  log: Logger,
  logContext: Record<string, unknown>,
  attempt: () => Promise<T>,
): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (let delay = 250; ; delay = Math.min(delay * 2, 4000)) {
    try {
      return await attempt();
    } catch (err) {
      if (Date.now() + delay > deadline) throw err;
      log.warn(
        { err: (err as Error).message, retryInMs: delay, ...logContext },
        'JetStream not ready; retrying',
      );
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

async function logStatus(nc: NatsConnection, log: Logger, logContext: Record<string, unknown>) {
  for await (const s of nc.status()) {
    if (s.type === 'pingTimer' || s.type === 'update') continue;
    log.info({ nats: s.type, data: String(s.data), ...logContext }, 'nats connection status');
  }
}
