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
  });
  client.handleMessage = (packet, done) => opts.onMessage(client, packet, () => done());
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
