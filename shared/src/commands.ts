import { z } from 'zod';
import { canonicalJson } from './model-artifact.ts';

/**
 * The commands lane: the cloud asks one vehicle to do something now (remote diagnostics: read the
 * DTCs, clear them, stream live PIDs...), the agent answers once per command.
 *
 *   cloud --AgentCommand (signed)--> {base}/v1/{tenant}/{vehicle}/commands         (QoS 1)
 *   agent --AgentCommandResult-----> {base}/v1/{tenant}/{vehicle}/commands-ack     (QoS 1)
 *   agent --CommandStreamFrame-----> {base}/v1/{tenant}/{vehicle}/commands-stream  (QoS 0, streamPids)
 *
 * The broker's ACL decides who may publish a command; the payload also carries the cloud's
 * Ed25519 signature over a canonical encoding (commandSigningText) that names the tenant and
 * vehicle, an id, issuedAt, expiresAt and a nonce: a vehicle acts only on a command the cloud
 * signed for it, before its expiry, once per id (persisted across restarts, edge-agent
 * commands/seen-commands.ts). `ping` alone may come unsigned: it reads nothing and changes nothing.
 * QoS 1 is at-least-once: a command may arrive twice; the second is answered `refused` (replayed).
 *
 * Each command has an args and a result schema here, so the cloud and the agent agree on both;
 * a command the agent does not know is answered `unknown`, never ignored.
 */
export const AGENT_COMMAND_VERSION = 1;

/** A PID of service 01 as the agent reads it (0x00-0xFF). */
const Pid = z.number().int().min(0).max(0xff);
const Code = z.object({
  code: z.string(),
  kind: z.enum(['stored', 'pending', 'permanent']),
  ecu: z.string(),
});

/** [10...600] s: a live PID stream is bounded (at most 10 min); it also stops on `stopStream`. */
export const MAX_STREAM_SECONDS = 600;
/** [1...65536] bytes of the agent's recent log lines a `fetchLogs` may return, default 16 KiB. */
export const MAX_LOG_BYTES = 65_536;

export const AGENT_COMMANDS = {
  /** Is the vehicle reachable, and how long has the agent been up. */
  ping: {
    args: z.object({}).strict(),
    result: z.object({ pong: z.literal(true), uptimeMs: z.number().int().nonnegative() }),
  },
  /** Services 03 and 07 now, with PID 01's MIL. */
  readDtcs: {
    args: z.object({}).strict(),
    result: z.object({ codes: z.array(Code), milOn: z.boolean().nullable(), readAt: z.number() }),
  },
  /** Service 04 (clears codes, freeze frames and monitors), then 03 again to show what is left. */
  clearDtcs: {
    args: z.object({ reason: z.string().trim().min(3).max(500) }).strict(),
    result: z.object({
      cleared: z.array(z.string()),
      remaining: z.array(Code),
      milOn: z.boolean().nullable(),
    }),
  },
  /** Poll these PIDs beside the usual ones and publish them on `commands-stream` for `seconds`. */
  streamPids: {
    args: z
      .object({
        pids: z.array(Pid).min(1).max(12),
        seconds: z.number().int().min(5).max(MAX_STREAM_SECONDS),
      })
      .strict(),
    result: z.object({ streamId: z.string(), until: z.number(), pids: z.array(Pid) }),
  },
  /** Ends a stream before its time (the browser closed the page). */
  stopStream: {
    args: z.object({ streamId: z.string().min(1).max(64) }).strict(),
    result: z.object({ stopped: z.boolean(), frames: z.number().int().nonnegative() }),
  },
  /** The agent's state: link, OBD, store and command counters. */
  agentStatus: {
    args: z.object({}).strict(),
    result: z.record(z.string(), z.unknown()),
  },
  /** The newest log lines, at most `maxBytes` (whole lines). */
  fetchLogs: {
    args: z.object({ maxBytes: z.number().int().min(1).max(MAX_LOG_BYTES).default(16_384) }).strict(),
    result: z.object({ lines: z.array(z.string()), bytes: z.number().int(), truncated: z.boolean() }),
  },
  /** Poll pacing: ms between poll cycles [0...60000], and between reads of the slow PIDs. */
  setPollRates: {
    args: z
      .object({
        cycleDelayMs: z.number().int().min(0).max(60_000).optional(),
        slowPeriodMs: z.number().int().min(1000).max(600_000).optional(),
      })
      .strict()
      .refine((a) => a.cycleDelayMs !== undefined || a.slowPeriodMs !== undefined, {
        message: 'give cycleDelayMs or slowPeriodMs',
      }),
    result: z.object({ cycleDelayMs: z.number().int(), slowPeriodMs: z.number().int() }),
  },
  /** Back to the previous engine-anomaly model (the one installed before the active one). */
  rollbackModel: {
    args: z.object({}).strict(),
    result: z.object({ active: z.string().nullable() }),
  },
} as const satisfies Record<string, { args: z.ZodType; result: z.ZodType }>;

