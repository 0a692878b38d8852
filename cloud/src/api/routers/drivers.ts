import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { BADGES, driverStats } from '../../db/queries/driver-scores.ts';
import { CursorInput, decodeCursor, EpochMs, page, rangeCheck } from '../cursor.ts';
import { authedProcedure, createRouter } from '../trpc.ts';

const DriverCursor = z.object({ name: z.string(), id: z.string() });

export const SCORE_MAX_DAYS = 366;
const DEFAULT_DAYS = 30;

const Stats = z.object({
  userId: z.string(),
  name: z.string(),
  vehicleId: z.string().nullable(),
  km: z.number(),
  harshEvents: z.number(),
  speedingEvents: z.number(),
  idleMinutes: z.number(),
  refuels: z.number(),
  refuelledL: z.number(),
  score: z.number().nullable(),
  badges: z.array(z.enum(Object.keys(BADGES) as [keyof typeof BADGES, ...(keyof typeof BADGES)[]])),
});

/** [from, to): the input's, or the last 30 days. */
const period = (i: { from?: number | undefined; to?: number | undefined }) => {
  const to = i.to ?? Date.now();
  const from = i.from ?? to - DEFAULT_DAYS * 86_400_000;
  if (from >= to || to - from > SCORE_MAX_DAYS * 86_400_000)
    throw new TRPCError({ code: 'BAD_REQUEST', message: `period must be 1 ms to ${SCORE_MAX_DAYS} days` });
  return { from, to };
};

export const driversRouter = createRouter({
  /** The tenant's drivers with their vehicle and their stats over the period (the rankings), by name. */
  list: authedProcedure
    .meta({ permission: 'drivers:read' })
    .input(
      z
        .object({
          from: EpochMs.optional(),
          to: EpochMs.optional(),
          limit: z.number().int().min(1).max(200).default(100),
          cursor: CursorInput,
        })
        .superRefine(rangeCheck(SCORE_MAX_DAYS))
        .default({ limit: 100 }),
    )
    .output(z.object({ items: z.array(Stats), nextCursor: z.string().nullable() }))
    .query(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        const rows = await driverStats(db, {
          tenantId: ctx.session.tenantId,
          userId: null,
          ...period(input),
          limit: input.limit + 1,
          after: decodeCursor(input.cursor, DriverCursor),
        });
        return page(rows, input.limit, (r) => ({ name: r.name, id: r.userId }));
      }),
    ),

  /**
   * One driver's efficiency score and badges (definition: db/queries/driver-scores.ts). A driver
   * gets their own (userId omitted or their own id; anyone else's is NOT_FOUND).
   */
  score: authedProcedure
    .meta({ permission: 'drivers:score' })
    .input(
      z
        .object({
          userId: z.string().min(1).max(64).optional(),
          from: EpochMs.optional(),
          to: EpochMs.optional(),
        })
        .superRefine(rangeCheck(SCORE_MAX_DAYS))
        .default({}),
    )
    .output(Stats.extend({ from: z.number(), to: z.number(), badgeInfo: z.record(z.string(), z.string()) }))
    .query(({ ctx, input }) => {
      const self = ctx.session.role === 'driver';
      const userId = input.userId ?? (self ? ctx.session.userId : undefined);
      if (!userId) throw new TRPCError({ code: 'BAD_REQUEST', message: 'name the driver (userId)' });
      if (self && userId !== ctx.session.userId)
        throw new TRPCError({ code: 'NOT_FOUND', message: 'no such driver' });
      return ctx.tenant(async (db) => {
        const p = period(input);
        const [stats] = await driverStats(db, {
          tenantId: ctx.session.tenantId,
          userId,
          ...p,
          limit: 1,
          after: null,
        });
        if (!stats) throw new TRPCError({ code: 'NOT_FOUND', message: 'no such driver' });
        return { ...stats, ...p, badgeInfo: BADGES };
      });
    }),
});
