import { ID_PATTERN } from '@fleet/shared';
import { z } from 'zod';
import {
  listDriverRefuels,
  listFuelTransactions,
  RECONCILIATION_STATUSES,
  vehicleConsumption,
} from '../../db/queries/fuel.ts';
import { CursorInput, decodeCursor, EpochMs, page, rangeCheck } from '../cursor.ts';
import { authedProcedure, createRouter } from '../trpc.ts';
import { requireVisibleVehicle } from '../vehicle-access.ts';

const TsIdCursor = z.object({ ts: z.number(), id: z.number() });

const read = authedProcedure.meta({ permission: 'fuel:read' });
export const FUEL_MAX_DAYS = 400;

const Transaction = z.object({
  id: z.number(),
  vehicleId: z.string().nullable(),
  source: z.string(),
  ts: z.number(),
  litres: z.number(),
  amount: z.number().nullable(),
  currency: z.string().nullable(),
  fuelType: z.string().nullable(),
  station: z.string().nullable(),
  cardId: z.string().nullable(),
  driverId: z.string().nullable(),
  status: z.enum(RECONCILIATION_STATUSES),
  flags: z.array(z.string()),
  reasons: z.array(z.string()),
});

const DriverRefuel = z.object({
  id: z.number(),
  vehicleId: z.string(),
  userId: z.string(),
  ts: z.number(),
  litres: z.number(),
  amount: z.number().nullable(),
  currency: z.string().nullable(),
  fuelType: z.string(),
  station: z.string().nullable(),
  status: z.enum(RECONCILIATION_STATUSES),
  flags: z.array(z.string()),
  reasons: z.array(z.string()),
  /** The driver's receipt photo (GET /receipts/<id> serves it), or null. */
  receipt: z.object({ sha256: z.string(), sizeBytes: z.number() }).nullable(),
});

export const fuelRouter = createRouter({
  /** Fuel-card purchases, newest first, with their reconciliation status and fraud flags. */
  transactions: read
    .input(
      z
        .object({
          vehicleId: z.string().regex(ID_PATTERN).optional(),
          statuses: z.array(z.enum(RECONCILIATION_STATUSES)).min(1).max(4).optional(),
          fuelType: z.string().trim().min(1).max(32).optional(),
          from: EpochMs.optional(),
          to: EpochMs.optional(),
          limit: z.number().int().min(1).max(200).default(50),
          cursor: CursorInput,
        })
        .superRefine(rangeCheck(FUEL_MAX_DAYS))
        .default({ limit: 50 }),
    )
    .output(z.object({ items: z.array(Transaction), nextCursor: z.string().nullable() }))
    .query(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        const rows = await listFuelTransactions(db, {
          tenantId: ctx.session.tenantId,
          vehicleId: input.vehicleId ?? null,
          statuses: input.statuses ?? null,
          fuelType: input.fuelType ?? null,
          from: input.from ?? null,
          to: input.to ?? null,
          limit: input.limit + 1,
          after: decodeCursor(input.cursor, TsIdCursor),
        });
        return page(rows, input.limit, (t) => ({ ts: t.ts, id: t.id }));
      }),
    ),

  /**
   * The refuels drivers logged in the PWA, newest first, with their reconciliation against the
   * detected refuels and card purchases (a fill paid in cash has no purchase to show it).
   */
  driverRefuels: read
    .input(
      z
        .object({
          vehicleId: z.string().regex(ID_PATTERN).optional(),
          statuses: z.array(z.enum(RECONCILIATION_STATUSES)).min(1).max(4).optional(),
          limit: z.number().int().min(1).max(200).default(50),
          cursor: CursorInput,
        })
        .default({ limit: 50 }),
    )
    .output(z.object({ items: z.array(DriverRefuel), nextCursor: z.string().nullable() }))
    .query(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        const rows = await listDriverRefuels(db, {
          tenantId: ctx.session.tenantId,
          vehicleId: input.vehicleId ?? null,
          statuses: input.statuses ?? null,
          limit: input.limit + 1,
          after: decodeCursor(input.cursor, TsIdCursor),
        });
        return page(rows, input.limit, (t) => ({ ts: t.ts, id: t.id }));
      }),
    ),

  /** A vehicle's distance, fuel used (L/100 km when its tank size is known), losses, refuels and purchases. */
  consumption: read
    .input(
      z
        .object({ vehicleId: z.string().regex(ID_PATTERN), from: EpochMs, to: EpochMs })
        .superRefine(rangeCheck(FUEL_MAX_DAYS)),
    )
    .output(
      z.object({
        km: z.number(),
        usedPct: z.number(),
        tankLitres: z.number().nullable(),
        consumedL: z.number().nullable(),
        lostL: z.number(),
        refuelledL: z.number(),
        purchasedL: z.number(),
        litresPer100Km: z.number().nullable(),
      }),
    )
    .query(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        await requireVisibleVehicle(db, ctx.session, input.vehicleId);
        return vehicleConsumption(db, { tenantId: ctx.session.tenantId, ...input });
      }),
    ),
});