export type AgentCommandName = keyof typeof AGENT_COMMANDS;
export type AgentCommandArgs<N extends AgentCommandName> = z.infer<(typeof AGENT_COMMANDS)[N]['args']>;
export type AgentCommandOutput<N extends AgentCommandName> = z.infer<(typeof AGENT_COMMANDS)[N]['result']>;

export const AGENT_COMMAND_NAMES = Object.keys(AGENT_COMMANDS) as AgentCommandName[];

/** Payload of `.../commands`. `name` is checked against AGENT_COMMANDS by the agent, not here. */
export const AgentCommand = z.object({
  v: z.literal(AGENT_COMMAND_VERSION),
  /** Chosen by the cloud, echoed in the answer. */
  id: z.string().min(1).max(64),
  name: z.string().min(1).max(64),
  args: z.unknown().optional(),
  // The signed envelope (all present on every command but an unsigned `ping`).
  tenantId: z.string().max(64).optional(),
  vehicleId: z.string().max(64).optional(),
  /** Epoch ms the cloud signed it. */
  issuedAt: z.number().int().optional(),
  /** Epoch ms after which the vehicle must not run it. */
  expiresAt: z.number().int().optional(),
  /** 16 random bytes, base64url: two commands never sign the same text. */
  nonce: z.string().min(16).max(64).optional(),
  /** Which cloud key signed (keyIdOf), so a rotated key is named in the refusal. */
  keyId: z.string().max(64).optional(),
  /** Ed25519 over commandSigningText(command), base64. */
  signature: z.string().max(200).optional(),
});
export type AgentCommand = z.infer<typeof AgentCommand>;

const COMMAND_SIGNING_PREFIX = 'fleet-agent-command/v1\n';

/**
 * The exact text the cloud signs and the agent verifies (UTF-8 of it): every field but the
 * signature and key id, in canonical JSON (sorted keys, no whitespace), behind a domain prefix so
 * a model signature can never pass for a command's. Over the command as received.
 */
export function commandSigningText(command: Record<string, unknown>): string {
  const { signature: _s, keyId: _k, ...signed } = command;
  return COMMAND_SIGNING_PREFIX + canonicalJson(signed);
}

/** Why the agent refuses a command it could parse (answered with status `refused`). */
export const COMMAND_REFUSALS = ['unsigned', 'forged', 'expired', 'replayed', 'other-vehicle'] as const;
export type CommandRefusal = (typeof COMMAND_REFUSALS)[number];

/** One frame of a live PID stream, on `commands-stream` (QoS 0: a lost frame is not resent). */
export const CommandStreamFrame = z.object({
  v: z.literal(AGENT_COMMAND_VERSION),
  /** The streamPids command's id. */
  streamId: z.string().max(64),
  ts: z.number(),
  /** PID (hex, 2 digits) -> value (number, or the decoded object for bitfields); null: no answer. */
  values: z.record(z.string(), z.unknown()),
  /** true on the last frame (time up, stopped, or the agent stopping). */
  end: z.boolean().optional(),
});
export type CommandStreamFrame = z.infer<typeof CommandStreamFrame>;

/**
 * Payload of `.../commands-ack`. `ok` with the command's result; `unknown` (no such command on
 * this agent version), `invalid` (args or the command itself do not parse), `failed` (the
 * handler threw) or `refused` (`refusal` says why: not signed, forged, expired, replayed, or
 * for another vehicle) with a reason.
 */
export const AgentCommandResult = z.object({
  v: z.literal(AGENT_COMMAND_VERSION),
  /** The command's id; null when the command was too malformed to have one. */
  id: z.string().max(64).nullable(),
  status: z.enum(['ok', 'unknown', 'invalid', 'failed', 'refused']),
  refusal: z.enum(COMMAND_REFUSALS).optional(),
  result: z.unknown().optional(),
  reason: z.string().max(500).optional(),
});
export type AgentCommandResult = z.infer<typeof AgentCommandResult>;
