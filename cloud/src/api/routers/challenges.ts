import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import {
  type ChallengeInput,
  challengeProgress,
  createChallenge,
  deleteChallenge,
  listChallenges,
  updateChallenge,
} from '../../drivers/challenges/challenges.ts';
import { CHALLENGE_METRICS, METRIC_LABELS } from '../../drivers/challenges/metrics.ts';
import { programmeErrors } from '../programme-errors.ts';
import { authedProcedure, createRouter } from '../trpc.ts';

const LocalTime = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/, 'a local time YYYY-MM-DDTHH:MM');

const Fields = z.object({
  name: z.string().trim().min(1).max(120),
  kind: z.enum(['individual', 'team']).default('individual'),
  groupId: z.number().int().positive().nullable().default(null),
  metric: z.enum(CHALLENGE_METRICS),
  direction: z.enum(['at_least', 'at_most']),
  target: z.number().min(0).max(1_000_000),
  minKm: z.number().min(0).max(1_000_000).default(0),
  timeZone: z.string().min(1).max(64).default('UTC'),
  startsLocal: LocalTime,
  endsLocal: LocalTime,
  graceMinutes: z.number().int().min(0).max(10_080).default(360),
  rewardPoints: z.number().int().min(0).max(100_000).default(0),
});

const ChallengeId = z.object({ challengeId: z.number().int().positive() });

const notFound = () => new TRPCError({ code: 'NOT_FOUND', message: 'no such challenge' });

export const challengesRouter = createRouter({
  /** The tenant's challenges, newest start first, with the metrics a challenge can use. */
  list: authedProcedure
    .meta({ permission: 'challenges:read' })
    .input(z.object({ limit: z.number().int().min(1).max(200).default(100) }).default({ limit: 100 }))
    .query(({ ctx, input }) =>
      ctx.tenant(async (db) => ({ items: await listChallenges(db, input), metrics: METRIC_LABELS })),
    ),

  create: authedProcedure
    .meta({ permission: 'challenges:manage' })
    .input(Fields)
    .mutation(({ ctx, input }) =>
      programmeErrors(() =>
        ctx.tenant((db) =>
          createChallenge(db, {
            ...(input as ChallengeInput),
            tenantId: ctx.session.tenantId,
            actor: `user:${ctx.session.userId}`,
          }),
        ),
      ),
    ),

  /** Only before it starts (CONFLICT after). */
  update: authedProcedure
    .meta({ permission: 'challenges:manage' })
    .input(Fields.extend(ChallengeId.shape))
    .mutation(({ ctx, input }) =>
      programmeErrors(async () => {
        const out = await ctx.tenant((db) =>
          updateChallenge(db, {
            ...(input as ChallengeInput),
            id: input.challengeId,
            tenantId: ctx.session.tenantId,
            actor: `user:${ctx.session.userId}`,
          }),
        );
        if (!out) throw notFound();
        return out;
      }),
    ),

  /** Cancels a challenge that is not final. */
  delete: authedProcedure
    .meta({ permission: 'challenges:manage' })
    .input(ChallengeId)
    .mutation(({ ctx, input }) =>
      programmeErrors(async () => {
        const ok = await ctx.tenant((db) =>
          deleteChallenge(db, {
            id: input.challengeId,
            tenantId: ctx.session.tenantId,
            actor: `user:${ctx.session.userId}`,
          }),
        );
        if (!ok) throw notFound();
        return { deleted: input.challengeId };
      }),
    ),

  /**
   * Live progress (computed from the raw data now) or, once final, the frozen results. Managers see
   * every participant; a driver sees their own standing and their teams', with the field's size.
   */
  progress: authedProcedure
    .meta({ permission: 'challenges:read' })
    .input(ChallengeId)
    .query(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        const p = await challengeProgress(db, {
          tenantId: ctx.session.tenantId,
          challengeId: input.challengeId,
        });
        if (!p) throw notFound();
        const participants = p.standings.length;
        const ranked = p.standings.filter((s) => s.rank !== null).length;
        if (ctx.session.role !== 'driver') return { ...p, participants, ranked };
        const me = ctx.session.userId;
        const standings = p.standings
          .filter((s) => s.members.includes(me) || s.participant === `user:${me}`)
          .map((s) => ({ ...s, members: s.members.filter((m) => m === me) }));
        return { ...p, standings, participants, ranked };
      }),
    ),
});
