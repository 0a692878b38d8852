import { type Logger, safeUrl } from '@fleet/shared/log';
import mqtt from 'mqtt';
import { CloudError, CloudErrorCode } from '../errors.ts';

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
