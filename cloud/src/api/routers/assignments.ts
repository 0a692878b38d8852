import { ID_PATTERN } from '@fleet/shared';
import { TRPCError } from '@trpc/server';
import type pg from 'pg';
import { z } from 'zod';
import { forgetCachedSessions } from '../../auth/session-cache.ts';
import { appendAudit } from '../../db/queries/audit-log.ts';
import { closeCurrentAssignments } from '../../db/queries/close-current-assignments.ts';
import { driverAllowedVehicles } from '../../db/queries/driver-allowed-vehicles.ts';
import { insertAssignment } from '../../db/queries/insert-assignment.ts';
import { listAssignments } from '../../db/queries/list-assignments.ts';
import { CursorInput, decodeCursor, EpochMs, page } from '../cursor.ts';
import { conflictAs } from '../db-conflict.ts';
import { authedProcedure, createRouter } from '../trpc.ts';

const manage = authedProcedure.meta({ permission: 'drivers:manage' });
const checkIn = authedProcedure.meta({ permission: 'vehicles:check-in' });
const VehicleId = z.string().regex(ID_PATTERN);
const UserId = z.string().min(1).max(64);
const AssignmentCursor = z.object({ from: z.number().nullable(), id: z.number() });

const Assignment = z.object({
  id: z.number(),
  vehicleId: z.string(),
  plate: z.string().nullable(),
  userId: z.string(),
  driverName: z.string(),
  from: z.number().nullable(),
  to: z.number().nullable(),
  source: z.string(),
  createdBy: z.string(),
});

const overlapMessage = () =>
  'this period overlaps another assignment of the vehicle or of the driver (a vehicle has one driver at a time)';

