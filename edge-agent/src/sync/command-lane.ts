/**
 *   cloud ──AgentCommand (signed)──▶ .../commands ─▶ CommandLane ─▶ check ─▶ claim id ─▶ handler ─┐
 *   cloud ◀──AgentCommandResult── .../commands-ack ◀──────────────────────────────────────────────┘
 *
 * Remote requests to this vehicle (remote diagnostics, edge-agent/src/commands). The broker
 * decides who may publish one (docker/mosquitto/acl); this lane decides whether to act on it:
 *
 *   1. it parses (else `invalid`) and names a command this agent has (else `unknown`);
 *   2. every command but `ping` is signed by the cloud's command key (Ed25519, the public half
 *      in the agent's config, --command-public-key) for THIS tenant and vehicle and is not past
 *      its expiry by this vehicle's clock (else `refused`: unsigned, forged, other-vehicle,
 *      expired);
 *   3. its id and nonce are claimed in SQLite (seen-commands.ts) before the handler runs, so a
 *      redelivery, a resend or a replay, before or after a restart, is `refused` as replayed:
 *      the handler runs at most once per id;
 *   4. args checked against the shared table (else `invalid`), the handler runs (`ok` or `failed`).
 *
 * Every command gets exactly one answer and every refusal is counted by reason (SQLite, so the
 * counts survive restarts; reported in the health block of the status). `ping` stays unsigned:
 * it reads and changes nothing, and the link test uses it to see the lane alive.
 */
import type { KeyObject } from 'node:crypto';
import {
  AGENT_COMMAND_VERSION,
  AGENT_COMMANDS,
  AgentCommand,
  type AgentCommandArgs,
  type AgentCommandName,
  type AgentCommandOutput,
  type AgentCommandResult,
  type CommandRefusal,
} from '@fleet/shared';
import { checkCommand } from '@fleet/shared/command-sign';
import type { Logger } from '@fleet/shared/log';
import { z } from 'zod';
import type { SeenCommands } from '../commands/seen-commands.ts';
import type { Lane, LinkPort } from './lane.ts';

export type CommandHandler<N extends AgentCommandName> = (
  args: AgentCommandArgs<N>,
  command: AgentCommand,
) => AgentCommandOutput<N> | Promise<AgentCommandOutput<N>>;

type AnyHandler = (args: unknown, command: AgentCommand) => unknown;

export interface CommandLaneOptions {
  tenantId: string;
  vehicleId: string;
  /** The cloud's command key (public half); null: only `ping` is answered, the rest refused. */
  publicKey: KeyObject | null;
  /** Ids already run (SQLite) and refusal counts. */
  seen: SeenCommands;
  /** The vehicle's clock (tests move it). */
  now?: () => number;
}

