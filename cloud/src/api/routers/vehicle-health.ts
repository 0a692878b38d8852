import { ID_PATTERN } from '@fleet/shared';
import { z } from 'zod';
import { batteryTrend, misfiring } from '../../alerts/vehicle-health-alerts.ts';
import { batteryStartOf, healthEvents } from '../../db/queries/vehicle-health.ts';
import { engineScoreDays, HISTORY_DAYS, inspectSuggestions } from '../../maintenance/inspect-suggestions.ts';
import { EpochMs, rangeCheck } from '../cursor.ts';
import { authedProcedure, createRouter } from '../trpc.ts';
import { requireVisibleVehicle } from '../vehicle-access.ts';

/**
 * A vehicle's health for the technician's panels (issue 18 §2): trouble codes with their SAE
 * J2012 text, MIL, PIDs 21/31 and freeze frame; the battery per engine start with its trend; the
 * on-board monitor results (misfire per cylinder, catalyst) over time. All from the events the
 * agent reported (vehicle_events), newest `limit` in [from, to).
 */
const health = authedProcedure.meta({ permission: 'vehicles:health' });
export const HEALTH_MAX_DAYS = 400;

const Range = z
  .object({
    vehicleId: z.string().regex(ID_PATTERN),
    from: EpochMs,
    to: EpochMs,
    limit: z.number().int().min(1).max(500).default(100),
  })
  .superRefine(rangeCheck(HEALTH_MAX_DAYS));

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

const FreezeFrame = z.record(
  z.string(),
  z.union([z.number(), z.string(), z.boolean(), z.null(), z.record(z.string(), z.unknown())]),
);
const Code = z.object({
  eventId: z.number(),
  ts: z.number(),
  code: z.string(),
  description: z.string().nullable(),
  kind: z.string().nullable(),
  milOn: z.boolean().nullable(),
  distanceMilOnKm: z.number().nullable(),
  distanceSinceClearKm: z.number().nullable(),
  freezeFrame: FreezeFrame.nullable(),
});
const Codes = z.object({ codes: z.array(Code), milOn: z.boolean().nullable() });

const Start = z.object({
  ts: z.number(),
  restingV: z.number().nullable(),
  crankV: z.number().nullable(),
  lowestV: z.number().nullable(),
  runningV: z.number().nullable(),
  low: z.boolean(),
});
const Battery = z.object({
  starts: z.array(Start),
  trend: z.object({
    starts: z.number(),
    slopeVPerStart: z.number().nullable(),
    lastCrankV: z.number().nullable(),
    falling: z.boolean(),
  }),
});

const Cylinder = z.object({
  cylinder: z.number(),
  count: z.number().nullable(),
  average: z.number().nullable(),
  limit: z.number().nullable(),
});
const Catalyst = z.object({
  bank: z.number(),
  tid: z.number(),
  value: z.number(),
  min: z.number(),
  max: z.number(),
  passed: z.boolean(),
});
const Monitors = z.object({
  reads: z.array(z.object({ ts: z.number(), misfire: z.array(Cylinder), catalyst: z.array(Catalyst) })),
  misfiring: z.array(z.number()),
});

const Share = z.object({ feature: z.string(), share: z.number() });
const EngineScores = z.object({
  days: z.array(
    z.object({
      day: z.string(),
      windows: z.number(),
      anomalousWindows: z.number(),
      mean: z.number(),
      p95: z.number(),
      max: z.number(),
      threshold: z.number(),
      features: z.array(Share),
      modelVersions: z.array(z.string()),
    }),
  ),
  suggestions: z.array(
    z.object({
      vehicleId: z.string(),
      day: z.string(),
      ref: z.string(),
      mean: z.number(),
      baseline: z.number(),
      limit: z.number(),
      rule: z.enum(['history', 'threshold']),
      features: z.array(Share),
    }),
  ),
});

export const vehicleHealthRouter = createRouter({
  /** Trouble codes as reported (newest last), each with its freeze frame when the agent read one. */
  codes: health
    .input(Range)
    .output(Codes)
    .query(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        await requireVisibleVehicle(db, ctx.session, input.vehicleId);
        const rows = await healthEvents(db, { tenantId: ctx.session.tenantId, ...input, type: 'dtc' });
        const codes = rows.map((r) => ({
          eventId: r.eventId,
          ts: r.ts,
          code: str(r.details.code) ?? '?',
          description: str(r.details.description),
          kind: str(r.details.kind),
          milOn: typeof r.details.milOn === 'boolean' ? r.details.milOn : null,
          distanceMilOnKm: num(r.details.distanceMilOnKm),
          distanceSinceClearKm: num(r.details.distanceSinceClearKm),
          freezeFrame: FreezeFrame.safeParse(r.details.freezeFrame).data ?? null,
        }));
        return { codes, milOn: codes.at(-1)?.milOn ?? null };
      }),
    ),

  /** The battery at each engine start (resting, cranking dip, charging) and the dip's trend. */
  battery: health
    .input(Range)
    .output(Battery)
    .query(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        await requireVisibleVehicle(db, ctx.session, input.vehicleId);
        const rows = await healthEvents(db, { tenantId: ctx.session.tenantId, ...input, type: 'battery' });
        const starts = rows.map(batteryStartOf);
        return { starts, trend: batteryTrend(starts.flatMap((s) => (s.crankV === null ? [] : [s.crankV]))) };
      }),
    ),

  /** Service 06 reads over time: misfire counts per cylinder and catalyst tests with their limits. */
  monitors: health
    .input(Range)
    .output(Monitors)
    .query(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        await requireVisibleVehicle(db, ctx.session, input.vehicleId);
        const rows = await healthEvents(db, { tenantId: ctx.session.tenantId, ...input, type: 'monitors' });
        const reads = rows.map((r) => ({
          ts: r.ts,
          misfire: z.array(Cylinder).safeParse(r.details.misfire).data ?? [],
          catalyst: z.array(Catalyst).safeParse(r.details.catalyst).data ?? [],
        }));
        const last = rows.at(-1);
        return { reads, misfiring: last ? misfiring(last.details).map((c) => c.cylinder) : [] };
      }),
    ),

  /**
   * The engine model's scores per day in [from, to) with the PIDs that drove them, and the days
   * high for this vehicle's own history as "inspect" suggestions (maintenance/inspect-suggestions.ts).
   */
  engineScores: health
    .input(Range)
    .output(EngineScores)
    .query(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        await requireVisibleVehicle(db, ctx.session, input.vehicleId);
        // The days before `from` are read too: the first days in range are judged on their history.
        const all = await engineScoreDays(
          db,
          ctx.session.tenantId,
          input.vehicleId,
          input.from - HISTORY_DAYS * 86_400_000,
          input.to,
        );
        const firstDay = new Date(input.from).toISOString().slice(0, 10);
        const inRange = (d: { day: string }) => d.day >= firstDay;
        return {
          days: all.filter(inRange).slice(-input.limit),
          suggestions: inspectSuggestions(input.vehicleId, all).filter(inRange),
        };
      }),
    ),
});