/** The vehicle is the tenant's and in service, the user one of its drivers; NOT_FOUND otherwise. */
async function requireVehicleAndDriver(
  db: pg.PoolClient,
  tenantId: string,
  vehicleId: string,
  userId: string,
) {
  const { rows } = await db.query<{ vehicle: boolean; driver: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM vehicles WHERE id = $2 AND tenant_id = $1 AND retired_at IS NULL) AS vehicle,
            EXISTS (SELECT 1 FROM users WHERE id = $3 AND tenant_id = $1 AND role = 'driver') AS driver`,
    [tenantId, vehicleId, userId],
  );
  if (!rows[0]!.vehicle)
    throw new TRPCError({ code: 'NOT_FOUND', message: `no vehicle ${vehicleId} in service` });
  if (!rows[0]!.driver) throw new TRPCError({ code: 'NOT_FOUND', message: 'no such driver' });
}

/**
 * Who drives which vehicle when: [from, to) periods, one driver per vehicle and one vehicle per
 * driver at a time (the database refuses overlaps: migration 000013). Starting one now ends the
 * current ones of the vehicle and of the driver now; a past or future period is only added where
 * nothing overlaps it, so the past is never rewritten. Every event, refuel and score is credited
 * through these periods (assigned_driver()). Audited; the drivers' sessions learn their vehicle at
 * once (session cache cleared).
 */
export const assignmentsRouter = createRouter({
  list: manage
    .input(
      z
        .object({
          vehicleId: VehicleId.optional(),
          userId: UserId.optional(),
          currentOnly: z.boolean().default(false),
          limit: z.number().int().min(1).max(200).default(50),
          cursor: CursorInput,
        })
        .default({ currentOnly: false, limit: 50 }),
    )
    .output(z.object({ items: z.array(Assignment), nextCursor: z.string().nullable() }))
    .query(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        const rows = await listAssignments(db, {
          tenantId: ctx.session.tenantId,
          vehicleId: input.vehicleId ?? null,
          userId: input.userId ?? null,
          currentOnly: input.currentOnly,
          limit: input.limit + 1,
          after: decodeCursor(input.cursor, AssignmentCursor),
        });
        return page(rows, input.limit, (r) => ({ from: r.from, id: r.id }));
      }),
    ),

  assign: manage
    .input(
      z
        .object({ vehicleId: VehicleId, userId: UserId, from: EpochMs.optional(), to: EpochMs.optional() })
        .refine((a) => a.from === undefined || a.to === undefined || a.from < a.to, {
          message: 'from must be before to',
          path: ['to'],
        }),
    )
    .output(z.object({ id: z.number(), ended: z.array(z.number()) }))
    .mutation(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        const tenantId = ctx.session.tenantId;
        await requireVehicleAndDriver(db, tenantId, input.vehicleId, input.userId);
        if (input.to !== undefined && input.from === undefined && input.to <= Date.now())
          throw new TRPCError({ code: 'BAD_REQUEST', message: 'to must be in the future when from is now' });
        const ended =
          input.from === undefined
            ? await closeCurrentAssignments(db, {
                tenantId,
                vehicleId: input.vehicleId,
                userId: input.userId,
              })
            : [];
        const id = await conflictAs(overlapMessage, () =>
          insertAssignment(db, {
            tenantId,
            vehicleId: input.vehicleId,
            userId: input.userId,
            from: input.from ?? null,
            to: input.to ?? null,
            source: 'admin',
            createdBy: `user:${ctx.session.userId}`,
          }),
        );
        await appendAudit(db, {
          tenantId,
          actor: `user:${ctx.session.userId}`,
          action: 'assignment.create',
          entity: `vehicle:${input.vehicleId}`,
          after: { id, userId: input.userId, from: input.from ?? 'now', to: input.to ?? null, ended },
        });
        forgetCachedSessions();
        return { id, ended: ended.map((e) => e.id) };
      }),
    ),

  /** Ends the vehicle's current assignment now (the vehicle then has no driver). */
  end: manage
    .input(z.object({ vehicleId: VehicleId }))
    .output(z.object({ ended: z.array(z.number()) }))
    .mutation(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        const ended = (
          await closeCurrentAssignments(db, { tenantId: ctx.session.tenantId, vehicleId: input.vehicleId })
        ).filter((e) => e.vehicleId === input.vehicleId);
        if (ended.length === 0)
          throw new TRPCError({
            code: 'NOT_FOUND',
            message: `vehicle ${input.vehicleId} has no current driver`,
          });
        await appendAudit(db, {
          tenantId: ctx.session.tenantId,
          actor: `user:${ctx.session.userId}`,
          action: 'assignment.end',
          entity: `vehicle:${input.vehicleId}`,
          before: ended,
        });
        forgetCachedSessions();
        return { ended: ended.map((e) => e.id) };
      }),
    ),

  /** The signed-in driver's vehicles to check in to (their groups' vehicles in service, and their current one). */
  allowed: checkIn
    .output(
      z.array(
        z.object({
          id: z.string(),
          plate: z.string().nullable(),
          make: z.string().nullable(),
          model: z.string().nullable(),
          groupName: z.string().nullable(),
          takenBy: z.string().nullable(),
          mine: z.boolean(),
        }),
      ),
    )
    .query(({ ctx }) =>
      ctx.tenant((db) => driverAllowedVehicles(db, ctx.session.tenantId, ctx.session.userId)),
    ),

  /**
   * The driver takes a vehicle now: its current assignment (someone else's) and the driver's own
   * on another vehicle end now, and theirs begins. Only an allowed vehicle; checking in to the one
   * they have already changes nothing.
   */
  checkIn: checkIn
    .input(z.object({ vehicleId: VehicleId }))
    .output(z.object({ vehicleId: z.string(), changed: z.boolean() }))
    .mutation(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        const tenantId = ctx.session.tenantId;
        const allowed = (await driverAllowedVehicles(db, tenantId, ctx.session.userId)).find(
          (v) => v.id === input.vehicleId,
        );
        if (!allowed) throw new TRPCError({ code: 'NOT_FOUND', message: `no vehicle ${input.vehicleId}` });
        if (allowed.mine) return { vehicleId: input.vehicleId, changed: false };
        const ended = await closeCurrentAssignments(db, {
          tenantId,
          vehicleId: input.vehicleId,
          userId: ctx.session.userId,
        });
        const id = await conflictAs(overlapMessage, () =>
          insertAssignment(db, {
            tenantId,
            vehicleId: input.vehicleId,
            userId: ctx.session.userId,
            from: null,
            to: null,
            source: 'check-in',
            createdBy: `user:${ctx.session.userId}`,
          }),
        );
        await appendAudit(db, {
          tenantId,
          actor: `user:${ctx.session.userId}`,
          action: 'assignment.check-in',
          entity: `vehicle:${input.vehicleId}`,
          after: { id, userId: ctx.session.userId, ended },
        });
        forgetCachedSessions();
        return { vehicleId: input.vehicleId, changed: true };
      }),
    ),

  /** The driver leaves their vehicle: their current assignment ends now. */
  checkOut: checkIn.output(z.object({ ended: z.array(z.number()) })).mutation(({ ctx }) =>
    ctx.tenant(async (db) => {
      const ended = await closeCurrentAssignments(db, {
        tenantId: ctx.session.tenantId,
        userId: ctx.session.userId,
      });
      if (ended.length > 0) {
        await appendAudit(db, {
          tenantId: ctx.session.tenantId,
          actor: `user:${ctx.session.userId}`,
          action: 'assignment.check-out',
          entity: `vehicle:${ended[0]!.vehicleId}`,
          before: ended,
        });
        forgetCachedSessions();
      }
      return { ended: ended.map((e) => e.id) };
    }),
  ),
});
