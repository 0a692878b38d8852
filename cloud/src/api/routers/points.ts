import { TRPCError } from '@trpc/server';
import type pg from 'pg';
import { z } from 'zod';
import { heldBadges } from '../../drivers/badges/award.ts';
import { pointsBalance, pointsHistory } from '../../drivers/points/ledger.ts';
import {
  createReward,
  decideRedemption,
  listRedemptions,
  listRewards,
  requestRedemption,
  updateReward,
} from '../../drivers/points/rewards.ts';
import { programmeErrors } from '../programme-errors.ts';
import { authedProcedure, createRouter } from '../trpc.ts';

const UserInput = z.object({ userId: z.string().min(1).max(64).optional() }).default({});

/** A driver reads their own; a manager names the driver (a colleague or a stranger: NOT_FOUND). */
async function driverOf(
  db: pg.PoolClient,
  session: { role: string; userId: string },
  userId: string | undefined,
): Promise<string> {
  const self = session.role === 'driver';
  const id = userId ?? (self ? session.userId : undefined);
  if (!id) throw new TRPCError({ code: 'BAD_REQUEST', message: 'name the driver (userId)' });
  if (self && id !== session.userId) throw new TRPCError({ code: 'NOT_FOUND', message: 'no such driver' });
  const { rowCount } = await db.query(`SELECT 1 FROM users WHERE id = $1 AND role = 'driver'`, [id]);
  if (rowCount === 0) throw new TRPCError({ code: 'NOT_FOUND', message: 'no such driver' });
  return id;
}

export const pointsRouter = createRouter({
  /** The balance (the sum of the ledger) and the badges held. */
  balance: authedProcedure
    .meta({ permission: 'points:read' })
    .input(UserInput)
    .query(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        const userId = await driverOf(db, ctx.session, input.userId);
        return { userId, balance: await pointsBalance(db, userId), badges: await heldBadges(db, userId) };
      }),
    ),

  /** Ledger entries, newest first; `before`: the last id of the previous page. */
  history: authedProcedure
    .meta({ permission: 'points:read' })
    .input(
      z
        .object({
          userId: z.string().min(1).max(64).optional(),
          limit: z.number().int().min(1).max(200).default(50),
          before: z.number().int().positive().optional(),
        })
        .default({ limit: 50 }),
    )
    .query(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        const userId = await driverOf(db, ctx.session, input.userId);
        const items = await pointsHistory(db, { userId, limit: input.limit, before: input.before ?? null });
        return { items, nextBefore: items.length === input.limit ? items[items.length - 1]!.id : null };
      }),
    ),
});

const RewardFields = z.object({
  name: z.string().trim().min(1).max(120),
  description: z.string().max(500).default(''),
  costPoints: z.number().int().min(1).max(1_000_000),
  stock: z.number().int().min(0).max(1_000_000).nullable().default(null),
});
const RedemptionId = z.object({
  redemptionId: z.number().int().positive(),
  note: z.string().max(500).nullable().default(null),
});
const noRequest = () => new TRPCError({ code: 'NOT_FOUND', message: 'no such request' });

export const rewardsRouter = createRouter({
  /** The catalogue (drivers: what can be asked for now). */
  list: authedProcedure
    .meta({ permission: 'points:read' })
    .input(z.object({ includeRetired: z.boolean().default(false) }).default({ includeRetired: false }))
    .query(({ ctx, input }) =>
      ctx.tenant(async (db) => ({
        items: await listRewards(db, { activeOnly: ctx.session.role === 'driver' || !input.includeRetired }),
      })),
    ),

  create: authedProcedure
    .meta({ permission: 'rewards:manage' })
    .input(RewardFields)
    .mutation(({ ctx, input }) =>
      programmeErrors(() =>
        ctx.tenant((db) =>
          createReward(db, { ...input, tenantId: ctx.session.tenantId, actor: `user:${ctx.session.userId}` }),
        ),
      ),
    ),

  /** Changes a reward; `active: false` retires it (its history stays). */
  update: authedProcedure
    .meta({ permission: 'rewards:manage' })
    .input(
      RewardFields.partial().extend({
        rewardId: z.number().int().positive(),
        active: z.boolean().optional(),
      }),
    )
    .mutation(({ ctx, input }) =>
      programmeErrors(async () => {
        const out = await ctx.tenant((db) =>
          updateReward(db, {
            ...input,
            id: input.rewardId,
            tenantId: ctx.session.tenantId,
            actor: `user:${ctx.session.userId}`,
          }),
        );
        if (!out) throw new TRPCError({ code: 'NOT_FOUND', message: 'no such reward' });
        return out;
      }),
    ),

  /** A driver asks for a reward: the points are debited now (PRECONDITION_FAILED if short). */
  redeem: authedProcedure
    .meta({ permission: 'rewards:redeem' })
    .input(z.object({ rewardId: z.number().int().positive() }))
    .mutation(({ ctx, input }) =>
      programmeErrors(async () => {
        const out = await ctx.tenant((db) =>
          requestRedemption(db, {
            tenantId: ctx.session.tenantId,
            userId: ctx.session.userId,
            rewardId: input.rewardId,
            actor: `user:${ctx.session.userId}`,
          }),
        );
        if (!out) throw new TRPCError({ code: 'NOT_FOUND', message: 'no such reward' });
        return out;
      }),
    ),

  /** The driver's own requests. */
  mine: authedProcedure.meta({ permission: 'rewards:redeem' }).query(({ ctx }) =>
    ctx.tenant(async (db) => ({
      items: await listRedemptions(db, { status: null, userId: ctx.session.userId, limit: 100 }),
    })),
  ),

  /** Requests to decide (pending first). */
  redemptions: authedProcedure
    .meta({ permission: 'rewards:manage' })
    .input(
      z
        .object({
          status: z.enum(['pending', 'approved', 'rejected']).optional(),
          limit: z.number().int().min(1).max(200).default(100),
        })
        .default({ limit: 100 }),
    )
    .query(({ ctx, input }) =>
      ctx.tenant(async (db) => ({
        items: await listRedemptions(db, { status: input.status ?? null, userId: null, limit: input.limit }),
      })),
    ),

  approve: authedProcedure
    .meta({ permission: 'rewards:manage' })
    .input(RedemptionId)
    .mutation(({ ctx, input }) =>
      programmeErrors(async () => {
        const out = await ctx.tenant((db) =>
          decideRedemption(db, {
            tenantId: ctx.session.tenantId,
            id: input.redemptionId,
            approve: true,
            note: input.note,
            actor: `user:${ctx.session.userId}`,
          }),
        );
        if (!out) throw noRequest();
        return out;
      }),
    ),

  /** Rejects a pending request and refunds its points. */
  reject: authedProcedure
    .meta({ permission: 'rewards:manage' })
    .input(RedemptionId)
    .mutation(({ ctx, input }) =>
      programmeErrors(async () => {
        const out = await ctx.tenant((db) =>
          decideRedemption(db, {
            tenantId: ctx.session.tenantId,
            id: input.redemptionId,
            approve: false,
            note: input.note,
            actor: `user:${ctx.session.userId}`,
          }),
        );
        if (!out) throw noRequest();
        return out;
      }),
    ),
});
