/**
 *                         ┌─ TelemetryLane  ─ telemetry ▶ ◀ ack          (SampleOutbox)
 *   AgentDb ── BrokerLink ┼─ EventLane      ─ events ▶    ◀ events-ack   (EventOutbox)
 *   one MQTT session      ├─ ModelReceiver  ─             ◀ model        (ModelService; with a publisher key)
 *                         └─ CommandLane    ─ commands-ack ▶ ◀ commands  (signed remote commands)
 *                                             commands-stream ▶          (live PIDs, commands/pid-stream.ts)
 *
 * ONE broker connection per agent: one client id, one login and TLS identity, one retained
 * status with its will, one reconnect/backoff, one keepalive. The lanes ride on it; each names the
 * kinds it receives, and the link subscribes to all of them at every connect and hands each
 * message to its lane by topic. Publishes go through `publish(kind)`, only for the kinds the agent
 * sends (shared TOPICS), with that kind's QoS and retain flag.
 *
 * Session: clean: false (and, on MQTT 5, sessionExpiryInterval) so the broker keeps our
 * unacknowledged QoS 1 packets and our subscriptions across a reconnect. MQTT 5 when the broker
 * speaks it; 'auto' falls back to 3.1.1 when the broker refuses the protocol version (CONNACK
 * code 1 / reason 0x84), as the embedded aedes does.
 *
 * Retained status: `online` on connect, `offline` as the MQTT will when the link dies. The will is
 * fixed at connect time, so `online` and the will carry the same ts: the cloud keeps the newest
 * status, and an equal ts lets the will (which always arrives later) win. A clean stop suppresses
 * the will, so the link says `offline` itself.
 */
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  type AgentHealth,
  type AgentInboundKind,
  type AgentOutboundKind,
  TOPICS,
  type TopicKind,
  type VehicleStatus,
  vehicleTopics,
} from '@fleet/shared';
import { type Logger, safeUrl } from '@fleet/shared/log';
import mqtt from 'mqtt';
import type { AgentConfig } from '../config.ts';
import { ModelReceiver } from '../models/model-receiver.ts';
import type { ModelService } from '../models/model-service.ts';
import type { AgentDb } from '../store/agent-db.ts';
import { CommandLane } from './command-lane.ts';
import { EventLane, type EventLaneOptions } from './event-lane.ts';
import type { Lane, LinkPort, UserProperties } from './lane.ts';
import { TelemetryLane, type TelemetryLaneOptions } from './telemetry-lane.ts';

export type MqttProtocol = 'auto' | '5' | '4';

/** Pause before subscribing again to filters the broker refused, doubling up to the max. */
const RESUBSCRIBE_FIRST_MS = 1000;
const RESUBSCRIBE_MAX_MS = 30_000;

export interface BrokerLinkOptions extends TelemetryLaneOptions, EventLaneOptions {
  url: string;
  /**
   * The brokers of a cluster (FLEET_MQTT_URLS; two or more replace `url`): the link connects to one
   * and, whenever the connection is lost, tries the next (mqtt.js `servers`). Each agent starts
   * at its own place in the list (a hash of its client id), so a fleet spreads over the nodes and
   * one node's loss moves only its share. The session (clean: false) lives in the cluster, not
   * in one node, where the cluster replicates it (NATS: mqtt.stream_replicas; EMQX: its session
   * store); what a lost node had not passed on is resent from the outbox, which waits for the
   * cloud's ack, not for the broker's PUBACK.
   */
  urls?: string[] | undefined;
  username?: string | undefined;
  password?: string | undefined;
  tenantId: string;
  vehicleId: string;
  baseTopic: string;
  /** 'auto' (MQTT 5, falling back to 3.1.1), '5' or '4' (3.1.1); default 'auto'. */
  protocol?: MqttProtocol;
  /** [0...4294967295] s the broker keeps our session while we are away (MQTT 5), default 7 days. */
  sessionExpirySec?: number;
  /** PEM files for mqtts:// (CA to trust, client certificate and key), read at every start. */
  caFile?: string | undefined;
  certFile?: string | undefined;
  keyFile?: string | undefined;
  /**
   * Default `fleet-agent-{tenantId}-{vehicleId}`: stable, so the broker keeps the session, and
   * unique per broker: two tenants may both have a `van-1`, and a broker disconnects the older of
   * two sessions with one client id (both agents would flap, each kicking the other off).
   */
  clientId?: string;
  /**
   * [5...1200] s MQTT keepalive, default 30: a link that silently stops carrying packets (a
   * cellular NAT that forgot us, a tunnel) is noticed after 1.5x this without a PINGRESP, and
   * the agent reconnects and buffers meanwhile. Outgoing publishes do not postpone the ping
   * (mqtt.js reschedules it only on what it receives), so a dead link is found while sending too.
   */
  keepaliveSec?: number;
  /** [100...60000] ms between reconnect attempts, default 2000. */
  reconnectPeriodMs?: number;
  /** [1000...3600000] ms between two health reports (the online status again), default 60,000. */
  healthIntervalMs?: number;
}

