/**
 * Fair driver scores (issue 19 §1-3): the stored daily scores and their trend, the explanation
 * (points lost per metric with the events behind them), disputes, the leaderboard, and the
 * tenant's scoring settings. A driver reads and disputes only their own; on the leaderboard a
 * driver sees their peer group, anonymised when the tenant says so.
 */
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import type { Session } from '../../auth/session.ts';
import { appendAudit } from '../../db/queries/audit-log.ts';
import { decideDispute, fileDispute, listDisputes } from '../../drivers/disputes.ts';
import { explainedEvents } from '../../drivers/scoring/explain.ts';
import { dayOf, parseDay, rescoreDay } from '../../drivers/scoring/rescore.ts';
import { METRIC_INFO, METRICS, type Metric, type MetricResult } from '../../drivers/scoring/score.ts';
import { readScoreSettings, writeScoreSettings } from '../../drivers/scoring/settings.ts';
import { CloudError, CloudErrorCode } from '../../errors.ts';
import { authedProcedure, createRouter, replicaReadProcedure } from '../trpc.ts';

const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a day is YYYY-MM-DD');
const MetricName = z.enum(METRICS);
const DAY_MS = 86_400_000;

/** A CloudError as the API's error: missing → NOT_FOUND, a state clash → CONFLICT, else BAD_REQUEST. */
function apiError(err: unknown): never {
  if (err instanceof CloudError) {
    const code =
      err.code === CloudErrorCode.ApiNotFound
        ? 'NOT_FOUND'
        : err.code === CloudErrorCode.DisputeRefused || err.code === CloudErrorCode.DisputeDecided
          ? 'CONFLICT'
          : 'BAD_REQUEST';
    throw new TRPCError({ code, message: err.message, cause: err });
  }
  throw err;
}

/** The driver a request is about: a driver only ever themselves (anyone else's is NOT_FOUND). */
function driverOf(session: Session, userId: string | undefined): string {
  const self = session.role === 'driver';
  const id = userId ?? (self ? session.userId : undefined);
  if (!id) throw new TRPCError({ code: 'BAD_REQUEST', message: 'name the driver (userId)' });
  if (self && id !== session.userId) throw new TRPCError({ code: 'NOT_FOUND', message: 'no such driver' });
  return id;
}

const Event = z.object({
  vehicleId: z.string(),
  eventId: z.number(),
  type: z.string(),
  start: z.number(),
  end: z.number(),
  lat: z.number().nullable(),
  lon: z.number().nullable(),
  details: z.record(z.string(), z.unknown()),
  counted: z.boolean(),
  dispute: z.object({ id: z.number(), status: z.enum(['pending', 'accepted', 'rejected']) }).nullable(),
  speedTrace: z.array(z.object({ ts: z.number(), speedKmh: z.number().nullable() })),
});

const DisputeOut = z.object({
  id: z.number(),
  vehicleId: z.string(),
  eventId: z.number(),
  eventType: z.string(),
  eventStart: z.number(),
  userId: z.string(),
  driverName: z.string(),
  comment: z.string(),
  status: z.enum(['pending', 'accepted', 'rejected']),
  createdAt: z.number(),
  decidedBy: z.string().nullable(),
  decidedAt: z.number().nullable(),
  decisionComment: z.string().nullable(),
});

const Settings = z.object({
  weights: z.record(MetricName, z.number().min(0).max(100)),
  minKm: z.number().min(0).max(100_000),
  windowDays: z.number().int().min(1).max(90),
  peerGroupBy: z.enum(['class', 'group', 'tenant']),
  anonymise: z.boolean(),
  rpmLow: z.number().min(0).max(10_000),
  rpmHigh: z.number().min(0).max(10_000),
});

