import { ID_PATTERN } from '@fleet/shared';
import { z } from 'zod';
import { listTrips } from '../../db/queries/trips.ts';
import { EpochMs, rangeCheck } from '../cursor.ts';
import { authedProcedure, createRouter } from '../trpc.ts';
import { requireVisibleVehicle } from '../vehicle-access.ts';

const read = authedProcedure.meta({ permission: 'vehicles:read' });

/** A trip list may span up to this; the minute rollups keep even that to one index range scan. */
export const TRIPS_MAX_DAYS = 92;

const Trip = z.object({
  start: z.number(),
  end: z.number(),
  drivingMinutes: z.number(),
  distanceKm: z.number(),
  maxSpeedKmh: z.number(),
  fuelStartPct: z.number().nullable(),
  fuelEndPct: z.number().nullable(),
});

export const tripsRouter = createRouter({
  /**
   * A vehicle's trips in [from, to), newest first, from the minute rollups: driving minutes
   * grouped together until a stop of more than five minutes (db/queries/trips.ts).
   */
  list: read
    .input(
      z
        .object({
          vehicleId: z.string().regex(ID_PATTERN),
          from: EpochMs,
          to: EpochMs,
          limit: z.number().int().min(1).max(200).default(50),
        })
        .superRefine(rangeCheck(TRIPS_MAX_DAYS)),
    )
    .output(z.object({ items: z.array(Trip) }))
    .query(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        await requireVisibleVehicle(db, ctx.session, input.vehicleId);
        const items = await listTrips(db, {
          tenantId: ctx.session.tenantId,
          vehicleId: input.vehicleId,
          from: input.from,
          to: input.to,
          limit: input.limit,
        });
        return { items };
      }),
    ),
});
