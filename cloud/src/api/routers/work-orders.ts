import { ID_PATTERN } from '@fleet/shared';
import { z } from 'zod';
import { appendAudit } from '../../db/queries/audit-log.ts';
import { serviceSourceRef } from '../../maintenance/due.ts';
import {
  addLine,
  getWorkOrder,
  listWorkOrders,
  openWorkOrder,
  updateWorkOrder,
  WORK_ORDER_SOURCES,
  WORK_ORDER_STATUSES,
} from '../../maintenance/work-orders.ts';
import { authedProcedure, createRouter } from '../trpc.ts';
import { maintenanceApiError } from './maintenance.ts';

const read = authedProcedure.meta({ permission: 'maintenance:read' });
const write = authedProcedure.meta({ permission: 'maintenance:write' });

/** A decimal amount as text ("49.90"): costs never pass through binary floats. */
const Decimal = (max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d{1,10}(\.\d{1,2})?$/, 'expected a decimal like 12.50')
    .refine((s) => Number(s) <= max, `at most ${max}`);

const WorkOrderId = z.object({ workOrderId: z.number().int().positive() });

export const workOrdersRouter = createRouter({
  /**
   * Opens a work order from a due service, a defect report, a DTC, an anomaly suggestion or by
   * hand. The same live source (`source.ref`: the DTC code, the anomaly's event, ...) opened twice
   * gives the one already open (`created: false`). From a due service, `programId` names the
   * program and the order's completion resets it. Audited.
   */
  create: write
    .input(
      z.object({
        vehicleId: z.string().regex(ID_PATTERN),
        title: z.string().trim().min(1).max(200),
        source: z.object({
          kind: z.enum(WORK_ORDER_SOURCES),
          ref: z.string().trim().min(1).max(200).optional(),
        }),
        programId: z.number().int().positive().optional(),
        assigneeId: z.string().max(64).optional(),
        currency: z
          .string()
          .regex(/^[A-Z]{3}$/)
          .optional(),
        notes: z.string().trim().max(4000).optional(),
      }),
    )
    .mutation(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        // A due service's ref is its program: one live order per (vehicle, program).
        const ref =
          input.source.kind === 'service' && input.programId !== undefined
            ? serviceSourceRef(input.programId)
            : (input.source.ref ?? null);
        const result = await openWorkOrder(db, {
          tenantId: ctx.session.tenantId,
          vehicleId: input.vehicleId,
          title: input.title,
          source: { kind: input.source.kind, ref },
          programId: input.programId ?? null,
          assigneeId: input.assigneeId ?? null,
          currency: input.currency ?? 'EUR',
          notes: input.notes ?? null,
          openedBy: ctx.session.userId,
        }).catch(maintenanceApiError);
        if (result.created)
          await appendAudit(db, {
            tenantId: ctx.session.tenantId,
            actor: `user:${ctx.session.userId}`,
            action: 'work-order.open',
            entity: `work_order:${result.workOrder.id}`,
            after: { vehicleId: input.vehicleId, source: input.source, programId: input.programId ?? null },
          });
        return result;
      }),
    ),

  /** Newest first; a vehicle's full history with `vehicleId`. */
  list: read
    .input(
      z
        .object({
          vehicleId: z.string().regex(ID_PATTERN).optional(),
          status: z.array(z.enum(WORK_ORDER_STATUSES)).max(5).optional(),
          limit: z.number().int().min(1).max(500).default(100),
        })
        .default({ limit: 100 }),
    )
    .query(({ ctx, input }) =>
      ctx.tenant((db) =>
        listWorkOrders(db, ctx.session.tenantId, {
          limit: input.limit,
          ...(input.vehicleId ? { vehicleId: input.vehicleId } : {}),
          ...(input.status ? { status: input.status } : {}),
        }),
      ),
    ),

  /** One work order with its parts and labour lines. */
  get: read
    .input(WorkOrderId)
    .query(({ ctx, input }) =>
      ctx.tenant((db) =>
        getWorkOrder(db, ctx.session.tenantId, input.workOrderId).catch(maintenanceApiError),
      ),
    ),

  /** Status, assignee, notes; done (with the meter readings) resets the service. Audited. */
  update: write
    .input(
      WorkOrderId.extend({
        status: z.enum(WORK_ORDER_STATUSES).optional(),
        assigneeId: z.string().max(64).nullable().optional(),
        notes: z.string().trim().max(4000).nullable().optional(),
        odometerKm: z.number().min(0).max(10_000_000).optional(),
        engineHours: z.number().min(0).max(1_000_000).optional(),
      }),
    )
    .mutation(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        const { workOrderId, ...change } = input;
        const order = await updateWorkOrder(db, ctx.session.tenantId, workOrderId, change, Date.now()).catch(
          maintenanceApiError,
        );
        await appendAudit(db, {
          tenantId: ctx.session.tenantId,
          actor: `user:${ctx.session.userId}`,
          action: 'work-order.update',
          entity: `work_order:${workOrderId}`,
          after: change,
        });
        return order;
      }),
    ),

  /** A part or labour line (quantity × unit cost, in the order's currency). */
  addLine: write
    .input(
      WorkOrderId.extend({
        kind: z.enum(['part', 'labour']),
        description: z.string().trim().min(1).max(200),
        quantity: Decimal(100_000).refine((s) => Number(s) > 0, 'must be more than 0'),
        unitCost: Decimal(10_000_000),
      }),
    )
    .mutation(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        const { workOrderId, ...line } = input;
        await addLine(db, ctx.session.tenantId, workOrderId, line).catch(maintenanceApiError);
        return getWorkOrder(db, ctx.session.tenantId, workOrderId);
      }),
    ),
});
