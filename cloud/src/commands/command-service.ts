/**
 *   API / CLI ──issueCommand──▶ vehicle_commands (pending, signed, audited)
 *        │                                │
 *        └─▶ CommandService.deliver ──────┴─ vehicle online? ─▶ publish .../commands (QoS 1)
 *                  ▲                                           (MQTT 5: message expiry = the command's)
 *   .../status ────┘ online again: every command still waiting is published again (same bytes)
 *   .../commands-ack ─▶ recordAnswer (first answer wins; audited)
 *   .../commands-stream ─▶ live PID frames to the browsers watching that stream (no storage)
 *   every sweepMs: expire what is past its expiry (audited; never published after), publish
 *   pending commands of online vehicles (those the CLI issued)
 *
 * The cloud side of remote commands. One broker connection of its own (the ingest's login and
 * connection pattern, ingest-client.ts); a plain subscription, so every cloud process sees every
 * answer: recording one is idempotent (first answer wins), and a stream frame must reach the
 * process that holds the browser's SSE stream.
 *
 * Offline vehicles: nothing is published to a vehicle the status says is offline; its commands
 * wait in the table and go out when its `online` status arrives, until they expire. A resend of a
 * command the agent already ran is answered `replayed` and ignored here (seen-commands.ts).
 */
import type { KeyObject } from 'node:crypto';
import {
  AgentCommandResult,
  CommandStreamFrame,
  fleetFilter,
  parseVehicleTopic,
  TOPICS,
  VehicleStatus,
  vehicleTopic,
} from '@fleet/shared';
import type { Logger } from '@fleet/shared/log';
import type mqtt from 'mqtt';
import type pg from 'pg';
import { inTenant } from '../db/tenant.ts';
import { CloudError, CloudErrorCode } from '../errors.ts';
import { connectIngestClient } from '../ingest/ingest-client.ts';
import {
  type CommandView,
  claimSend,
  expireCommands,
  issueCommand,
  type NewCommand,
  recordAnswer,
  tenantsWithDueExpiry,
  unsentCommands,
  waitingCommands,
} from './command-store.ts';

export interface CommandServiceOptions {
  pool: pg.Pool;
  mqttUrl: string;
  mqttUsername?: string | undefined;
  mqttPassword?: string | undefined;
  baseTopic: string;
  clientId: string;
  signingKey: KeyObject;
  log: Logger;
  /** [100...60000] ms between two sweeps (expiry, unsent), default 1000. */
  sweepMs?: number;
}

type FrameListener = (frame: CommandStreamFrame) => void;

export class CommandService {
  private static current: CommandService | null = null;
  /** The process's service (main.ts starts it when FLEET_COMMAND_KEY_FILE is set). */
  static get(): CommandService {
    if (!CommandService.current)
      throw new CloudError(
        CloudErrorCode.CommandsUnavailable,
        'remote commands are not configured on this server (FLEET_COMMAND_KEY_FILE)',
      );
    return CommandService.current;
  }

  readonly stats = { published: 0, answers: 0, ignoredAnswers: 0, expired: 0, frames: 0, badMessages: 0 };
  private client: mqtt.MqttClient | undefined;
  /** tenant/vehicle -> online, from the retained status topic. */
  private readonly online = new Map<string, boolean>();
  /** streamId -> who watches it, and whose stream it is (a frame from another vehicle is dropped). */
  private readonly streams = new Map<
    string,
    { tenantId: string; vehicleId: string; listeners: Set<FrameListener> }
  >();
  private timer: NodeJS.Timeout | undefined;
  private sweeping = false;

  constructor(private readonly opts: CommandServiceOptions) {}

  async start(): Promise<void> {
    const o = this.opts;
    const common = {
      mqttUrl: o.mqttUrl,
      mqttUsername: o.mqttUsername,
      mqttPassword: o.mqttPassword,
      clientId: o.clientId,
      log: o.log,
      logContext: { lane: 'commands' },
      onMessage: (_c: mqtt.MqttClient, packet: mqtt.IPublishPacket, done: () => void) => {
        void this.message(packet.topic, packet.payload as Buffer).finally(done);
      },
    };
    let connected: Awaited<ReturnType<typeof connectIngestClient>>;
    try {
      connected = await connectIngestClient({ ...common, protocolVersion: 5 });
    } catch (err) {
      if (err instanceof CloudError) throw err;
      connected = await connectIngestClient({ ...common, protocolVersion: 4 }); // aedes
    }
    this.client = connected.client;
    const filters = ['commands-ack', 'commands-stream', 'status'].map((k) =>
      fleetFilter(k as 'status', o.baseTopic),
    );
    await this.client.subscribeAsync(filters, { qos: 1 });
    this.client.on('connect', () => {
      this.client?.subscribe(
        { ...Object.fromEntries(filters.map((f) => [f, { qos: 1 }])), resubscribe: true } as never,
        () => {},
      );
    });
    this.timer = setInterval(() => void this.sweep(), o.sweepMs ?? 1000);
    this.timer.unref();
    CommandService.current = this;
    o.log.info({ base: o.baseTopic }, 'remote commands ready');
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    if (CommandService.current === this) CommandService.current = null;
    await this.client?.endAsync();
  }

