import { type Logger, safeUrl } from '@fleet/shared/log';
import mqtt from 'mqtt';
import type pg from 'pg';
import { CloudError, CloudErrorCode } from '../errors.ts';

/** What every cloud ingest is configured with (telemetry-ingest.ts, event-ingest.ts). */
export interface IngestOptions {
  pool: pg.Pool;
  mqttUrl: string;
  mqttUsername?: string | undefined;
  mqttPassword?: string | undefined;
  baseTopic: string;
  /**
   * Stable client id prefix of the ingest's connections: with persistent sessions the broker
   * keeps QoS 1 messages while we are away.
   */
  clientId: string;
  autoRegisterVehicles: boolean;
  log: Logger;
  /**
   * Shared-subscription group, default `fleet-ingest`: every ingest process of one deployment
   * uses the same group so each message goes to exactly one of them. `false`: plain
   * subscription on a single connection (brokers without MQTT 5).
   */
  sharedGroup?: string | false;
  /** [100...60000] ms, default 500: first retry delay after a database error, doubled up to 10 s. */
  retryDelayMs?: number;
  /**
   * Read from a NATS JetStream cluster instead of the MQTT shared subscription
   * (FLEET_INGEST_SOURCE=jetstream, jetstream-client.ts); mqttUrl is then unused by the ingest.
   */
  jetstream?: JetStreamSourceOptions | undefined;
}

/**
 * What an ingest needs of the connection a message came in on: publish the answer (a QoS 0 ack)
 * and close. An mqtt.js client is one; the JetStream source's NATS connection is another.
 */
export interface IngestConnection {
  publish(topic: string, payload: string, opts: { qos: 0 }, callback?: (err?: Error) => void): unknown;
  endAsync(): Promise<unknown>;
  readonly options: { readonly clientId?: string | undefined };
}

/** What an ingest reads of a message (an MQTT PUBLISH packet is one). */
export interface IngestPacket {
  topic: string;
  payload: Buffer | string;
  properties?: { userProperties?: Record<string, string | string[]> | undefined } | undefined;
}

/** How the ingest reads: MQTT 5 shared subscription, one plain subscription, or JetStream. */
export type IngestMode = 'shared' | 'plain' | 'jetstream';

export interface JetStreamSourceOptions {
  /** nats://host:port of the cluster's nodes; the client fails over between them. */
  servers: string[];
  /** Stream name, default from the base topic and the lane (FLEET_TELEMETRY, FLEET_EVENTS). */
  stream?: string;
  /** [1...3] replicas of the stream, default 3 (every node of the 3-node cluster). */
  replicas?: number;
  /**
   * [1000...600000] ms, default 10,000: how long a message handed to a worker may stay unacked
   * before JetStream gives it to another one (a killed worker's messages come back after this).
   * Must exceed the slowest COMMIT, or a message is stored twice (counted as duplicates).
   */
  ackWaitMs?: number;
  /** [1...100000] messages one worker holds between receipt and COMMIT, default 5,000. */
  maxInFlight?: number;
}

export interface SourceOptions extends Omit<SubscribeOptions, 'onMessage'> {
  jetstream?: JetStreamSourceOptions | undefined;
  onMessage: (connection: IngestConnection, packet: IngestPacket, done: () => void) => void;
}

/** Matches mosquitto.conf persistent_client_expiration 30d: the broker keeps our QoS 1 backlog. */
export const SESSION_EXPIRY_S = 30 * 24 * 3600;

export interface IngestClientOptions {
  mqttUrl: string;
  mqttUsername?: string | undefined;
  mqttPassword?: string | undefined;
  /** Stable: with a persistent session the broker keeps QoS 1 messages while we are away. */
  clientId: string;
  protocolVersion: 4 | 5;
  log: Logger;
  /** Added to this connection's log lines (which ingest, which connection). */
  logContext: Record<string, unknown>;
  /** mqtt.js sends a message's PUBACK when `done` is called; see each ingest for when it does. */
  onMessage: (client: mqtt.MqttClient, packet: mqtt.IPublishPacket, done: () => void) => void;
}

export interface SubscribeOptions
  extends Pick<IngestOptions, 'mqttUrl' | 'mqttUsername' | 'mqttPassword' | 'log'> {
  sharedGroup: string | false;
  filters: string[];
  /** [1...256] connections on a shared subscription (a plain one has one). */
  connections: number;
  /** Connection i's stable client id. */
  clientIdOf: (index: number) => string;
  /** Added to the log lines (which ingest). */
  logContext: Record<string, unknown>;
  onMessage: IngestClientOptions['onMessage'];
}

