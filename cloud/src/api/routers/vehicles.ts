import { ID_PATTERN, VehicleState } from '@fleet/shared';
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { listLatestVehicleStates } from '../../db/queries/list-latest-vehicle-states.ts';
import { sharedAnswer } from '../shared-answers.ts';
import { authedProcedure, createRouter } from '../trpc.ts';

const read = authedProcedure.meta({ permission: 'vehicles:read' });

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

  /** One vehicle's latest state; NOT_FOUND for another tenant's vehicle as for a missing one. */
  get: read
    .input(z.object({ vehicleId: z.string().regex(ID_PATTERN) }))
    .output(VehicleState)
    .query(async ({ ctx, input }) => {
      if (ctx.session.role === 'driver' && ctx.session.vehicleId !== input.vehicleId) {
        throw new TRPCError({ code: 'NOT_FOUND', message: `no vehicle ${input.vehicleId}` });
      }
      // Shared for up to a second between callers of the tenant (shared-answers.ts): the state
      // changes at the vehicles' 1 Hz anyway, and a dashboard's polling stays off the database.
      const [found] = await sharedAnswer(
        JSON.stringify(['vehicle', ctx.session.tenantId, input.vehicleId]),
        () =>
          ctx.tenant((db) =>
            listLatestVehicleStates(db, 1, { tenantId: ctx.session.tenantId, vehicleId: input.vehicleId }),
          ),
      );
      if (!found) throw new TRPCError({ code: 'NOT_FOUND', message: `no vehicle ${input.vehicleId}` });
      return found;
    }),
});
