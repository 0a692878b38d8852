import { ID_PATTERN, VehicleState } from '@fleet/shared';
import { TRPCError } from '@trpc/server';
import type pg from 'pg';
import { z } from 'zod';
import { listLatestVehicleStates } from '../../db/queries/list-latest-vehicle-states.ts';
import { sharedAnswer, sharedAnswersEnabled } from '../shared-answers.ts';
import { authedProcedure, createRouter } from '../trpc.ts';

const read = authedProcedure.meta({ permission: 'vehicles:read' });

/**
 * The most vehicles a tenant's shared snapshot of latest states holds (the largest fleet the
 * design sizes for). A larger tenant's vehicles beyond it are read one at a time.
 */
export const STATE_SNAPSHOT_MAX = 10_000;
const VehicleStates = z.array(VehicleState);

/**
 * Every vehicle's latest state of a tenant, by vehicle id, read once and shared for up to a second
 * (shared-answers.ts) between the tenant's vehicles.get callers: at 1 Hz telemetry one read of the
 * tenant's rows a second replaces a round trip per vehicle per second, whichever vehicles the
 * dashboards and drivers are watching. Output checked once per read, so each request sends the
 * same object (serialised once, server.ts).
 */
function tenantStates(
  tenant: (fn: (c: pg.PoolClient) => Promise<VehicleState[]>) => Promise<VehicleState[]>,
  tenantId: string,
) {
  return sharedAnswer(JSON.stringify(['vehicle-states', tenantId]), async () => {
    const rows = VehicleStates.parse(
      await tenant((db) => listLatestVehicleStates(db, STATE_SNAPSHOT_MAX, { tenantId })),
    );
    return new Map(rows.map((r) => [r.vehicleId, r]));
  });
}

export const vehiclesRouter = createRouter({
  /** Every vehicle's latest state, in vehicle id order (stable rows for a live table); a driver's own only. */
  list: read
    .input(z.object({ limit: z.number().int().min(1).max(500).default(100) }).default({ limit: 100 }))
    .output(z.array(VehicleState))
    .query(({ ctx, input }) =>
      ctx.tenant((db) =>
        listLatestVehicleStates(db, input.limit, {
          tenantId: ctx.session.tenantId,
          vehicleId: ctx.session.role === 'driver' ? ctx.session.vehicleId : null,
        }),
      ),
    ),

  /**
   * One vehicle's latest state; NOT_FOUND for another tenant's vehicle as for a missing one. Taken
   * from the tenant's shared snapshot (above); a vehicle not in it (new within the second, beyond
   * the cap, or not the tenant's) is asked of the database on its own, so a miss is never stale.
   */
  get: read
    .input(z.object({ vehicleId: z.string().regex(ID_PATTERN) }))
    .query(async ({ ctx, input }): Promise<VehicleState> => {
      if (ctx.session.role === 'driver' && ctx.session.vehicleId !== input.vehicleId) {
        throw new TRPCError({ code: 'NOT_FOUND', message: `no vehicle ${input.vehicleId}` });
      }
      const tenantId = ctx.session.tenantId;
      if (sharedAnswersEnabled()) {
        const found = (await tenantStates(ctx.tenant, tenantId)).get(input.vehicleId);
        if (found) return found;
      }
      const [found] = await sharedAnswer(JSON.stringify(['vehicle', tenantId, input.vehicleId]), async () =>
        VehicleStates.parse(
          await ctx.tenant((db) => listLatestVehicleStates(db, 1, { tenantId, vehicleId: input.vehicleId })),
        ),
      );
      if (!found) throw new TRPCError({ code: 'NOT_FOUND', message: `no vehicle ${input.vehicleId}` });
      return found;
    }),
});
