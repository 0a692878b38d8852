/**
 * Reports finance and compliance file (issue 17 §3-§6): the IFTA quarterly return from the kept
 * distance records, and the carbon report (named dataset and GWP set), both also through the CLI
 * (`fleet-cloud reports`); and the report builder of `/reports`: any report kind as one table
 * (`run`) and the same table as a file (`export`), saved reports, and the monthly fuel budgets
 * the cost report measures spend against.
 */
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { can } from '../../auth/permissions.ts';
import { CloudErrorCode, isCloudError } from '../../errors.ts';
import { EXPORT_FORMATS, exportReport } from '../../reports/builder/export-report.ts';
import { REPORT_KINDS, selectColumns } from '../../reports/builder/report-table.ts';
import { type ReportRequest, runReport } from '../../reports/builder/run-report.ts';
import {
  createSavedReport,
  deleteSavedReport,
  listSavedReports,
  updateSavedReport,
} from '../../reports/builder/saved-reports.ts';
import { loadCarbonReport } from '../../reports/carbon/carbon-service.ts';
import { listFuelBudgets, setFuelBudget } from '../../reports/cost/budgets.ts';
import { BUDGET_SCOPES } from '../../reports/cost/cost-vs-budget.ts';
import { loadIftaReturn } from '../../reports/ifta/ifta-report.ts';
import { lastClosedQuarter, parseQuarter, QUARTER_PATTERN } from '../../reports/quarter.ts';
import { EpochMs, rangeCheck } from '../cursor.ts';
import { authedProcedure, createRouter, replicaReadProcedure } from '../trpc.ts';

// Reports are computed over closed periods and past telemetry: a replica's lag does not show in
// them, so they read from the replica when there is one (saved reports and budgets are read back
// right after they are written: primary).
const read = replicaReadProcedure.meta({ permission: 'reports:read' });
/** The builder's fleet reports (cost, consumption, idling, drivers) and saved reports. */
const fleet = authedProcedure.meta({ permission: 'reports:fleet' });
const fleetReport = replicaReadProcedure.meta({ permission: 'reports:fleet' });
const budgets = authedProcedure.meta({ permission: 'reports:budgets' });
export const CARBON_MAX_DAYS = 400;
/** The builder's longest period: a year and a month (a cost report across a year's months). */
export const BUILDER_MAX_DAYS = 400;
const DAY_MS = 86_400_000;

const ID = z.string().regex(/^[A-Za-z0-9_.:@-]{1,128}$/);
const Filters = z
  .object({
    groupIds: z.array(z.number().int().positive()).max(200).optional(),
    vehicleIds: z.array(ID).max(1000).optional(),
    driverIds: z.array(ID).max(1000).optional(),
  })
  .strict();
const Units = z.enum(['metric', 'us']);
const Month = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'a month as YYYY-MM');

/** What a report is asked with; the period is [from, to) (default: the last 30 days), IFTA's the quarter. */
const ReportFields = z.object({
  kind: z.enum(REPORT_KINDS).default('cost'),
  from: EpochMs.optional(),
  to: EpochMs.optional(),
  quarter: z.string().regex(QUARTER_PATTERN).optional(),
  groupIds: Filters.shape.groupIds,
  vehicleIds: Filters.shape.vehicleIds,
  driverIds: Filters.shape.driverIds,
  units: Units.default('metric'),
  scope: z.enum(BUDGET_SCOPES).default('vehicle'),
  /** The columns shown and exported, in order (keys of the report's columns); none: all. */
  columns: z
    .array(z.string().regex(/^[A-Za-z0-9]{1,40}$/))
    .max(40)
    .optional(),
});
const ReportInput = ReportFields.superRefine(rangeCheck(BUILDER_MAX_DAYS));
const ExportInput = ReportFields.extend({ format: z.enum(EXPORT_FORMATS).default('csv') }).superRefine(
  rangeCheck(BUILDER_MAX_DAYS),
);