/** The link's settings from the agent's (the lanes' own defaults fill the rest). */
export function brokerLinkOptions(
  config: Omit<AgentConfig, 'obdPort' | 'obdBaud' | 'gpsBaud'>,
): BrokerLinkOptions {
  return {
    url: config.mqttUrl,
    urls: config.mqttUrls,
    username: config.mqttUsername,
    password: config.mqttPassword,
    tenantId: config.tenantId,
    vehicleId: config.vehicleId,
    baseTopic: config.baseTopic,
    batchSize: config.metricBatchSize,
    flushIntervalMs: config.flushIntervalMs,
    flushJitterMs: config.flushJitterMs,
    backfillInflight: config.backfillInflight,
    ackFrom: config.ackFrom,
    ackTimeoutMs: config.ackTimeoutMs,
    keepaliveSec: config.keepaliveSec,
    protocol: config.mqttProtocol,
    sessionExpirySec: config.sessionExpirySec,
    caFile: config.mqttCaFile,
    certFile: config.mqttCertFile,
    keyFile: config.mqttKeyFile,
  };
}

export class BrokerLink implements LinkPort {
  readonly stats: { connects: number; protocolVersion: 4 | 5 | null } = {
    connects: 0,
    protocolVersion: null,
  };
  readonly telemetry: TelemetryLane;
  readonly events: EventLane;
  readonly commands: CommandLane;
  /** Present when the agent runs engine models (it has the publisher's key). */
  readonly models: ModelReceiver | null;
  private readonly lanes: Lane[];
  private readonly topics: Record<TopicKind, string>;
  /** topic -> the lane that receives it. */
  private readonly routes = new Map<string, { kind: AgentInboundKind; lane: Lane }>();
  private client: mqtt.MqttClient | undefined;
  private stopped = false;
  private readonly since = Date.now();
  /** The health block of the online status (agent-health.ts); none: the status carries none. */
  private readonly health: (() => AgentHealth) | undefined;
  private healthTimer: NodeJS.Timeout | undefined;
  /** The next SUBSCRIBE of filters the broker refused (see subscribe). */
  private resubscribeTimer: NodeJS.Timeout | undefined;
  private resubscribeDelayMs = RESUBSCRIBE_FIRST_MS;