  isOnline(tenantId: string, vehicleId: string): boolean {
    return this.online.get(`${tenantId}/${vehicleId}`) === true;
  }

  /** Issue (sign, store, audit) and, when the vehicle is online, publish now. */
  async send(c: NewCommand): Promise<CommandView> {
    const view = await inTenant(this.opts.pool, c.tenantId, (db) =>
      issueCommand(db, this.opts.signingKey, c),
    );
    if (this.isOnline(c.tenantId, c.vehicleId)) await this.deliver(c.tenantId, c.vehicleId, view.id);
    return view;
  }

  /** Frames of one stream, until the returned function is called. */
  watchStream(tenantId: string, vehicleId: string, streamId: string, listener: FrameListener): () => void {
    let s = this.streams.get(streamId);
    if (!s) {
      s = { tenantId, vehicleId, listeners: new Set() };
      this.streams.set(streamId, s);
    }
    s.listeners.add(listener);
    return () => {
      s.listeners.delete(listener);
      if (s.listeners.size === 0) this.streams.delete(streamId);
    };
  }

  /** Publishes one waiting command (marks it sent first); false when it must not go out any more. */
  private async deliver(tenantId: string, vehicleId: string, id: string): Promise<boolean> {
    const claim = await inTenant(this.opts.pool, tenantId, (db) => claimSend(db, id));
    if (!claim || !this.client) return false;
    const seconds = Math.max(1, Math.ceil((claim.expiresAt - Date.now()) / 1000));
    try {
      await this.client.publishAsync(
        vehicleTopic('commands', tenantId, vehicleId, this.opts.baseTopic),
        JSON.stringify(claim.payload),
        {
          qos: TOPICS.commands.qos,
          retain: false,
          // A broker that queues it for an offline session drops it at the command's expiry.
          ...(this.client.options.protocolVersion === 5
            ? { properties: { messageExpiryInterval: seconds } }
            : {}),
        },
      );
      this.stats.published++;
      return true;
    } catch (err) {
      // Still `sent` in the table: the vehicle's next online status sends it again.
      this.opts.log.warn({ id, err: (err as Error).message }, 'command not taken by the broker');
      return false;
    }
  }

  private async deliverWaiting(tenantId: string, vehicleId: string): Promise<void> {
    const ids = await inTenant(this.opts.pool, tenantId, (db) => waitingCommands(db, vehicleId));
    for (const id of ids) await this.deliver(tenantId, vehicleId, id);
  }

  private async message(topic: string, payload: Buffer): Promise<void> {
    const parsed = parseVehicleTopic(topic, this.opts.baseTopic);
    if (!parsed) return;
    const { tenantId, vehicleId, kind } = parsed;
    try {
      if (kind === 'status') {
        const status = VehicleStatus.safeParse(JSON.parse(payload.toString('utf8')));
        if (!status.success) return;
        const key = `${tenantId}/${vehicleId}`;
        const was = this.online.get(key);
        const now = status.data.state === 'online';
        this.online.set(key, now);
        // Not awaited: mqtt.js hands us messages one at a time and reads nothing else (PUBACKs
        // included) until this returns, so awaiting our own publish here would deadlock the client.
        if (now && was !== true)
          void this.deliverWaiting(tenantId, vehicleId).catch((err: unknown) =>
            this.opts.log.warn({ vehicleId, err: (err as Error).message }, 'waiting commands not sent'),
          );
      } else if (kind === 'commands-ack') {
        const answer = AgentCommandResult.safeParse(JSON.parse(payload.toString('utf8')));
        if (!answer.success) {
          this.stats.badMessages++;
          return;
        }
        const view = await inTenant(this.opts.pool, tenantId, (db) =>
          recordAnswer(db, tenantId, vehicleId, answer.data),
        );
        if (view) this.stats.answers++;
        else this.stats.ignoredAnswers++;
      } else if (kind === 'commands-stream') {
        const frame = CommandStreamFrame.safeParse(JSON.parse(payload.toString('utf8')));
        if (!frame.success) {
          this.stats.badMessages++;
          return;
        }
        const s = this.streams.get(frame.data.streamId);
        if (!s || s.tenantId !== tenantId || s.vehicleId !== vehicleId) return;
        this.stats.frames++;
        for (const l of s.listeners) l(frame.data);
      }
    } catch (err) {
      this.stats.badMessages++;
      this.opts.log.warn({ topic, err: (err as Error).message }, 'command message not handled');
    }
  }

  /** Expire what is due; publish what was issued elsewhere (CLI) for vehicles online now. */
  private async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      for (const tenantId of await tenantsWithDueExpiry(this.opts.pool)) {
        const expired = await inTenant(this.opts.pool, tenantId, (db) => expireCommands(db, tenantId));
        this.stats.expired += expired.length;
      }
      for (const { tenantId, vehicleId } of await unsentCommands(this.opts.pool))
        if (this.isOnline(tenantId, vehicleId)) await this.deliverWaiting(tenantId, vehicleId);
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, 'command sweep failed');
    } finally {
      this.sweeping = false;
    }
  }
}