/**
 * The ingest's subscription: `connections` connections on an MQTT 5 shared subscription
 * (`$share/{group}/{filter}`: the broker spreads the messages over them and over the other
 * ingest processes of the group), or one plain subscription where the broker has no shared
 * subscriptions (the embedded aedes speaks MQTT 3.1.1 only: the MQTT 5 CONNECT is refused, or the
 * CONNACK says `sharedSubscriptionAvailable: false`) or `sharedGroup` is false.
 */
export async function subscribeIngest(
  opts: SubscribeOptions,
): Promise<{ clients: mqtt.MqttClient[]; mode: 'shared' | 'plain' }> {
  const { log, logContext, sharedGroup: group } = opts;
  const connect = async (index: number, protocolVersion: 4 | 5) =>
    connectIngestClient({
      mqttUrl: opts.mqttUrl,
      mqttUsername: opts.mqttUsername,
      mqttPassword: opts.mqttPassword,
      clientId: opts.clientIdOf(index),
      protocolVersion,
      log,
      logContext: { ...logContext, connection: index },
      onMessage: opts.onMessage,
    });
  let first: mqtt.MqttClient | undefined;
  if (group !== false) {
    const tried = await connect(0, 5).catch((err: unknown) => {
      log.info(
        { err: (err as Error).message, ...logContext },
        'MQTT 5 refused; falling back to one plain subscription',
      );
      return undefined;
    });
    if (tried && !tried.sharedSubscriptionAvailable) {
      log.info(logContext, 'broker has no shared subscriptions; falling back to one plain subscription');
      await tried.client.endAsync();
    } else first = tried?.client;
  }
  const clients: mqtt.MqttClient[] = [];
  let filters = opts.filters;
  if (first && group !== false) {
    filters = filters.map((f) => `$share/${group}/${f}`);
    clients.push(first);
    for (let i = 1; i < opts.connections; i++) clients.push((await connect(i, 5)).client);
  } else {
    clients.push((await connect(0, 4)).client);
  }
  const mode = clients[0] === first ? 'shared' : 'plain';
  await Promise.all(clients.map((c) => c.subscribeAsync(filters, { qos: 1 })));
  for (const c of clients) resubscribeOnReconnect(c, filters, log);
  log.info(
    { broker: safeUrl(opts.mqttUrl), filters, connections: clients.length, ...logContext },
    `ingest subscribed (${mode})`,
  );
  return { clients, mode };
}

/**
 * Subscribe again after every reconnect. mqtt.js resubscribes only when the broker says the
 * session is gone, but Mosquitto 2.0 restores a persistent session after a restart without its
 * shared subscriptions: the ingest would be subscribed to nothing while agents' batches are
 * PUBACKed by the broker and dropped (cloud/test/faults.test.ts). A plain `subscribe` of a
 * filter mqtt.js already lists is a silent no-op; the `resubscribe` flag sends it for real.
 */
function resubscribeOnReconnect(client: mqtt.MqttClient, filters: string[], log: Logger) {
  client.on('connect', () => {
    // mqtt.js's type cannot express the flag next to the filters (index signature).
    const map = { ...Object.fromEntries(filters.map((f) => [f, { qos: 1 }])), resubscribe: true };
    client.subscribe(map as unknown as mqtt.ISubscriptionMap, (err) => {
      if (err) log.error({ err: err.message }, 'resubscribe after reconnect failed');
    });
  });
}

const noLog = () => {};

/**
 * One persistent-session connection of a cloud ingest (telemetry-ingest.ts, event-ingest.ts).
 * Resolves at the first CONNACK, with whether the broker offers shared subscriptions; rejects
 * when the broker cannot be reached within 15 s, or refuses an MQTT 5 CONNECT (the caller then
 * falls back to 3.1.1). Only that first attempt can fail: afterwards mqtt.js reconnects forever.
 */
