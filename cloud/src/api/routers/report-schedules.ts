/**
 * Report schedules and exports (issue 17 §6): schedules that e-mail a report daily, weekly,
 * monthly or quarterly at a local hour of the tenant's zone, their runs (status, progress,
 * errors), a run now, the tenant's zone, and download links for any export (signed, expiring;
 * served by `GET /exports/<token>`, reports/schedules/download.ts). Every procedure runs as the
 * tenant (RLS); changes are audited.
 */
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { appendAudit } from '../../db/queries/audit-log.ts';
import { CloudErrorCode, isCloudError } from '../../errors.ts';
import { TimeZone } from '../../reports/schedules/recurrence.ts';
import { ReportSpec } from '../../reports/schedules/report-spec.ts';
import {
  createSchedule,
  deleteSchedule,
  getRun,
  getSchedule,
  listRuns,
  listSchedules,
  manualPeriod,
  queueRun,
  ScheduleInput,
  setTenantTimeZone,
  tenantTimeZone,
  updateSchedule,
} from '../../reports/schedules/schedule-store.ts';
import { exportLink, signExportToken } from '../../reports/schedules/signed-link.ts';
import type { SecretBox } from '../../security/secret-box.ts';
import { EpochMs, rangeCheck } from '../cursor.ts';
import { authedProcedure, createRouter } from '../trpc.ts';

const schedule = authedProcedure.meta({ permission: 'reports:schedule' });
const read = authedProcedure.meta({ permission: 'reports:read' });
const settings = authedProcedure.meta({ permission: 'tenant:settings' });

/** Set once at start (main.ts): what signs links, and the address they point at. */
const links: { secretBox: SecretBox | undefined; baseUrl: string | undefined; ttlMs: number } = {
  secretBox: undefined,
  baseUrl: undefined,
  ttlMs: 15 * 60_000,
};
export function configureReportExports(o: {
  secretBox?: SecretBox | undefined;
  baseUrl?: string | undefined;
}) {
  links.secretBox = o.secretBox;
  links.baseUrl = o.baseUrl;
}

/** An API export spans at most this (a detail export of a year and a bit streams fine). */
export const EXPORT_MAX_DAYS = 400;
const ScheduleId = z.number().int().positive();
const notFound = () => new TRPCError({ code: 'NOT_FOUND', message: 'no such report schedule' });

function asApiError(err: unknown): never {
  if (isCloudError(err, CloudErrorCode.ReportScheduleInvalid))
    throw new TRPCError({ code: 'BAD_REQUEST', message: err.message, cause: err });
  throw err;
}

function signedLink(tenantId: string, runId: number): { url: string; expiresAt: number } {
  if (!links.secretBox || !links.baseUrl)
    throw new TRPCError({
      code: 'PRECONDITION_FAILED',
      message: 'download links are not configured on this server (FLEET_SECRET_KEYS)',
    });
  const expiresAt = Date.now() + links.ttlMs;
  return {
    url: exportLink(links.baseUrl, signExportToken(links.secretBox, { tenantId, runId, expiresAt })),
    expiresAt,
  };
}

