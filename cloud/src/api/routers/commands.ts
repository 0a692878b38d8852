/**
 * Remote commands to a vehicle (issue 18 §3) for people: send one, read a vehicle's command
 * history, watch a live PID stream. Signing, storage, delivery and answers are the CommandService's
 * (cloud/src/commands). Clearing trouble codes is its own procedure with its own permission
 * (technicians only, with a reason): the RBAC matrix then shows who may do it, no role check
 * hides inside a generic `send`.
 */
import {
  AGENT_COMMAND_NAMES,
  type AgentCommandName,
  type CommandStreamFrame,
  MAX_STREAM_SECONDS,
} from '@fleet/shared';
import { TRPCError } from '@trpc/server';
import type pg from 'pg';
import { z } from 'zod';
import type { Session } from '../../auth/session.ts';
import { CommandService } from '../../commands/command-service.ts';
import {
  COMMAND_STATUSES,
  type CommandView,
  getCommand,
  listCommands,
  MAX_COMMAND_TTL_S,
  type NewCommand,
} from '../../commands/command-store.ts';
import { CloudErrorCode, isCloudError } from '../../errors.ts';
import { listen } from '../live-feed.ts';
import { authedProcedure, createRouter } from '../trpc.ts';
import { requireVisibleVehicle } from '../vehicle-access.ts';

/** What `send` may carry: every command but the clear (its own procedure) and ping (the link test's). */
const SENDABLE = AGENT_COMMAND_NAMES.filter((n) => n !== 'clearDtcs' && n !== 'ping') as [
  AgentCommandName,
  ...AgentCommandName[],
];

const View = z.object({
  id: z.string(),
  vehicleId: z.string(),
  name: z.string(),
  args: z.unknown(),
  issuedBy: z.string(),
  reason: z.string().nullable(),
  issuedAt: z.number(),
  expiresAt: z.number(),
  status: z.enum(COMMAND_STATUSES),
  sends: z.number(),
  sentAt: z.number().nullable(),
  answeredAt: z.number().nullable(),
  result: z.unknown(),
  answer: z.string().nullable(),
  refusal: z.string().nullable(),
});

const Ttl = z.number().int().min(10).max(MAX_COMMAND_TTL_S).optional();
const actorOf = (s: Session) => (s.role === 'token' ? `token:${s.userId}` : `user:${s.userId}`);

/** CloudErrors as the API's answers (bad input 400, unknown 404, not configured 503-ish). */
function asTrpc(err: unknown): never {
  if (isCloudError(err)) {
    const code =
      err.code === CloudErrorCode.CommandInvalid
        ? 'BAD_REQUEST'
        : err.code === CloudErrorCode.CommandNotFound
          ? 'NOT_FOUND'
          : 'PRECONDITION_FAILED';
    throw new TRPCError({ code, message: `${err.message} [E${err.code}]`, cause: err });
  }
  throw err;
}

interface Ctx {
  session: Session;
  tenant: <T>(fn: (db: pg.PoolClient) => Promise<T>) => Promise<T>;
}

async function send(ctx: Ctx, c: Omit<NewCommand, 'tenantId' | 'issuedBy'>): Promise<CommandView> {
  await ctx.tenant((db) => requireVisibleVehicle(db, ctx.session, c.vehicleId));
  try {
    return await CommandService.get().send({
      ...c,
      tenantId: ctx.session.tenantId,
      issuedBy: actorOf(ctx.session),
    });
  } catch (err) {
    asTrpc(err);
  }
}

