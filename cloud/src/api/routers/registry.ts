import { randomBytes } from 'node:crypto';
import { ID_PATTERN } from '@fleet/shared';
import { TRPCError } from '@trpc/server';
import type pg from 'pg';
import { z } from 'zod';
import { forgetCachedSessions } from '../../auth/session-cache.ts';
import { appendAudit } from '../../db/queries/audit-log.ts';
import { closeCurrentAssignments } from '../../db/queries/close-current-assignments.ts';
import { insertVehicles } from '../../db/queries/insert-vehicles.ts';
import { listVehicleRegister, type VehicleRecord } from '../../db/queries/list-vehicle-register.ts';
import { updateVehicle } from '../../db/queries/update-vehicle.ts';
import { CloudErrorCode, isCloudError } from '../../errors.ts';
import { importVehiclesCsv } from '../../register/vehicle-csv.ts';
import {
  checkCalibration,
  NewVehicle,
  VEHICLE_FUEL_TYPES,
  VehicleFields,
} from '../../register/vehicle-fields.ts';
import { VIN_STATUSES } from '../../register/vin-check.ts';
import { CursorInput, decodeCursor, page } from '../cursor.ts';
import { conflictAs } from '../db-conflict.ts';
import { authedProcedure, createRouter } from '../trpc.ts';

const read = authedProcedure.meta({ permission: 'vehicles:registry' });
const manage = authedProcedure.meta({ permission: 'vehicles:manage' });
const VehicleId = z.string().regex(ID_PATTERN);
/** The largest CSV the dashboard uploads in one request (about 20,000 vehicles); bigger files: the CLI. */
export const MAX_IMPORT_BYTES = 4_000_000;

export const VehicleRecordOutput = z.object({
  id: z.string(),
  plate: z.string().nullable(),
  vin: z.string().nullable(),
  make: z.string().nullable(),
  model: z.string().nullable(),
  year: z.number().nullable(),
  fuelType: z.enum(VEHICLE_FUEL_TYPES).nullable(),
  vehicleClass: z.string().nullable(),
  tankLitres: z.number().nullable(),
  calibration: z.array(z.object({ pct: z.number(), litres: z.number() })).nullable(),
  odometerOffsetKm: z.number(),
  groupId: z.number().nullable(),
  groupName: z.string().nullable(),
  costCentre: z.string().nullable(),
  monthlyFuelBudget: z.number().nullable(),
  driverId: z.string().nullable(),
  driverName: z.string().nullable(),
  createdAt: z.number(),
  retiredAt: z.number().nullable(),
  /** The VIN the vehicle's agent reads from it; `vinStatus` flags one that is not the registered VIN. */
  reportedVin: z.string().nullable(),
  vinStatus: z.enum(VIN_STATUSES),
});

export const ImportReportOutput = z.object({
  rows: z.number(),
  created: z.number(),
  unchanged: z.number(),
  bad: z.number(),
  errors: z.array(z.object({ line: z.number(), reason: z.string() })),
});

const plateOrVinTaken = (v: { plate?: string | null; vin?: string | null }) => () =>
  `a vehicle in service has this plate (${v.plate ?? '—'}) or VIN (${v.vin ?? '—'}) already`;

async function recordOf(db: pg.PoolClient, tenantId: string, vehicleId: string): Promise<VehicleRecord> {
  const [found] = await listVehicleRegister(db, { tenantId, vehicleId, includeRetired: true, limit: 1 });
  if (!found) throw new TRPCError({ code: 'NOT_FOUND', message: `no vehicle ${vehicleId}` });
  return found;
}

/** The register's side of a vehicle, for the audit log (no derived fields). */
const auditable = (r: VehicleRecord) => {
  const {
    driverId: _d,
    driverName: _n,
    groupName: _g,
    createdAt: _c,
    reportedVin: _rv,
    vinStatus: _vs,
    ...rest
  } = r;
  return rest;
};

/**
 * The vehicle register: what each vehicle is (plate, VIN, make, model, tank and its calibration,
 * group, cost centre, budget), as opposed to `vehicles` (what it reports). Changes audited with
 * before and after.
 */