  constructor(
    private readonly db: AgentDb,
    private readonly opts: BrokerLinkOptions,
    private readonly log: Logger,
    extras: {
      models?: ModelService | null | undefined;
      health?: () => AgentHealth;
      /** The cloud's command key (public half); without it only `ping` is answered. */
      commandKey?: KeyObject | null;
    } = {},
  ) {
    this.health = extras.health;
    this.topics = vehicleTopics(opts.tenantId, opts.vehicleId, opts.baseTopic);
    this.telemetry = new TelemetryLane(db.samples, this, opts, log.child({ lane: 'telemetry' }));
    this.events = new EventLane(db.events, this, opts, log.child({ lane: 'events' }));
    this.commands = new CommandLane(this, log.child({ lane: 'commands' }), {
      tenantId: opts.tenantId,
      vehicleId: opts.vehicleId,
      publicKey: extras.commandKey ?? null,
      seen: db.seenCommands,
    });
    this.models = extras.models ? new ModelReceiver(extras.models, log.child({ lane: 'models' })) : null;
    this.lanes = [this.telemetry, this.events, this.commands, ...(this.models ? [this.models] : [])];
    for (const lane of this.lanes) {
      for (const kind of lane.inbound) this.routes.set(this.topics[kind], { kind, lane });
    }
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  get protocolVersion(): 4 | 5 | null {
    return this.stats.protocolVersion;
  }

  start(): void {
    this.connect(this.opts.protocol === '4' ? 4 : 5);
    for (const lane of this.lanes) lane.start?.();
  }

  async publish(
    kind: AgentOutboundKind,
    payload: string | Buffer,
    userProperties?: UserProperties,
  ): Promise<void> {
    const client = this.client;
    if (!client) throw new Error('broker link not started');
    const { qos, retained } = TOPICS[kind];
    await client.publishAsync(this.topics[kind], payload, {
      qos,
      retain: retained,
      // MQTT 5 brokers and tools can route on these without decoding the payload.
      ...(userProperties && this.stats.protocolVersion === 5 ? { properties: { userProperties } } : {}),
    });
  }

  private statusPayload(state: VehicleStatus['state'], ts = this.since): string {
    const status: VehicleStatus = { v: 1, state, ts };
    if (state === 'online' && this.health) {
      try {
        status.health = this.health();
      } catch (err) {
        // A store that cannot answer must not keep the vehicle from saying it is online.
        this.log.warn({ err: (err as Error).message }, 'no health figures for the status');
      }
    }
    return JSON.stringify(status);
  }

  /** The online status again, with fresh health figures, every healthIntervalMs while connected. */
  private startHealthReports() {
    if (!this.health || this.healthTimer) return;
    this.healthTimer = setInterval(() => this.reportHealth(), this.opts.healthIntervalMs ?? 60_000);
    this.healthTimer.unref();
  }

  /**
   * The online status with fresh health figures now (something the panel shows changed, such as
   * the VIN); while disconnected nothing: the status sent at the next connect carries it.
   */
  reportHealth(): void {
    if (this.connected && this.health)
      void this.publish('status', this.statusPayload('online')).catch(() => {});
  }

  private connect(version: 4 | 5) {
    const o = this.opts;
    const clientId = o.clientId ?? `fleet-agent-${o.tenantId}-${o.vehicleId}`;
    const servers = failoverServers(o.urls, clientId);
    const client = mqtt.connect(o.url, {
      clientId,
      ...(servers ? { servers } : {}),
      username: o.username,
      password: o.password,
      ca: o.caFile ? readFileSync(o.caFile) : undefined,
      cert: o.certFile ? readFileSync(o.certFile) : undefined,
      key: o.keyFile ? readFileSync(o.keyFile) : undefined,
      reconnectPeriod: o.reconnectPeriodMs ?? 2000,
      keepalive: o.keepaliveSec ?? 30,
      connectTimeout: 10_000,
      protocolVersion: version,
      clean: false,
      ...(version === 5
        ? { properties: { sessionExpiryInterval: o.sessionExpirySec ?? 7 * 24 * 3600 } }
        : {}),
      will: {
        topic: this.topics.status,
        payload: Buffer.from(this.statusPayload('offline')),
        qos: TOPICS.status.qos,
        retain: TOPICS.status.retained,
      },
    });
    this.client = client;
    let everConnected = false;
    client.on('connect', () => {
      everConnected = true;
      this.stats.connects++;
      this.stats.protocolVersion = version;
      const broker = servers ? safeUrl(brokerOf(client)) : safeUrl(o.url);
      this.db.setLinkState(true, broker);
      this.log.info({ broker, mqtt: version }, 'connected to broker');
      void this.publish('status', this.statusPayload('online')).catch(() => {});
      this.startHealthReports();
      clearTimeout(this.resubscribeTimer);
      this.resubscribeTimer = undefined;
      this.resubscribeDelayMs = RESUBSCRIBE_FIRST_MS;
      this.subscribe(client);
      for (const lane of this.lanes) lane.connected?.();
    });
    client.on('message', (topic, payload) => {
      const route = this.routes.get(topic);
      route?.lane.message?.(route.kind, payload);
    });
    client.on('offline', () => {
      this.db.setLinkState(false);
      this.log.warn('broker unreachable; buffering in SQLite');
    });
    client.on('error', (err) => {
      const code = (err as { code?: unknown }).code;
      if (
        version === 5 &&
        (o.protocol ?? 'auto') === 'auto' &&
        !everConnected &&
        (code === 1 || code === 132)
      ) {
        this.log.info('broker refuses MQTT 5; falling back to MQTT 3.1.1');
        client.end(true);
        if (!this.stopped) this.connect(4);
        return;
      }
      this.log.warn({ err: err.message }, 'mqtt error');
    });
  }

  /**
   * Every connect, with `resubscribe`: a broker restored from persistence may have kept the
   * session but not the subscriptions, and mqtt.js skips a filter it already lists unless told.
   *
   * Each filter at its kind's QoS (TOPICS): the cloud's acks are QoS 0, so they are subscribed at
   * QoS 0; a QoS 1 subscription would gain nothing for them, and on NATS costs a replicated
   * JetStream consumer per filter and vehicle, whose creation can fail.
   *
   * A filter the SUBACK refuses (0x80 or another failure code) is subscribed again after a pause,
   * doubling from 1 s to 30 s, for as long as this connection lasts: a refusal is not always an
   * ACL. NATS refuses a QoS 1 filter when it cannot create that filter's JetStream consumer in
   * time, as happens while the cluster re-elects its leaders after losing a node, and drops the
   * subscription; an agent that took the refusal as final stayed connected and never heard an
   * ack again, resending its outbox forever (issue 20, node loss).
   */
  private subscribe(client: mqtt.MqttClient, topics: readonly string[] = [...this.routes.keys()]) {
    if (topics.length === 0) return;
    const map: Record<string, unknown> = { resubscribe: true };
    for (const topic of topics) map[topic] = { qos: TOPICS[this.routes.get(topic)!.kind].qos };
    client.subscribe(map as unknown as mqtt.ISubscriptionMap, (err, granted, packet) => {
      // A newer connection (or stop) took over: its own SUBSCRIBE decides.
      if (client !== this.client || this.stopped) return;
      const refused = refusedFilters(topics, err, granted, packet);
      if (err && !packet?.granted)
        this.log.warn({ err: err.message }, 'cannot subscribe to the cloud topics');
      for (const lane of this.lanes) {
        const asked = lane.inbound.filter((k) => topics.includes(this.topics[k]));
        const mine = asked.filter((k) => refused.has(this.topics[k]));
        if (mine.length > 0) this.log.warn({ kinds: mine }, 'subscription refused by the broker');
        if (asked.length > 0) lane.subscribed?.(mine);
      }
      clearTimeout(this.resubscribeTimer);
      this.resubscribeTimer = undefined;
      if (refused.size === 0) {
        this.resubscribeDelayMs = RESUBSCRIBE_FIRST_MS;
        return;
      }
      const delay = this.resubscribeDelayMs;
      this.resubscribeDelayMs = Math.min(delay * 2, RESUBSCRIBE_MAX_MS);
      this.log.info({ filters: refused.size, retryInMs: delay }, 'subscribing again to the refused filters');
      this.resubscribeTimer = setTimeout(() => {
        this.resubscribeTimer = undefined;
        // Disconnected meanwhile: the next connect subscribes to everything anyway.
        if (client === this.client && client.connected && !this.stopped) this.subscribe(client, [...refused]);
      }, delay);
      this.resubscribeTimer.unref();
    });
  }

  /** Resolves once connected (or rejects after `timeoutMs`). */
  waitConnected(timeoutMs: number): Promise<void> {
    if (this.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const started = Date.now();
      const poll = setInterval(() => {
        if (this.connected) {
          clearInterval(poll);
          resolve();
        } else if (Date.now() - started > timeoutMs) {
          clearInterval(poll);
          reject(new Error(`not connected to ${safeUrl(this.opts.url)} after ${timeoutMs} ms`));
        }
      }, 50);
    });
  }