export const commandsRouter = createRouter({
  /** Sign and send one command (read codes, status, logs, poll rates, model rollback, a stream). */
  send: authedProcedure
    .meta({ permission: 'commands:send' })
    .input(
      z.object({
        vehicleId: z.string().min(1).max(64),
        name: z.enum(SENDABLE),
        args: z.record(z.string(), z.unknown()).optional(),
        ttlSeconds: Ttl,
      }),
    )
    .output(View)
    .mutation(({ ctx, input }) => send(ctx, input)),

  /**
   * Clear the vehicle's trouble codes (service 04: also its freeze frames and readiness monitors).
   * Technicians only, with the reason in the audit chain; the page asks twice before calling.
   */
  clearDtcs: authedProcedure
    .meta({ permission: 'commands:clear' })
    .input(
      z.object({
        vehicleId: z.string().min(1).max(64),
        reason: z.string().trim().min(3, 'say why the codes are cleared').max(500),
        ttlSeconds: Ttl,
      }),
    )
    .output(View)
    .mutation(({ ctx, input }) =>
      send(ctx, {
        vehicleId: input.vehicleId,
        name: 'clearDtcs',
        args: { reason: input.reason },
        reason: input.reason,
        ttlSeconds: input.ttlSeconds,
      }),
    ),

  /** A vehicle's commands, newest first, with their answers. */
  list: authedProcedure
    .meta({ permission: 'commands:read' })
    .input(
      z.object({ vehicleId: z.string().min(1).max(64), limit: z.number().int().min(1).max(200).default(50) }),
    )
    .output(z.object({ items: z.array(View) }))
    .query(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        await requireVisibleVehicle(db, ctx.session, input.vehicleId);
        return { items: await listCommands(db, ctx.session.tenantId, input.vehicleId, input.limit) };
      }),
    ),

  /** One command (the CLI's and the page's --wait). */
  get: authedProcedure
    .meta({ permission: 'commands:read' })
    .input(z.object({ commandId: z.string().min(1).max(64) }))
    .output(View)
    .query(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        const c = await getCommand(db, ctx.session.tenantId, input.commandId);
        if (!c) throw new TRPCError({ code: 'NOT_FOUND', message: `no command ${input.commandId}` });
        return c;
      }),
    ),

  /**
   * Live PIDs over SSE: sends a signed `streamPids`, then yields the vehicle's frames (one per poll
   * cycle) until its time is up; when the browser goes away first, a signed `stopStream` ends the
   * extra polling on the vehicle at once.
   */
  streamPids: authedProcedure
    .meta({ permission: 'commands:send' })
    .input(
      z.object({
        vehicleId: z.string().min(1).max(64),
        pids: z.array(z.number().int().min(0).max(255)).min(1).max(12),
        seconds: z.number().int().min(5).max(MAX_STREAM_SECONDS),
      }),
    )
    .subscription(async function* ({ ctx, input, signal }) {
      const service = (() => {
        try {
          return CommandService.get();
        } catch (err) {
          asTrpc(err);
        }
      })();
      const tenantId = ctx.session.tenantId;
      const command = await send(ctx, {
        vehicleId: input.vehicleId,
        name: 'streamPids',
        args: { pids: input.pids, seconds: input.seconds },
      });
      // Bounded here too: a vehicle that never answers does not hold the browser's stream open.
      const deadline = AbortSignal.any([
        ...(signal ? [signal] : []),
        AbortSignal.timeout(input.seconds * 1000 + 15_000),
      ]);
      let ended = false;
      const frames = listen<CommandStreamFrame>(deadline, (push) =>
        service.watchStream(tenantId, input.vehicleId, command.id, (f) => push([f])),
      );
      try {
        yield { commandId: command.id, streamId: command.id, ts: Date.now(), values: {}, started: true };
        for await (const batch of frames) {
          for (const frame of batch) {
            yield { commandId: command.id, ...frame };
            if (frame.end) {
              ended = true;
              return;
            }
          }
        }
      } finally {
        void frames.return(undefined);
        // The page closed (or the vehicle went silent) before the end: stop the extra polling now.
        if (!ended)
          void service
            .send({
              tenantId,
              vehicleId: input.vehicleId,
              name: 'stopStream',
              args: { streamId: command.id },
              issuedBy: actorOf(ctx.session),
              ttlSeconds: 60,
            })
            .catch(() => {});
      }
    }),
});
