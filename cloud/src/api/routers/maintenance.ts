import { ID_PATTERN } from '@fleet/shared';
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { appendAudit } from '../../db/queries/audit-log.ts';
import { CloudErrorCode, isCloudError } from '../../errors.ts';
import { vehicleCost } from '../../maintenance/cost.ts';
import { DEFECT_CHECKLIST, fileDefectReport, listDefectReports } from '../../maintenance/defects.ts';
import { listDue } from '../../maintenance/due.ts';
import { PROGRAM_TEMPLATES, ProgramRequest, programFromRequest } from '../../maintenance/program.ts';
import { registerServiceDueAlerts } from '../../maintenance/service-due-alerts.ts';
import { EpochMs } from '../cursor.ts';
import { authedProcedure, createRouter } from '../trpc.ts';
import { ownVehicleScope, requireVisibleVehicle } from '../vehicle-access.ts';

// `service_due` is a rule source from the moment the API exists (alertRules.create accepts it).
registerServiceDueAlerts();

const read = authedProcedure.meta({ permission: 'maintenance:read' });
const write = authedProcedure.meta({ permission: 'maintenance:write' });
const report = authedProcedure.meta({ permission: 'maintenance:report' });

/** The maintenance services' refusals as API answers. */
export function maintenanceApiError(err: unknown): never {
  if (isCloudError(err)) {
    const code = (
      {
        [CloudErrorCode.MaintenanceInvalid]: 'BAD_REQUEST',
        [CloudErrorCode.MaintenanceNotFound]: 'NOT_FOUND',
        [CloudErrorCode.WorkOrderTransition]: 'CONFLICT',
        [CloudErrorCode.DefectReportConflict]: 'CONFLICT',
      } as const
    )[err.code as number];
    if (code) throw new TRPCError({ code, message: err.message, cause: err });
  }
  throw err;
}

/** A defect report may be filed up to a week after the inspection (a week offline). */
const DEFECT_MAX_AGE_MS = 7 * 86_400_000;
const FUTURE_TOLERANCE_MS = 10 * 60_000;