export function connectIngestClient(
  opts: IngestClientOptions,
): Promise<{ client: mqtt.MqttClient; sharedSubscriptionAvailable: boolean }> {
  const { log, logContext, protocolVersion } = opts;
  const client = mqtt.connect(opts.mqttUrl, {
    clientId: opts.clientId,
    clean: false,
    protocolVersion,
    ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: SESSION_EXPIRY_S } } : {}),
    username: opts.mqttUsername,
    password: opts.mqttPassword,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
    // mqtt.js logs through `debug` about ten times per packet (a call and an enabled check each,
    // even when off): measurable per message at 20,000 messages/s. Our own logger covers its events.
    log: noLog,
  });
  // mqtt.js handles each received packet in a tick of its own and writes each PUBACK with a
  // write of its own (one syscall per message). Holding the socket's writes until the packets
  // that arrived together are handled sends their PUBACKs in one write (cork counts: mqtt.js's
  // own cork/uncork per packet nests inside this one).
  let held: { cork(): void; uncork(): void } | undefined;
  const release = () => {
    const s = held;
    held = undefined;
    s?.uncork();
  };
  client.handleMessage = (packet, done) => {
    if (held === undefined) {
      const stream = client.stream as unknown as { cork?(): void; uncork(): void; destroyed?: boolean };
      if (stream?.cork && !stream.destroyed) {
        stream.cork();
        held = stream as { cork(): void; uncork(): void };
        setImmediate(release);
      }
    }
    opts.onMessage(client, packet, done as () => void);
  };
  client.on('error', (err) => log.warn({ err: err.message, ...logContext }, 'mqtt error'));
  client.on('reconnect', () => log.info(logContext, 'mqtt reconnecting'));
  return new Promise((resolve, reject) => {
    const fail = (err: Error) => {
      clearTimeout(timer);
      client.end(true);
      reject(err);
    };
    const timer = setTimeout(
      () =>
        fail(
          new CloudError(
            CloudErrorCode.BrokerUnreachable,
            `cannot reach MQTT broker at ${safeUrl(opts.mqttUrl)}`,
          ),
        ),
      15_000,
    );
    // A broker that refuses the protocol version answers with an error CONNACK (or closes).
    const onFirstError = (err: Error) => {
      if (protocolVersion === 5) fail(err);
    };
    // aedes closes the socket on an MQTT 5 CONNECT without a CONNACK.
    const onFirstClose = () => {
      if (protocolVersion === 5 && !client.connected) fail(new Error('connection closed before CONNACK'));
    };
    client.once('error', onFirstError);
    client.once('close', onFirstClose);
    client.once('connect', (connack) => {
      clearTimeout(timer);
      // Only the first connection attempt may fail the start: left in place, these ended the
      // client for good at the first broker restart (the connection never came back).
      client.off('error', onFirstError);
      client.off('close', onFirstClose);
      resolve({
        client,
        sharedSubscriptionAvailable: connack.properties?.sharedSubscriptionAvailable !== false,
      });
    });
  });
}

/**
 * QoS 0 PUBLISHes (the cloud's acks after a COMMIT) written straight to an mqtt.js connection's
 * socket, all of them in one write. Through `client.publish` each ack cost an options object, a
 * packet object, mqtt-packet's five or six small stream writes and a cork/uncork tick: at 20,000
 * acks/s that was a tenth of the ingest's CPU. A QoS 0 PUBLISH without properties is a fixed
 * five-field frame (MQTT 5.0 3.3, 3.1.1 3.3): no packet id, no session state, nothing mqtt.js
 * tracks, so writing it beside mqtt.js's own packets (each written whole in one synchronous
 * turn) cannot interleave with them. Returns false, writing nothing, when the connection is not
 * an open mqtt.js one (reconnecting, another IngestConnection): the caller publishes normally.
 */
export function writeQos0Publishes(
  connection: IngestConnection,
  messages: readonly { topic: string; payload: string }[],
): boolean {
  if (!(connection instanceof mqtt.MqttClient)) return false;
  const client = connection;
  const stream = client.stream as unknown as
    | { writable?: boolean; destroyed?: boolean; write(b: Buffer): boolean }
    | undefined;
  if (!client.connected || client.disconnecting || !stream?.writable || stream.destroyed) return false;
  // MQTT 5 has a property length (0: none) after the topic; 3.1.1 has no properties.
  const props = client.options.protocolVersion === 5 ? 1 : 0;
  let size = 0;
  const lengths = new Array<number>(messages.length * 2);
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    const topicBytes = Buffer.byteLength(m.topic);
    const payloadBytes = Buffer.byteLength(m.payload);
    lengths[2 * i] = topicBytes;
    lengths[2 * i + 1] = payloadBytes;
    const remaining = 2 + topicBytes + props + payloadBytes;
    size += 1 + varintBytes(remaining) + remaining;
  }
  const frame = Buffer.allocUnsafe(size);
  let at = 0;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    const topicBytes = lengths[2 * i]!;
    let remaining = 2 + topicBytes + props + lengths[2 * i + 1]!;
    frame[at++] = 0x30; // PUBLISH, QoS 0, no DUP, no RETAIN
    do {
      const byte = remaining % 128;
      remaining = Math.floor(remaining / 128);
      frame[at++] = remaining > 0 ? byte | 0x80 : byte;
    } while (remaining > 0);
    frame.writeUInt16BE(topicBytes, at);
    at += 2;
    at += frame.write(m.topic, at, 'utf8');
    if (props) frame[at++] = 0;
    at += frame.write(m.payload, at, 'utf8');
  }
  stream.write(frame);
  return true;
}

const varintBytes = (n: number) => (n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4);