export const registryRouter = createRouter({
  list: read
    .input(
      z
        .object({
          groupId: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
          text: z.string().trim().max(100).optional(),
          includeRetired: z.boolean().default(false),
          limit: z.number().int().min(1).max(500).default(100),
          cursor: CursorInput,
        })
        .default({ includeRetired: false, limit: 100 }),
    )
    .output(z.object({ items: z.array(VehicleRecordOutput), nextCursor: z.string().nullable() }))
    .query(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        const rows = await listVehicleRegister(db, {
          tenantId: ctx.session.tenantId,
          groupId: input.groupId ?? null,
          text: input.text || null,
          includeRetired: input.includeRetired,
          limit: input.limit + 1,
          after: decodeCursor(input.cursor, z.string()),
        });
        return page(rows, input.limit, (r) => r.id);
      }),
    ),

  get: read
    .input(z.object({ vehicleId: VehicleId }))
    .output(VehicleRecordOutput)
    .query(({ ctx, input }) => ctx.tenant((db) => recordOf(db, ctx.session.tenantId, input.vehicleId))),

  create: manage
    .input(NewVehicle)
    .output(VehicleRecordOutput)
    .mutation(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        const id = input.id ?? `veh-${randomBytes(6).toString('hex')}`;
        const stored = await conflictAs(plateOrVinTaken(input), () =>
          insertVehicles(db, ctx.session.tenantId, [{ ...input, id }]),
        );
        if (!stored.has(id)) throw new TRPCError({ code: 'CONFLICT', message: `vehicle id ${id} is taken` });
        const created = await recordOf(db, ctx.session.tenantId, id);
        if (input.groupId != null && created.groupId === null)
          throw new TRPCError({ code: 'NOT_FOUND', message: `no group ${input.groupId}` });
        await appendAudit(db, {
          tenantId: ctx.session.tenantId,
          actor: `user:${ctx.session.userId}`,
          action: 'vehicle.create',
          entity: `vehicle:${id}`,
          after: auditable(created),
        });
        return created;
      }),
    ),

  /** Changes the fields given (null clears one). A calibration is checked against the resulting tank. */
  update: manage
    .input(VehicleFields.extend({ vehicleId: VehicleId }).superRefine(checkCalibration))
    .output(VehicleRecordOutput)
    .mutation(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        const { vehicleId, ...change } = input;
        const before = await recordOf(db, ctx.session.tenantId, vehicleId);
        const tank = change.tankLitres !== undefined ? change.tankLitres : before.tankLitres;
        const calibration = change.calibration !== undefined ? change.calibration : before.calibration;
        // The table against the tank the vehicle will have (either may be the one changing): the
        // same zod check as the input's, so the error reaches the form as a field error.
        const merged = VehicleFields.superRefine(checkCalibration).safeParse({
          tankLitres: tank,
          calibration,
        });
        if (!merged.success)
          throw new TRPCError({
            code: 'BAD_REQUEST',
            message: merged.error.issues[0]!.message,
            cause: merged.error,
          });
        if (change.plate === null && change.vin === null)
          throw new TRPCError({ code: 'BAD_REQUEST', message: 'a vehicle needs a plate or a VIN' });
        await conflictAs(plateOrVinTaken({ ...before, ...change }), () =>
          updateVehicle(db, ctx.session.tenantId, vehicleId, change),
        );
        const after = await recordOf(db, ctx.session.tenantId, vehicleId);
        if (change.groupId != null && after.groupId === null)
          throw new TRPCError({ code: 'NOT_FOUND', message: `no group ${change.groupId}` });
        await appendAudit(db, {
          tenantId: ctx.session.tenantId,
          actor: `user:${ctx.session.userId}`,
          action: 'vehicle.update',
          entity: `vehicle:${vehicleId}`,
          before: auditable(before),
          after: auditable(after),
        });
        return after;
      }),
    ),

  /**
   * Retires a vehicle (or returns it to service): it keeps its history and leaves the fleet; its
   * current driver's assignment ends now. Soft: nothing is deleted.
   */
  retire: manage
    .input(z.object({ vehicleId: VehicleId, retired: z.boolean().default(true) }))
    .output(VehicleRecordOutput)
    .mutation(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        const before = await recordOf(db, ctx.session.tenantId, input.vehicleId);
        await conflictAs(plateOrVinTaken(before), () =>
          updateVehicle(db, ctx.session.tenantId, input.vehicleId, { retired: input.retired }),
        );
        if (input.retired) {
          const closed = await closeCurrentAssignments(db, {
            tenantId: ctx.session.tenantId,
            vehicleId: input.vehicleId,
          });
          if (closed.length > 0) forgetCachedSessions();
        }
        const after = await recordOf(db, ctx.session.tenantId, input.vehicleId);
        await appendAudit(db, {
          tenantId: ctx.session.tenantId,
          actor: `user:${ctx.session.userId}`,
          action: input.retired ? 'vehicle.retire' : 'vehicle.reinstate',
          entity: `vehicle:${input.vehicleId}`,
          before: { retiredAt: before.retiredAt, driverId: before.driverId },
          after: { retiredAt: after.retiredAt, driverId: after.driverId },
        });
        return after;
      }),
    ),

  /** A CSV file's text (vehicle-csv.ts columns); idempotent on plate and VIN; bad rows by line. */
  import: manage
    .input(z.object({ csv: z.string().min(1).max(MAX_IMPORT_BYTES) }))
    .output(ImportReportOutput)
    .mutation(async ({ ctx, input }) => {
      try {
        const { createdIds: _ids, ...report } = await importVehiclesCsv(
          ctx.db,
          ctx.session.tenantId,
          `user:${ctx.session.userId}`,
          [input.csv],
        );
        return report;
      } catch (err) {
        // A file the import cannot read at all (no header, a required column missing).
        if (isCloudError(err, CloudErrorCode.PayloadRejected))
          throw new TRPCError({ code: 'BAD_REQUEST', message: err.message });
        throw err;
      }
    }),
});