function requestOf(input: z.infer<typeof ReportFields>, now: number): ReportRequest {
  const to = input.to ?? Math.ceil(now / DAY_MS) * DAY_MS;
  return {
    kind: input.kind,
    from: input.from ?? to - 30 * DAY_MS,
    to,
    quarter: input.quarter ? parseQuarter(input.quarter) : lastClosedQuarter(now),
    filters: { groupIds: input.groupIds, vehicleIds: input.vehicleIds, driverIds: input.driverIds },
    units: input.units,
    scope: input.scope,
    now,
  };
}

/** IFTA and carbon stay with the roles that file them (reports:read), whatever the builder shows. */
function requireKind(
  session: { role: Parameters<typeof can>[0]; scopes?: Parameters<typeof can>[2] },
  kind: string,
) {
  if ((kind === 'ifta' || kind === 'carbon') && !can(session.role, 'reports:read', session.scopes))
    throw new TRPCError({ code: 'FORBIDDEN', message: `role ${session.role} may not reports:read` });
}

const SavedInput = z.object({
  name: z.string().trim().min(1).max(100),
  kind: z.enum(REPORT_KINDS).default('cost'),
  period: z
    .union([
      z
        .object({
          preset: z.enum(['last-7-days', 'last-30-days', 'this-month', 'last-month', 'last-quarter']),
        })
        .strict(),
      z.object({ from: EpochMs, to: EpochMs }).strict().superRefine(rangeCheck(BUILDER_MAX_DAYS)),
      z.object({ quarter: z.string().regex(QUARTER_PATTERN) }).strict(),
    ])
    .default({ preset: 'last-30-days' }),
  filters: Filters.default({}),
  columns: z
    .array(z.string().regex(/^[A-Za-z0-9]{1,40}$/))
    .max(40)
    .default([]),
  units: Units.default('metric'),
});

/** A report's input the data cannot answer (no such dataset or GWP set): the caller's to fix. */
function asApiError(err: unknown): never {
  if (
    isCloudError(err) &&
    (err.code === CloudErrorCode.ReportDataMissing || err.code === CloudErrorCode.ReportInputInvalid)
  )
    throw new TRPCError({ code: 'BAD_REQUEST', message: err.message, cause: err });
  if (isCloudError(err) && err.code === CloudErrorCode.ReportExportUnavailable)
    throw new TRPCError({ code: 'BAD_REQUEST', message: err.message, cause: err });
  if (isCloudError(err) && err.code === CloudErrorCode.SavedReportConflict)
    throw new TRPCError({ code: 'CONFLICT', message: err.message, cause: err });
  if (err instanceof RangeError)
    throw new TRPCError({ code: 'BAD_REQUEST', message: err.message, cause: err });
  throw err;
}