export class CommandLane implements Lane {
  readonly inbound = ['commands'] as const;
  readonly stats = {
    received: 0,
    answered: 0,
    invalid: 0,
    unknown: 0,
    failed: 0,
    refused: 0,
    ran: 0,
  };
  private readonly handlers = new Map<string, AnyHandler>();
  private readonly startedAt = Date.now();
  private readonly now: () => number;
  private pruneTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly link: LinkPort,
    private readonly log: Logger,
    private readonly opts: CommandLaneOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.handle('ping', () => ({ pong: true, uptimeMs: Date.now() - this.startedAt }));
  }

  /** Registers the handler of one command (the latest registration wins). */
  handle<N extends AgentCommandName>(name: N, handler: CommandHandler<N>): void {
    this.handlers.set(name, handler as AnyHandler);
  }

  start(): void {
    // Expired ids go after their grace period; once an hour is plenty for a few rows.
    const prune = () => {
      try {
        this.opts.seen.prune(this.now());
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'cannot prune seen commands');
      }
    };
    prune();
    this.pruneTimer = setInterval(prune, 3600_000);
    this.pruneTimer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.pruneTimer);
  }

  subscribed(refused: readonly string[]): void {
    if (refused.length > 0)
      this.log.warn('commands refused by the broker (ACL, or a cluster electing leaders): subscribing again');
  }

  message(_kind: 'commands', payload: Buffer): void {
    this.stats.received++;
    void this.run(payload).then(
      (answer) => this.answer(answer),
      (err: unknown) => this.log.error({ err: (err as Error).message }, 'command not answered'),
    );
  }

  private async run(payload: Buffer): Promise<AgentCommandResult> {
    let raw: Record<string, unknown>;
    let command: AgentCommand;
    try {
      raw = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
      command = AgentCommand.parse(raw);
    } catch (err) {
      this.stats.invalid++;
      const reason = err instanceof z.ZodError ? z.prettifyError(err) : (err as Error).message;
      return this.result(idOf(payload), 'invalid', { reason: `not a command: ${reason}` });
    }
    const spec = AGENT_COMMANDS[command.name as AgentCommandName] as
      | (typeof AGENT_COMMANDS)[AgentCommandName]
      | undefined;
    const handler = this.handlers.get(command.name);
    if (!spec || !handler) {
      this.stats.unknown++;
      return this.result(command.id, 'unknown', { reason: `no command "${command.name}" on this agent` });
    }
    if (command.name !== 'ping') {
      const refusal = this.check(raw, command);
      if (refusal) return refusal;
    }
    const args = spec.args.safeParse(command.args ?? {});
    if (!args.success) {
      this.stats.invalid++;
      return this.result(command.id, 'invalid', { reason: z.prettifyError(args.error) });
    }
    try {
      this.stats.ran++;
      const result = spec.result.parse(await handler(args.data, command));
      this.log.info({ id: command.id, name: command.name }, 'command answered');
      return this.result(command.id, 'ok', { result });
    } catch (err) {
      this.stats.failed++;
      this.log.warn({ id: command.id, name: command.name, err: (err as Error).message }, 'command failed');
      return this.result(command.id, 'failed', { reason: (err as Error).message });
    }
  }

  /** Signature, vehicle, expiry, then the once-only claim; a refusal answer, or null to run it. */
  private check(raw: Record<string, unknown>, command: AgentCommand): AgentCommandResult | null {
    const refuse = (refusal: CommandRefusal, reason: string) => {
      this.stats.refused++;
      this.opts.seen.countRefusal(refusal);
      this.log.warn({ id: command.id, name: command.name, refusal, reason }, 'command refused');
      return this.result(command.id, 'refused', { refusal, reason });
    };
    if (!this.opts.publicKey)
      return refuse(
        'unsigned',
        'this agent has no command key (--command-public-key): only ping is answered',
      );
    const verdict = checkCommand(raw, {
      publicKey: this.opts.publicKey,
      tenantId: this.opts.tenantId,
      vehicleId: this.opts.vehicleId,
      now: this.now(),
    });
    if (!verdict.ok) return refuse(verdict.refusal, verdict.reason);
    const claimed = this.opts.seen.claim(
      { id: command.id, nonce: command.nonce!, name: command.name, expiresAt: command.expiresAt! },
      this.now(),
    );
    if (!claimed) return refuse('replayed', `command ${command.id} (or its nonce) was run already`);
    return null;
  }

  private result(
    id: string | null,
    status: AgentCommandResult['status'],
    rest: Pick<AgentCommandResult, 'result' | 'reason' | 'refusal'>,
  ): AgentCommandResult {
    const reason = rest.reason?.slice(0, 500);
    return { v: AGENT_COMMAND_VERSION, id, status, ...rest, ...(reason ? { reason } : {}) };
  }

  private async answer(result: AgentCommandResult) {
    // While the link is down the answer waits in mqtt.js's queue.
    await this.link.publish('commands-ack', JSON.stringify(result));
    this.stats.answered++;
  }
}

/** The id of a command that did not parse, if it has a usable one (so the cloud can match the refusal). */
function idOf(payload: Buffer): string | null {
  try {
    const id = (JSON.parse(payload.toString('utf8')) as { id?: unknown }).id;
    return typeof id === 'string' && id.length > 0 && id.length <= 64 ? id : null;
  } catch {
    return null;
  }
}