export const scoresRouter = createRouter({
  /** One driver's stored score of the latest day (or `day`) and the trend over `days` before it. */
  get: authedProcedure
    .meta({ permission: 'drivers:score' })
    .input(
      z
        .object({
          userId: z.string().min(1).max(64).optional(),
          day: Day.optional(),
          days: z.number().int().min(1).max(366).default(28),
        })
        .default({ days: 28 }),
    )
    .output(
      z.object({
        day: z.string().nullable(),
        km: z.number(),
        score: z.number().nullable(),
        percentile: z.number().nullable(),
        peerGroup: z.string().nullable(),
        minKm: z.number(),
        trend: z.array(
          z.object({ day: z.string(), score: z.number().nullable(), percentile: z.number().nullable() }),
        ),
      }),
    )
    .query(({ ctx, input }) => {
      const userId = driverOf(ctx.session, input.userId);
      return ctx.tenant(async (db) => {
        const settings = await readScoreSettings(db, ctx.session.tenantId);
        const { rows } = await db.query<{
          day: string;
          km: number;
          score: number | null;
          percentile: number | null;
          peer_group: string;
        }>(
          `SELECT to_char(day, 'YYYY-MM-DD') AS day, km, score, percentile, peer_group FROM driver_day_scores
            WHERE tenant_id = $1 AND user_id = $2 AND day <= coalesce($3::date, 'infinity')
            ORDER BY day DESC LIMIT $4`,
          [ctx.session.tenantId, userId, input.day ?? null, input.days],
        );
        const last = rows[0];
        return {
          day: last?.day ?? null,
          km: last?.km ?? 0,
          score: last?.score ?? null,
          percentile: last?.percentile ?? null,
          peerGroup: last?.peer_group ?? null,
          minKm: settings.minKm,
          trend: rows.reverse().map((r) => ({ day: r.day, score: r.score, percentile: r.percentile })),
        };
      });
    }),

  /** Why: per metric the points lost and the events behind them (time, place, speed trace, dispute). */
  explain: authedProcedure
    .meta({ permission: 'drivers:score' })
    .input(z.object({ userId: z.string().min(1).max(64).optional(), day: Day.optional() }).default({}))
    .output(
      z.object({
        day: z.string(),
        from: z.number(),
        to: z.number(),
        km: z.number(),
        minKm: z.number(),
        score: z.number().nullable(),
        percentile: z.number().nullable(),
        metrics: z.array(
          z.object({
            metric: MetricName,
            label: z.string(),
            unit: z.string(),
            leftOut: z.boolean(),
            value: z.number().nullable(),
            subScore: z.number().nullable(),
            pointsLost: z.number(),
            eventCount: z.number(),
            events: z.array(Event),
          }),
        ),
      }),
    )
    .query(({ ctx, input }) => {
      const userId = driverOf(ctx.session, input.userId);
      return ctx.tenant(async (db) => {
        const settings = await readScoreSettings(db, ctx.session.tenantId);
        const { rows } = await db.query<{
          day: string;
          km: number;
          score: number | null;
          percentile: number | null;
          metrics: Record<Metric, MetricResult | null>;
        }>(
          `SELECT to_char(day, 'YYYY-MM-DD') AS day, km, score, percentile, metrics FROM driver_day_scores
            WHERE tenant_id = $1 AND user_id = $2 AND day <= coalesce($3::date, 'infinity')
            ORDER BY day DESC LIMIT 1`,
          [ctx.session.tenantId, userId, input.day ?? null],
        );
        const row = rows[0];
        const day = row?.day ?? input.day ?? dayOf(Date.now());
        const to = (() => {
          try {
            return parseDay(day).getTime() + DAY_MS;
          } catch (err) {
            return apiError(err);
          }
        })();
        const from = to - settings.windowDays * DAY_MS;
        const events = await explainedEvents(db, {
          tenantId: ctx.session.tenantId,
          userId,
          from: new Date(from),
          to: new Date(to),
        });
        return {
          day,
          from,
          to,
          km: row?.km ?? 0,
          minKm: settings.minKm,
          score: row?.score ?? null,
          percentile: row?.percentile ?? null,
          metrics: METRICS.map((metric) => {
            const m = row?.metrics[metric] ?? null;
            const ev = events.find((e) => e.metric === metric);
            return {
              metric,
              ...METRIC_INFO[metric],
              leftOut: m === null,
              value: m?.value ?? null,
              subScore: m?.subScore ?? null,
              pointsLost: m?.pointsLost ?? 0,
              eventCount: ev?.total ?? 0,
              events: ev?.events ?? [],
            };
          }),
        };
      });
    }),

  /** A driver disputes one of their scored events; it is left out while under review. */
  dispute: authedProcedure
    .meta({ permission: 'scores:dispute' })
    .input(
      z.object({
        vehicleId: z.string().min(1).max(64),
        eventId: z.number().int().positive(),
        comment: z.string().trim().min(1, 'say why').max(1000),
      }),
    )
    .output(z.object({ id: z.number(), rescoredDays: z.array(z.string()) }))
    .mutation(({ ctx, input }) =>
      ctx
        .tenant((db) =>
          fileDispute(db, {
            tenantId: ctx.session.tenantId,
            userId: ctx.session.userId,
            ...input,
          }),
        )
        .catch(apiError),
    ),

  /** The dispute history: a driver's own, or (managers) everyone's. */
  disputes: authedProcedure
    .meta({ permission: 'drivers:score' })
    .input(
      z
        .object({
          status: z.enum(['pending', 'accepted', 'rejected']).optional(),
          limit: z.number().int().min(1).max(500).default(100),
        })
        .default({ limit: 100 }),
    )
    .output(z.array(DisputeOut))
    .query(({ ctx, input }) =>
      ctx.tenant((db) =>
        listDisputes(db, {
          tenantId: ctx.session.tenantId,
          userId: ctx.session.role === 'driver' ? ctx.session.userId : null,
          status: input.status ?? null,
          limit: input.limit,
        }),
      ),
    ),

  /** A manager accepts (the event stays out of scoring) or rejects (it counts again) a dispute. */
  decideDispute: authedProcedure
    .meta({ permission: 'scores:manage' })
    .input(
      z.object({
        disputeId: z.number().int().positive(),
        accept: z.boolean(),
        comment: z.string().trim().min(1, 'say why').max(1000),
      }),
    )
    .output(z.object({ status: z.enum(['accepted', 'rejected']), rescoredDays: z.array(z.string()) }))
    .mutation(({ ctx, input }) =>
      ctx
        .tenant((db) =>
          decideDispute(db, {
            tenantId: ctx.session.tenantId,
            deciderId: ctx.session.userId,
            ...input,
          }),
        )
        .catch(apiError),
    ),

  /**
   * The leaderboard of the latest stored day: `week` and `month` rank the mean of the daily
   * scores over the last 7 / 30 days; `improved` the change of the last 7 days' mean against the
   * same 7 days four weeks earlier. Managers see everyone (or one peer group); a driver sees their
   * own peer group, others' names hidden when the tenant anonymises.
   */
  // Daily scores, rescored hourly: a replica's lag is invisible here.
  leaderboard: replicaReadProcedure
    .meta({ permission: 'scores:leaderboard' })
    .input(
      z
        .object({
          period: z.enum(['week', 'month', 'improved']).default('week'),
          peerGroup: z.string().min(1).max(100).optional(),
        })
        .default({ period: 'week' }),
    )
    .output(
      z.object({
        day: z.string().nullable(),
        peerGroups: z.array(z.string()),
        anonymised: z.boolean(),
        rows: z.array(
          z.object({
            rank: z.number(),
            userId: z.string().nullable(),
            name: z.string(),
            you: z.boolean(),
            peerGroup: z.string(),
            value: z.number(),
            score: z.number().nullable(),
            percentile: z.number().nullable(),
          }),
        ),
      }),
    )
    .query(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        const settings = await readScoreSettings(db, ctx.session.tenantId);
        const { rows } = await db.query<{
          day: string;
          user_id: string;
          name: string;
          peer_group: string;
          score: number | null;
          percentile: number | null;
          week: number | null;
          month: number | null;
          before: number | null;
        }>(
          `WITH latest AS (SELECT max(day) AS d FROM driver_day_scores WHERE tenant_id = $1),
           agg AS (
             SELECT s.user_id,
                    avg(s.score) FILTER (WHERE s.day > l.d - 7) AS week,
                    avg(s.score) FILTER (WHERE s.day > l.d - 30) AS month,
                    avg(s.score) FILTER (WHERE s.day > l.d - 35 AND s.day <= l.d - 28) AS before
               FROM driver_day_scores s, latest l
              WHERE s.tenant_id = $1 AND s.day > l.d - 35 AND s.day <= l.d
              GROUP BY s.user_id)
           SELECT to_char(cur.day, 'YYYY-MM-DD') AS day, agg.user_id, u.name, cur.peer_group, cur.score,
                  cur.percentile, agg.week, agg.month, agg.before
             FROM agg
             JOIN latest l ON true
             JOIN driver_day_scores cur ON cur.tenant_id = $1 AND cur.user_id = agg.user_id AND cur.day = l.d
             JOIN users u ON u.id = agg.user_id`,
          [ctx.session.tenantId],
        );
        const self = ctx.session.role === 'driver';
        const mine = rows.find((r) => r.user_id === ctx.session.userId);
        const group = self ? (mine?.peer_group ?? null) : (input.peerGroup ?? null);
        const anonymised = self && settings.anonymise;
        const rankedValue = (r: (typeof rows)[number]) =>
          input.period === 'week'
            ? r.week
            : input.period === 'month'
              ? r.month
              : r.week !== null && r.before !== null
                ? r.week - r.before
                : null;
        const ranked = rows
          .filter((r) =>
            self ? group !== null && r.peer_group === group : group === null || r.peer_group === group,
          )
          .map((r) => ({ r, value: rankedValue(r) }))
          .filter((x): x is { r: (typeof rows)[number]; value: number } => x.value !== null)
          .sort((a, b) => b.value - a.value || a.r.name.localeCompare(b.r.name));
        return {
          day: rows[0]?.day ?? null,
          peerGroups: self ? (group ? [group] : []) : [...new Set(rows.map((r) => r.peer_group))].sort(),
          anonymised,
          rows: ranked.map(({ r, value }, i) => {
            const you = r.user_id === ctx.session.userId;
            const hide = anonymised && !you;
            return {
              rank: i + 1,
              userId: hide ? null : r.user_id,
              name: hide ? `Driver ${i + 1}` : r.name,
              you,
              peerGroup: r.peer_group,
              value: Math.round(value * 10) / 10,
              score: r.score === null ? null : Math.round(r.score * 10) / 10,
              percentile: r.percentile === null ? null : Math.round(r.percentile),
            };
          }),
        };
      }),
    ),

  /** The tenant's scoring settings (defaults when never set). */
  settings: authedProcedure
    .meta({ permission: 'scores:manage' })
    .input(z.object({}).default({}))
    .output(Settings)
    .query(({ ctx }) => ctx.tenant((db) => readScoreSettings(db, ctx.session.tenantId))),

  /** Changes the settings (audited); today's scores are recomputed with them at once. */
  updateSettings: authedProcedure
    .meta({ permission: 'scores:manage' })
    .input(
      Settings.partial().extend({
        weights: z.partialRecord(MetricName, z.number().min(0).max(100)).optional(),
      }),
    )
    .output(Settings.extend({ rescoredDay: z.string() }))
    .mutation(({ ctx, input }) =>
      ctx
        .tenant(async (db) => {
          const before = await readScoreSettings(db, ctx.session.tenantId);
          const next = {
            ...before,
            ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)),
            weights: { ...before.weights, ...input.weights },
          };
          if (next.rpmHigh <= next.rpmLow)
            throw new CloudError(
              CloudErrorCode.ScoreSettingsInvalid,
              'the rpm band must have rpmHigh above rpmLow',
              {
                fields: { rpmHigh: 'must be above the low end of the band' },
              },
            );
          if (METRICS.every((m) => next.weights[m] === 0))
            throw new CloudError(
              CloudErrorCode.ScoreSettingsInvalid,
              'at least one metric must weigh something',
              {
                fields: { weights: 'at least one metric must weigh something' },
              },
            );
          await writeScoreSettings(db, ctx.session.tenantId, next, ctx.session.userId);
          await appendAudit(db, {
            tenantId: ctx.session.tenantId,
            actor: `user:${ctx.session.userId}`,
            action: 'scores.settings',
            entity: `tenant:${ctx.session.tenantId}`,
            before,
            after: next,
          });
          const rescoredDay = dayOf(Date.now());
          await rescoreDay(db, ctx.session.tenantId, rescoredDay);
          return { ...next, rescoredDay };
        })
        .catch(apiError),
    ),
});