  /** The lanes end their rounds (unacknowledged data stays in SQLite), then the session ends. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.healthTimer);
    clearTimeout(this.resubscribeTimer);
    await Promise.all(this.lanes.map((lane) => lane.stop?.()));
    const client = this.client;
    if (client?.connected) {
      await client
        .publishAsync(this.topics.status, this.statusPayload('offline', Date.now()), {
          qos: TOPICS.status.qos,
          retain: TOPICS.status.retained,
        })
        .catch(() => {});
    }
    await client?.endAsync();
    try {
      this.db.setLinkState(false);
    } catch {
      // the database may already be closed by a caller that stops in another order
    }
  }
}

/**
 * mqtt.js `servers` from the broker list, rotated to start at this client's own place (a stable
 * hash of its id); undefined for a single broker. mqtt.js moves to the next entry at every
 * reconnect attempt, wrapping around.
 */
export function failoverServers(
  urls: readonly string[] | undefined,
  clientId: string,
): { host: string; port: number; protocol: 'mqtt' | 'mqtts' }[] | undefined {
  if (!urls || urls.length < 2) return undefined;
  const servers = urls.map((u) => {
    const parsed = new URL(u);
    const protocol = parsed.protocol === 'mqtts:' ? 'mqtts' : 'mqtt';
    return {
      host: parsed.hostname,
      port: parsed.port ? Number(parsed.port) : protocol === 'mqtts' ? 8883 : 1883,
      protocol,
    } as const;
  });
  let hash = 0;
  for (let i = 0; i < clientId.length; i++) hash = (hash * 31 + clientId.charCodeAt(i)) >>> 0;
  const start = hash % servers.length;
  return [...servers.slice(start), ...servers.slice(0, start)];
}

/**
 * The filters of one SUBSCRIBE the broker did not grant. mqtt.js reports any failure code in the
 * SUBACK as an error with the SUBACK itself (codes in the order of the request); an error without
 * one (the connection closed first) leaves every filter unsubscribed.
 */
function refusedFilters(
  topics: readonly string[],
  err: Error | null | undefined,
  granted: mqtt.ISubscriptionGrant[] | undefined,
  packet: { granted?: unknown[] } | undefined,
): Set<string> {
  const codes = packet?.granted;
  if (codes && codes.length === topics.length) {
    return new Set(topics.filter((_, i) => (Number(codes[i]) & 0x80) !== 0));
  }
  if (err) return new Set(topics);
  return new Set((granted ?? []).filter((g) => g.qos >= 128).map((g) => g.topic));
}

/** The broker this client is connected to now (the `servers` entry mqtt.js last dialled). */
function brokerOf(client: mqtt.MqttClient): string {
  const { protocol, hostname, port } = client.options;
  return `${protocol ?? 'mqtt'}://${hostname}:${port}`;
}
