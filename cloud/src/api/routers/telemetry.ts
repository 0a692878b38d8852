import { ID_PATTERN, VEHICLE_EVENT_TYPES } from '@fleet/shared';
import { z } from 'zod';
import { fleetOverview, VEHICLE_STATUSES } from '../../db/queries/fleet-overview.ts';
import { bucketFor, fuelLevelSeries, listVehicleEvents } from '../../db/queries/fuel-level-series.ts';
import { CursorInput, decodeCursor, EpochMs, page, rangeCheck } from '../cursor.ts';
import { sharedAnswer } from '../shared-answers.ts';
import { authedProcedure, createRouter } from '../trpc.ts';
import { ownVehicleScope, requireVisibleVehicle } from '../vehicle-access.ts';

const read = authedProcedure.meta({ permission: 'vehicles:read' });
const VehicleId = z.string().regex(ID_PATTERN);

/** Fuel charts may span up to this (a year and a bit); rollups keep it to a few hundred points. */
export const FUEL_SERIES_MAX_DAYS = 400;
export const EVENTS_MAX_DAYS = 92;

const FleetVehicle = z.object({
  vehicleId: z.string(),
  status: z.enum(VEHICLE_STATUSES),
  lastSeen: z.number().nullable(),
  lat: z.number().nullable(),
  lon: z.number().nullable(),
  speedKmh: z.number().nullable(),
  fuelLevelPct: z.number().nullable(),
  online: z.boolean().nullable(),
});

const FleetOverview = z.strictObject({
  counts: z.record(z.enum(VEHICLE_STATUSES), z.number()),
  vehicles: z.array(FleetVehicle),
  nextCursor: z.string().nullable(),
});

const Event = z.object({
  vehicleId: z.string(),
  eventId: z.number(),
  type: z.string(),
  start: z.number(),
  end: z.number(),
  volumeL: z.number().nullable(),
  lat: z.number().nullable(),
  lon: z.number().nullable(),
  driverId: z.string().nullable(),
  confidence: z.number(),
  details: z.record(z.string(), z.unknown()),
});
const EventCursor = z.object({ start: z.number(), eventId: z.number() });
/** Built once: a zod schema built per request cost more than the rest of a shared answer. */
const FleetCursor = z.string().max(64);

export const telemetryRouter = createRouter({
  /**
   * The fleet overview: every vehicle's position, status, fuel level, speed and last-seen time
   * (vehicle id order, cursor-paginated), with the count per status of the whole visible fleet.
   * Shared for up to a second between the tenant's dashboards (shared-answers.ts); the live
   * positions stream carries what changes in between.
   */
  fleet: read
    .input(
      z
        .object({ limit: z.number().int().min(1).max(1000).default(200), cursor: CursorInput })
        .default({ limit: 200 }),
    )
    // Output checked once per computed answer (below), not on every request that shares it: the
    // same object then goes out each time, and the server serialises it once (server.ts).
    .query(({ ctx, input }) => {
      const after = decodeCursor(input.cursor, FleetCursor);
      const scope = { tenantId: ctx.session.tenantId, vehicleId: ownVehicleScope(ctx.session) };
      return sharedAnswer(JSON.stringify(['fleet', scope, input.limit, after]), () =>
        ctx.tenant(async (db) => {
          const { counts, rows } = await fleetOverview(db, scope, input.limit + 1, after);
          const { items, nextCursor } = page(rows, input.limit, (r) => r.vehicleId);
          return FleetOverview.parse({ counts, vehicles: items, nextCursor });
        }),
      );
    }),

  /**
   * A vehicle's fuel level over [from, to) from the minute rollups, in buckets sized to the range
   * (a year comes back as ~365 daily points), with the refuels, drains and leaks to mark on it.
   */
  fuelSeries: read
    .input(
      z
        .object({ vehicleId: VehicleId, from: EpochMs, to: EpochMs })
        .superRefine(rangeCheck(FUEL_SERIES_MAX_DAYS)),
    )
    .output(
      z.object({
        bucketS: z.number(),
        points: z.array(
          z.object({
            t: z.number(),
            pct: z.number(),
            minPct: z.number(),
            maxPct: z.number(),
            samples: z.number(),
          }),
        ),
        markers: z.array(Event),
      }),
    )
    .query(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        await requireVisibleVehicle(db, ctx.session, input.vehicleId);
        const bucketS = bucketFor(input.from, input.to);
        const q = {
          tenantId: ctx.session.tenantId,
          vehicleId: input.vehicleId,
          from: input.from,
          to: input.to,
        };
        const points = await fuelLevelSeries(db, { ...q, bucketS });
        const markers = await listVehicleEvents(db, {
          ...q,
          types: ['refuel', 'fuel_drain', 'fuel_leak'],
          limit: 1000,
          after: null,
        });
        return { bucketS, points, markers };
      }),
    ),

  /** A vehicle's detected events (DTCs, harsh driving, idling, fuel) in time order, paginated. */
  events: read
    .input(
      z
        .object({
          vehicleId: VehicleId,
          from: EpochMs,
          to: EpochMs,
          types: z.array(z.enum(VEHICLE_EVENT_TYPES)).min(1).max(VEHICLE_EVENT_TYPES.length).optional(),
          limit: z.number().int().min(1).max(500).default(100),
          cursor: CursorInput,
        })
        .superRefine(rangeCheck(EVENTS_MAX_DAYS)),
    )
    .output(z.object({ items: z.array(Event), nextCursor: z.string().nullable() }))
    .query(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        await requireVisibleVehicle(db, ctx.session, input.vehicleId);
        const rows = await listVehicleEvents(db, {
          tenantId: ctx.session.tenantId,
          vehicleId: input.vehicleId,
          from: input.from,
          to: input.to,
          types: input.types ?? null,
          limit: input.limit + 1,
          after: decodeCursor(input.cursor, EventCursor),
        });
        return page(rows, input.limit, (r) => ({ start: r.start, eventId: r.eventId }));
      }),
    ),
});