export const maintenanceRouter = createRouter({
  /** The tenant's service programs with their targets, and the templates to start one from. */
  programs: read.query(({ ctx }) =>
    ctx.tenant(async (db) => {
      const { rows } = await db.query<{
        id: string;
        name: string;
        template: string | null;
        interval_km: string | null;
        interval_hours: string | null;
        interval_months: number | null;
        interval_days: number | null;
        soon_km: string;
        soon_hours: string;
        soon_days: number;
        group_ids: string[];
        vehicle_ids: string[];
      }>(
        `SELECT p.id, p.name, p.template, p.interval_km, p.interval_hours, p.interval_months, p.interval_days,
                p.soon_km, p.soon_hours, p.soon_days,
                coalesce(array_agg(t.group_id::text) FILTER (WHERE t.group_id IS NOT NULL), '{}') AS group_ids,
                coalesce(array_agg(t.vehicle_id) FILTER (WHERE t.vehicle_id IS NOT NULL), '{}') AS vehicle_ids
           FROM service_programs p LEFT JOIN service_program_targets t ON t.program_id = p.id
          WHERE p.tenant_id = $1 AND p.archived_at IS NULL
          GROUP BY p.id ORDER BY p.name`,
        [ctx.session.tenantId],
      );
      const num = (x: string | null) => (x === null ? null : Number(x));
      return {
        templates: PROGRAM_TEMPLATES,
        programs: rows.map((r) => ({
          id: Number(r.id),
          name: r.name,
          template: r.template,
          intervalKm: num(r.interval_km),
          intervalHours: num(r.interval_hours),
          intervalMonths: r.interval_months,
          intervalDays: r.interval_days,
          soonKm: Number(r.soon_km),
          soonHours: Number(r.soon_hours),
          soonDays: r.soon_days,
          groupIds: r.group_ids.map(Number),
          vehicleIds: r.vehicle_ids,
        })),
      };
    }),
  ),

  /** A program from scratch or from a template (`template` fills the intervals not given). Audited. */
  createProgram: write.input(ProgramRequest).mutation(({ ctx, input: request }) => {
    if (request.template !== undefined && !PROGRAM_TEMPLATES.some((t) => t.id === request.template))
      throw new TRPCError({ code: 'BAD_REQUEST', message: `no template "${request.template}"` });
    const parsed = programFromRequest(request);
    if (!parsed.success)
      throw new TRPCError({ code: 'BAD_REQUEST', message: 'invalid program', cause: parsed.error });
    const input = parsed.data;
    return ctx.tenant(async (db) => {
      const tenantId = ctx.session.tenantId;
      const { rows: known } = await db.query<{ n: number }>(
        `SELECT (SELECT count(*) FROM vehicles WHERE tenant_id = $1 AND id = ANY($2::text[]))::int
                + (SELECT count(*) FROM vehicle_groups WHERE tenant_id = $1 AND id = ANY($3::bigint[]))::int AS n`,
        [tenantId, input.targets.vehicleIds, input.targets.groupIds],
      );
      if (known[0]!.n !== input.targets.vehicleIds.length + input.targets.groupIds.length)
        throw new TRPCError({ code: 'NOT_FOUND', message: 'a target group or vehicle does not exist' });
      const { rows } = await db.query<{ id: string }>(
        `INSERT INTO service_programs (tenant_id, name, template, interval_km, interval_hours, interval_months,
                                         interval_days, soon_km, soon_hours, soon_days, starts_at, created_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, coalesce(to_timestamp($11 / 1000.0), now()), $12)
           ON CONFLICT (tenant_id, name) DO NOTHING RETURNING id`,
        [
          tenantId,
          input.name,
          input.template,
          input.intervalKm,
          input.intervalHours,
          input.intervalMonths,
          input.intervalDays,
          input.soonKm,
          input.soonHours,
          input.soonDays,
          input.startsAt ?? null,
          ctx.session.userId,
        ],
      );
      if (!rows[0]) throw new TRPCError({ code: 'CONFLICT', message: `a program "${input.name}" exists` });
      const id = Number(rows[0].id);
      await db.query(
        `INSERT INTO service_program_targets (tenant_id, program_id, group_id, vehicle_id)
           SELECT $1, $2::bigint, g, NULL::text FROM unnest($3::bigint[]) g
           UNION ALL SELECT $1, $2::bigint, NULL::bigint, v FROM unnest($4::text[]) v`,
        [tenantId, id, input.targets.groupIds, input.targets.vehicleIds],
      );
      await appendAudit(db, {
        tenantId,
        actor: `user:${ctx.session.userId}`,
        action: 'maintenance.program-create',
        entity: `service_program:${id}`,
        after: input,
      });
      return { id };
    });
  }),

  /** Every (vehicle, program) with its forecast due date, most urgent first. */
  due: read
    .input(
      z
        .object({
          vehicleId: z.string().regex(ID_PATTERN).optional(),
          status: z
            .array(z.enum(['ok', 'due_soon', 'overdue']))
            .max(3)
            .optional(),
        })
        .default({}),
    )
    .query(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        const items = await listDue(db, ctx.session.tenantId, Date.now(), { vehicleId: input.vehicleId });
        return {
          items: input.status?.length ? items.filter((i) => input.status!.includes(i.status)) : items,
        };
      }),
    ),

  /** Users a work order may be assigned to (technicians first). */
  technicians: read.query(({ ctx }) =>
    ctx.tenant(async (db) => {
      const { rows } = await db.query<{ id: string; name: string; role: string }>(
        `SELECT id, name, role FROM users WHERE tenant_id = $1 AND role IN ('technician', 'fleet_manager', 'admin')
          ORDER BY role <> 'technician', name`,
        [ctx.session.tenantId],
      );
      return rows;
    }),
  ),

  /**
   * The driver PWA's pre-trip inspection. `clientId` is made on the phone before any network: a
   * resend returns what the first send stored (`created: false`). A marked defect opens a work order.
   */
  reportDefect: report
    .input(
      z.object({
        clientId: z.uuid(),
        vehicleId: z.string().regex(ID_PATTERN),
        ts: EpochMs,
        items: z
          .array(
            z.object({
              item: z.enum(DEFECT_CHECKLIST),
              ok: z.boolean(),
              note: z.string().trim().max(300).optional(),
            }),
          )
          .min(1)
          .max(DEFECT_CHECKLIST.length)
          .refine(
            (items) => new Set(items.map((i) => i.item)).size === items.length,
            'an item is listed twice',
          ),
        odometerKm: z.number().min(0).max(10_000_000).optional(),
        note: z.string().trim().max(1000).optional(),
      }),
    )
    .mutation(({ ctx, input }) => {
      const now = Date.now();
      if (input.ts > now + FUTURE_TOLERANCE_MS)
        throw new TRPCError({ code: 'BAD_REQUEST', message: 'inspection time is in the future' });
      if (input.ts < now - DEFECT_MAX_AGE_MS)
        throw new TRPCError({ code: 'BAD_REQUEST', message: 'inspection older than 7 days' });
      return ctx.tenant(async (db) => {
        await requireVisibleVehicle(db, ctx.session, input.vehicleId);
        const result = await fileDefectReport(
          db,
          { tenantId: ctx.session.tenantId, userId: ctx.session.userId },
          input,
        ).catch(maintenanceApiError);
        if (result.created)
          await appendAudit(db, {
            tenantId: ctx.session.tenantId,
            actor: `user:${ctx.session.userId}`,
            action: 'maintenance.defect-report',
            entity: `defect_report:${result.report.id}`,
            after: {
              vehicleId: input.vehicleId,
              defects: result.report.defects,
              workOrderId: result.report.workOrderId,
            },
          });
        return result;
      });
    }),

  /** Defect reports, newest first (a driver: their own vehicle's). */
  defectReports: report
    .input(z.object({ vehicleId: z.string().regex(ID_PATTERN).optional() }).default({}))
    .query(({ ctx, input }) =>
      ctx.tenant((db) =>
        listDefectReports(db, ctx.session.tenantId, {
          vehicleId: ownVehicleScope(ctx.session) ?? input.vehicleId ?? null,
          limit: 100,
        }),
      ),
    ),

  /** A vehicle's fuel + maintenance cost over [from, to), per currency (decimal strings). */
  vehicleCost: read
    .input(z.object({ vehicleId: z.string().regex(ID_PATTERN), from: EpochMs, to: EpochMs }))
    .query(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        await requireVisibleVehicle(db, ctx.session, input.vehicleId);
        return vehicleCost(db, ctx.session.tenantId, input.vehicleId, input);
      }),
    ),
});
