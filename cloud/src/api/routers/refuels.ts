import { ID_PATTERN } from '@fleet/shared';
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { appendAudit } from '../../db/queries/audit-log.ts';
import { REFUEL_COLUMNS, type RefuelRow, toRefuel } from '../../db/queries/refuel-logs.ts';
import { periodAround, reconcileInTransaction } from '../../fuel/reconcile.ts';
import { CursorInput, decodeCursor, EpochMs, page } from '../cursor.ts';
import { authedProcedure, createRouter } from '../trpc.ts';
import { requireVisibleVehicle } from '../vehicle-access.ts';

const TsIdCursor = z.object({ ts: z.number(), id: z.number() });

const log = authedProcedure.meta({ permission: 'refuels:log' });

export const FUEL_TYPES = ['diesel', 'petrol', 'lpg', 'cng', 'adblue', 'electric'] as const;
/** A refuel may be logged up to this long after it happened (a week offline, then some). */
export const REFUEL_MAX_AGE_DAYS = 31;
/** Phones' clocks drift: this much in the future is still accepted. */
const FUTURE_TOLERANCE_MS = 10 * 60_000;

export const RefuelOutput = z.object({
  id: z.number(),
  clientId: z.string(),
  vehicleId: z.string(),
  userId: z.string(),
  ts: z.number(),
  litres: z.number(),
  amount: z.number().nullable(),
  currency: z.string().nullable(),
  fuelType: z.string(),
  station: z.string().nullable(),
  odometerKm: z.number().nullable(),
  note: z.string().nullable(),
  createdAt: z.number(),
});

export const refuelsRouter = createRouter({
  /**
   * The driver PWA's refuel log. `clientId` is generated on the phone when the form is submitted,
   * before any network: a retried or replayed submit (offline queue, flaky signal) returns the row
   * the first one stored (`created: false`) and never adds a second. A driver logs for their own
   * vehicle only. Audited when a row is created.
   */
  log: log
    .input(
      z.object({
        clientId: z.uuid(),
        vehicleId: z.string().regex(ID_PATTERN),
        ts: EpochMs,
        litres: z.number().gt(0).max(2000),
        fuelType: z.enum(FUEL_TYPES),
        amount: z.number().min(0).max(1_000_000).optional(),
        currency: z
          .string()
          .regex(/^[A-Z]{3}$/)
          .optional(),
        station: z.string().trim().max(200).optional(),
        odometerKm: z.number().min(0).max(10_000_000).optional(),
        note: z.string().trim().max(500).optional(),
      }),
    )
    .output(z.object({ created: z.boolean(), refuel: RefuelOutput }))
    .mutation(({ ctx, input }) => {
      const now = Date.now();
      if (input.ts > now + FUTURE_TOLERANCE_MS)
        throw new TRPCError({ code: 'BAD_REQUEST', message: 'refuel time is in the future' });
      if (input.ts < now - REFUEL_MAX_AGE_DAYS * 86_400_000)
        throw new TRPCError({
          code: 'BAD_REQUEST',
          message: `refuel older than ${REFUEL_MAX_AGE_DAYS} days`,
        });
      return ctx.tenant(async (db) => {
        const { rows: existing } = await db.query<RefuelRow>(
          `SELECT ${REFUEL_COLUMNS} FROM refuel_logs WHERE tenant_id = $1 AND client_id = $2`,
          [ctx.session.tenantId, input.clientId],
        );
        const replay = (row: RefuelRow) => {
          // The same key from someone else is not a retry of theirs.
          if (row.user_id !== ctx.session.userId || row.vehicle_id !== input.vehicleId)
            throw new TRPCError({ code: 'CONFLICT', message: 'this refuel id is already used' });
          return { created: false, refuel: toRefuel(row) };
        };
        if (existing[0]) return replay(existing[0]);
        await requireVisibleVehicle(db, ctx.session, input.vehicleId);
        const { rows } = await db.query<RefuelRow>(
          `INSERT INTO refuel_logs (tenant_id, client_id, vehicle_id, user_id, ts, litres, amount, currency,
                                    fuel_type, station, odometer_km, note)
           VALUES ($1, $2, $3, $4, to_timestamp($5 / 1000.0), $6, $7, $8, $9, $10, $11, $12)
           ON CONFLICT (tenant_id, client_id) DO NOTHING
           RETURNING ${REFUEL_COLUMNS}`,
          [
            ctx.session.tenantId,
            input.clientId,
            input.vehicleId,
            ctx.session.userId,
            input.ts,
            input.litres,
            input.amount ?? null,
            input.currency ?? null,
            input.fuelType,
            input.station || null,
            input.odometerKm ?? null,
            input.note || null,
          ],
        );
        if (!rows[0]) {
          // Two submits of the same refuel raced: the other one's row is the answer.
          const { rows: raced } = await db.query<RefuelRow>(
            `SELECT ${REFUEL_COLUMNS} FROM refuel_logs WHERE tenant_id = $1 AND client_id = $2`,
            [ctx.session.tenantId, input.clientId],
          );
          return replay(raced[0]!);
        }
        await appendAudit(db, {
          tenantId: ctx.session.tenantId,
          actor: `user:${ctx.session.userId}`,
          action: 'refuel.log',
          entity: `refuel:${rows[0].id}`,
          after: { vehicleId: input.vehicleId, litres: input.litres, fuelType: input.fuelType },
        });
        // Reconciled on arrival, in the same transaction: the log is never stored unjudged, and
        // /fuel shows its verdict as soon as the driver's phone has its answer.
        await reconcileInTransaction(db, ctx.session.tenantId, periodAround(input.ts, input.ts));
        return { created: true, refuel: toRefuel(rows[0]) };
      });
    }),

  /** The refuels this user logged, newest first. */
  mine: log
    .input(
      z
        .object({ limit: z.number().int().min(1).max(200).default(50), cursor: CursorInput })
        .default({ limit: 50 }),
    )
    .output(z.object({ items: z.array(RefuelOutput), nextCursor: z.string().nullable() }))
    .query(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        const after = decodeCursor(input.cursor, TsIdCursor);
        const { rows } = await db.query<RefuelRow>(
          `SELECT ${REFUEL_COLUMNS} FROM refuel_logs
            WHERE tenant_id = $1 AND user_id = $2
              AND ($3::float8 IS NULL OR (ts, id) < (to_timestamp($3 / 1000.0), $4::bigint))
            ORDER BY ts DESC, id DESC LIMIT $5`,
          [ctx.session.tenantId, ctx.session.userId, after?.ts ?? null, after?.id ?? null, input.limit + 1],
        );
        return page(rows.map(toRefuel), input.limit, (r) => ({ ts: r.ts, id: r.id }));
      }),
    ),
});