export const reportsRouter = createRouter({
  /** The IFTA return of a quarter (default: the last one ended), with its data-quality findings. */
  iftaReturn: read
    .input(z.object({ quarter: z.string().regex(QUARTER_PATTERN).optional() }).default({}))
    .query(({ ctx, input }) =>
      ctx.tenant((db) =>
        loadIftaReturn(
          db,
          ctx.session.tenantId,
          input.quarter ? parseQuarter(input.quarter) : lastClosedQuarter(Date.now()),
        ).catch(asApiError),
      ),
    ),

  /** CO2, CH4, N2O and CO2e per vehicle, group and month over [from, to). */
  carbon: read
    .input(
      z
        .object({
          from: EpochMs,
          to: EpochMs,
          dataset: z
            .string()
            .regex(/^[a-z0-9-]{3,60}$/)
            .optional(),
          gwp: z.enum(['AR4', 'AR5']).optional(),
        })
        .superRefine(rangeCheck(CARBON_MAX_DAYS)),
    )
    .query(({ ctx, input }) =>
      ctx.tenant((db) =>
        loadCarbonReport(db, ctx.session.tenantId, input, { dataset: input.dataset, gwp: input.gwp }).catch(
          asApiError,
        ),
      ),
    ),

  /** Any report of the builder as one table: what /reports charts and tabulates. */
  run: fleetReport.input(ReportInput).query(({ ctx, input }) => {
    requireKind(ctx.session, input.kind);
    const r = requestOf(input, Date.now());
    return ctx.tenant(async (db) =>
      selectColumns(await runReport(db, ctx.session.tenantId, r).catch(asApiError), input.columns),
    );
  }),

  /**
   * The same table as a file (base64): CSV or XLSX of exactly the rows `run` returns, or the
   * IFTA return through its own exporters (XLSX with trip records, CSV, PDF).
   */
  export: fleetReport.input(ExportInput).query(({ ctx, input }) => {
    requireKind(ctx.session, input.kind);
    const r = requestOf(input, Date.now());
    return ctx.tenant(async (db) => {
      const table = selectColumns(
        await runReport(db, ctx.session.tenantId, r).catch(asApiError),
        input.columns,
      );
      const file = await exportReport(
        db,
        ctx.session.tenantId,
        ctx.session.tenantId,
        r,
        table,
        input.format,
      ).catch(asApiError);
      return { filename: file.filename, mime: file.mime, base64: file.body.toString('base64') };
    });
  }),

  /** The tenant's saved reports, by name. */
  savedList: fleet.query(({ ctx }) => ctx.tenant((db) => listSavedReports(db, ctx.session.tenantId))),

  savedCreate: fleet
    .input(SavedInput)
    .mutation(({ ctx, input }) =>
      ctx.tenant((db) =>
        createSavedReport(db, ctx.session.tenantId, ctx.session.userId, input).catch(asApiError),
      ),
    ),

  savedUpdate: fleet
    .input(SavedInput.extend({ id: z.number().int().positive() }))
    .mutation(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        const { id, ...s } = input;
        const saved = await updateSavedReport(db, ctx.session.tenantId, id, s).catch(asApiError);
        if (!saved) throw new TRPCError({ code: 'NOT_FOUND', message: `no saved report ${id}` });
        return saved;
      }),
    ),

  savedDelete: fleet.input(z.object({ id: z.number().int().positive() })).mutation(({ ctx, input }) =>
    ctx.tenant(async (db) => {
      if (!(await deleteSavedReport(db, ctx.session.tenantId, input.id)))
        throw new TRPCError({ code: 'NOT_FOUND', message: `no saved report ${input.id}` });
      return { deleted: input.id };
    }),
  ),

  /** The monthly fuel budgets of a span of months (default: this month and the 11 before). */
  budgets: fleet
    .input(z.object({ fromMonth: Month.optional(), toMonth: Month.optional() }).default({}))
    .query(({ ctx, input }) => {
      const now = new Date();
      const toMonth = input.toMonth ?? now.toISOString().slice(0, 7);
      const fromMonth =
        input.fromMonth ??
        new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 11, 1)).toISOString().slice(0, 7);
      return ctx.tenant((db) => listFuelBudgets(db, { tenantId: ctx.session.tenantId, fromMonth, toMonth }));
    }),

  /** Sets one month's budget of the fleet, a group, a cost centre or a vehicle (amount null: removes it). */
  setBudget: budgets
    .input(
      z
        .object({
          scope: z.enum(BUDGET_SCOPES).default('fleet'),
          scopeKey: z.string().trim().max(100).default(''),
          month: Month,
          amount: z.number().min(0).max(1e10).nullable(),
          currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as EUR'),
        })
        .refine((b) => (b.scope === 'fleet') === (b.scopeKey === ''), {
          message: 'the fleet has no key; a group, cost centre or vehicle needs one',
          path: ['scopeKey'],
        }),
    )
    .mutation(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        await setFuelBudget(db, { tenantId: ctx.session.tenantId, userId: ctx.session.userId, ...input });
        return { ok: true as const };
      }),
    ),
});
