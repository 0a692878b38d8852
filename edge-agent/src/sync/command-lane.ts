/**
 *   cloud ──AgentCommand──▶ .../commands ─▶ CommandLane ─▶ handler (by name) ─┐
 *   cloud ◀──AgentCommandResult── .../commands-ack ◀──────────────────────────┘
 *
 * Remote requests to this vehicle (remote diagnostics plugs its commands in here). Who may send
 * one is the broker's decision: only the cloud writes `commands` and only this vehicle's login
 * reads them (docker/mosquitto/acl). Every command gets exactly one answer, `unknown` and
 * `invalid` included, so the cloud never waits for a command this agent version does not have.
 *
 * Handlers are typed by the shared AGENT_COMMANDS table (args in, result out, both checked);
 * `ping` is built in. A handler's failure is answered `failed` with its message, never thrown
 * into the link.
 */
import {
  AGENT_COMMAND_VERSION,
  AGENT_COMMANDS,
  AgentCommand,
  type AgentCommandArgs,
  type AgentCommandName,
  type AgentCommandOutput,
  type AgentCommandResult,
} from '@fleet/shared';
import type { Logger } from '@fleet/shared/log';
import { z } from 'zod';
import type { Lane, LinkPort } from './lane.ts';

export type CommandHandler<N extends AgentCommandName> = (
  args: AgentCommandArgs<N>,
) => AgentCommandOutput<N> | Promise<AgentCommandOutput<N>>;

type AnyHandler = (args: unknown) => unknown;

export class CommandLane implements Lane {
  readonly inbound = ['commands'] as const;
  readonly stats = { received: 0, answered: 0, invalid: 0, unknown: 0, failed: 0 };
  private readonly handlers = new Map<string, AnyHandler>();
  private readonly startedAt = Date.now();

  constructor(
    private readonly link: LinkPort,
    private readonly log: Logger,
  ) {
    this.handle('ping', () => ({ pong: true, uptimeMs: Date.now() - this.startedAt }));
  }

  /** Registers the handler of one command (the latest registration wins). */
  handle<N extends AgentCommandName>(name: N, handler: CommandHandler<N>): void {
    this.handlers.set(name, handler as AnyHandler);
  }

  subscribed(refused: readonly string[]): void {
    if (refused.length > 0) this.log.warn('commands refused by the broker (ACL?): none will arrive');
  }

  message(_kind: 'commands', payload: Buffer): void {
    this.stats.received++;
    void this.run(payload).then(
      (answer) => this.answer(answer),
      (err: unknown) => this.log.error({ err: (err as Error).message }, 'command not answered'),
    );
  }

  private async run(payload: Buffer): Promise<AgentCommandResult> {
    let command: AgentCommand;
    try {
      command = AgentCommand.parse(JSON.parse(payload.toString('utf8')));
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
    const args = spec.args.safeParse(command.args ?? {});
    if (!args.success) {
      this.stats.invalid++;
      return this.result(command.id, 'invalid', { reason: z.prettifyError(args.error) });
    }
    try {
      const result = spec.result.parse(await handler(args.data));
      this.log.info({ id: command.id, name: command.name }, 'command answered');
      return this.result(command.id, 'ok', { result });
    } catch (err) {
      this.stats.failed++;
      this.log.warn({ id: command.id, name: command.name, err: (err as Error).message }, 'command failed');
      return this.result(command.id, 'failed', { reason: (err as Error).message });
    }
  }

  private result(
    id: string | null,
    status: AgentCommandResult['status'],
    rest: Pick<AgentCommandResult, 'result' | 'reason'>,
  ): AgentCommandResult {
    const reason = rest.reason?.slice(0, 500);
    return { v: AGENT_COMMAND_VERSION, id, status, ...rest, ...(reason ? { reason } : {}) };
  }

  private async answer(result: AgentCommandResult) {
    // While the link is down the answer waits in mqtt.js's queue; the cloud may also ask again.
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