export const reportSchedulesRouter = createRouter({
  /** The tenant's schedules and the zone their hours are in. */
  list: schedule.query(({ ctx }) =>
    ctx.tenant(async (db) => ({
      timeZone: await tenantTimeZone(db, ctx.session.tenantId),
      schedules: await listSchedules(db),
    })),
  ),

  create: schedule.input(z.object({ schedule: ScheduleInput })).mutation(({ ctx, input }) =>
    ctx.tenant(async (db) => {
      const s = await createSchedule(
        db,
        ctx.session.tenantId,
        input.schedule,
        `user:${ctx.session.userId}`,
        Date.now(),
      ).catch(asApiError);
      await appendAudit(db, {
        tenantId: ctx.session.tenantId,
        actor: `user:${ctx.session.userId}`,
        action: 'report_schedule.create',
        entity: `report_schedule:${s.id}`,
        after: input.schedule,
      });
      return s;
    }),
  ),

  update: schedule
    .input(z.object({ scheduleId: ScheduleId, schedule: ScheduleInput }))
    .mutation(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        const s = await updateSchedule(
          db,
          ctx.session.tenantId,
          input.scheduleId,
          input.schedule,
          Date.now(),
        ).catch(asApiError);
        if (!s) throw notFound();
        await appendAudit(db, {
          tenantId: ctx.session.tenantId,
          actor: `user:${ctx.session.userId}`,
          action: 'report_schedule.update',
          entity: `report_schedule:${s.id}`,
          after: input.schedule,
        });
        return s;
      }),
    ),

  delete: schedule.input(z.object({ scheduleId: ScheduleId })).mutation(({ ctx, input }) =>
    ctx.tenant(async (db) => {
      if (!(await deleteSchedule(db, input.scheduleId))) throw notFound();
      await appendAudit(db, {
        tenantId: ctx.session.tenantId,
        actor: `user:${ctx.session.userId}`,
        action: 'report_schedule.delete',
        entity: `report_schedule:${input.scheduleId}`,
      });
      return { deleted: input.scheduleId };
    }),
  ),

  /** Queues a run of the schedule now (the period its next run would cover); the runner sends it. */
  runNow: schedule.input(z.object({ scheduleId: ScheduleId })).mutation(({ ctx, input }) =>
    ctx.tenant(async (db) => {
      const s = await getSchedule(db, input.scheduleId);
      if (!s) throw notFound();
      const now = Date.now();
      const runId = await queueRun(db, ctx.session.tenantId, {
        spec: s.report,
        period: manualPeriod(s, now),
        trigger: 'manual',
        scheduleId: s.id,
        createdBy: `user:${ctx.session.userId}`,
        now,
      });
      return { runId };
    }),
  ),

  /** Runs, newest first: status, attempts, rows done of the estimated total, bytes, the error. */
  runs: schedule
    .input(
      z
        .object({ scheduleId: ScheduleId.optional(), limit: z.number().int().min(1).max(200).default(50) })
        .default({ limit: 50 }),
    )
    .query(({ ctx, input }) => ctx.tenant((db) => listRuns(db, input))),

  /** The tenant's time zone (IANA); schedules keep their local hour in the new zone. */
  setTimeZone: settings.input(z.object({ timeZone: TimeZone })).mutation(({ ctx, input }) =>
    ctx.tenant(async (db) => {
      const moved = await setTenantTimeZone(db, ctx.session.tenantId, input.timeZone, Date.now()).catch(
        asApiError,
      );
      await appendAudit(db, {
        tenantId: ctx.session.tenantId,
        actor: `user:${ctx.session.userId}`,
        action: 'tenant.time_zone',
        entity: `tenant:${ctx.session.tenantId}`,
        after: { timeZone: input.timeZone },
      });
      return { timeZone: input.timeZone, schedulesMoved: moved };
    }),
  ),

  /**
   * Any report as a file over [from, to): a link (15 minutes) that streams it as it is made; the
   * run row it creates shows the progress (`runs`).
   */
  exportLink: read
    .input(
      z.object({ report: ReportSpec, from: EpochMs, to: EpochMs }).superRefine(rangeCheck(EXPORT_MAX_DAYS)),
    )
    .mutation(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        const runId = await queueRun(db, ctx.session.tenantId, {
          spec: input.report,
          period: { from: input.from, to: input.to },
          trigger: 'api',
          createdBy: `user:${ctx.session.userId}`,
          now: Date.now(),
        });
        return { runId, ...signedLink(ctx.session.tenantId, runId) };
      }),
    ),

  /** A fresh link (15 minutes) to the file of an earlier run. */
  downloadLink: read.input(z.object({ runId: z.number().int().positive() })).mutation(({ ctx, input }) =>
    ctx.tenant(async (db) => {
      if (!(await getRun(db, input.runId)))
        throw new TRPCError({ code: 'NOT_FOUND', message: 'no such run' });
      return signedLink(ctx.session.tenantId, input.runId);
    }),
  ),
});
