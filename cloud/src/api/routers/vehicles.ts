import { VehicleState } from '@fleet/shared';
import { z } from 'zod';
import { listLatestVehicleStates } from '../../db/queries/list-latest-vehicle-states.ts';
import { createRouter, publicProcedure } from '../trpc.ts';

export const vehiclesRouter = createRouter({
  /** Every vehicle's latest state, in vehicle id order (stable rows for a live table). */
  list: publicProcedure
    .input(z.object({ limit: z.number().int().min(1).max(500).default(100) }).default({ limit: 100 }))
    .output(z.array(VehicleState))
    .query(({ ctx, input }) => listLatestVehicleStates(ctx.db, input.limit)),
});
