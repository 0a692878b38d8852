import { z } from 'zod';

/**
 * The commands lane: the cloud asks one vehicle to do something now (remote diagnostics: read the
 * DTCs, clear them, take a snapshot...), the agent answers once per command.
 *
 *   cloud --AgentCommand--> {base}/v1/{tenant}/{vehicle}/commands      (QoS 1)
 *   agent --AgentCommandResult--> {base}/v1/{tenant}/{vehicle}/commands-ack (QoS 1)
 *
 * Authentication is the broker's: only this vehicle's login may read its `commands` and write
 * its `commands-ack` (docker/mosquitto/acl); the payload carries no credentials of its own.
 * QoS 1 is at-least-once: a command may arrive twice, and the answer carries its `id` so the
 * cloud matches it (handlers must be safe to run twice, as `ping` is).
 *
 * Each command has an args and a result schema here, so the cloud and the agent agree on both;
 * a command the agent does not know is answered `unknown`, never ignored.
 */
export const AGENT_COMMAND_VERSION = 1;

export const AGENT_COMMANDS = {
  /** Is the vehicle reachable, and how long has the agent been up. */
  ping: {
    args: z.object({}).strict(),
    result: z.object({ pong: z.literal(true), uptimeMs: z.number().int().nonnegative() }),
  },
} as const satisfies Record<string, { args: z.ZodType; result: z.ZodType }>;

export type AgentCommandName = keyof typeof AGENT_COMMANDS;
export type AgentCommandArgs<N extends AgentCommandName> = z.infer<(typeof AGENT_COMMANDS)[N]['args']>;
export type AgentCommandOutput<N extends AgentCommandName> = z.infer<(typeof AGENT_COMMANDS)[N]['result']>;

/** Payload of `.../commands`. `name` is checked against AGENT_COMMANDS by the agent, not here. */
export const AgentCommand = z.object({
  v: z.literal(AGENT_COMMAND_VERSION),
  /** Chosen by the cloud, echoed in the answer. */
  id: z.string().min(1).max(64),
  name: z.string().min(1).max(64),
  args: z.unknown().optional(),
});
export type AgentCommand = z.infer<typeof AgentCommand>;

/**
 * Payload of `.../commands-ack`. `ok` with the command's result; `unknown` (no such command on
 * this agent version), `invalid` (args or the command itself do not parse) or `failed` (the
 * handler threw) with a reason.
 */
export const AgentCommandResult = z.object({
  v: z.literal(AGENT_COMMAND_VERSION),
  /** The command's id; null when the command was too malformed to have one. */
  id: z.string().max(64).nullable(),
  status: z.enum(['ok', 'unknown', 'invalid', 'failed']),
  result: z.unknown().optional(),
  reason: z.string().max(500).optional(),
});
export type AgentCommandResult = z.infer<typeof AgentCommandResult>;
