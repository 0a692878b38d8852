/**
 * A service program, as a fleet manager writes it: intervals by distance, engine hours and the
 * calendar (whichever comes first), the due-soon margins, and whom it applies to (groups or
 * vehicles). One zod schema for the API and the stored row. Templates are the usual programs
 * ready to apply ("Oil: 15,000 km or 12 months").
 */
import { ID_PATTERN } from '@fleet/shared';
import { z } from 'zod';

export const ProgramIntervals = z.object({
  /** [1...1,000,000] km since the last service. */
  intervalKm: z.number().positive().max(1_000_000).nullable().default(null),
  /** [1...100,000] engine hours since the last service. */
  intervalHours: z.number().positive().max(100_000).nullable().default(null),
  /** [1...120] calendar months since the last service. */
  intervalMonths: z.number().int().min(1).max(120).nullable().default(null),
  /** [1...3650] calendar days since the last service. */
  intervalDays: z.number().int().min(1).max(3650).nullable().default(null),
  /** Due soon when this close (km, hours, days); 0: only once due. */
  soonKm: z.number().min(0).max(100_000).default(0),
  soonHours: z.number().min(0).max(10_000).default(0),
  soonDays: z.number().int().min(0).max(365).default(0),
});

export const ProgramTargets = z
  .object({
    groupIds: z.array(z.number().int().positive()).max(200).default([]),
    vehicleIds: z.array(z.string().regex(ID_PATTERN)).max(5000).default([]),
  })
  .refine((t) => t.groupIds.length + t.vehicleIds.length > 0, {
    message: 'apply the program to at least one group or vehicle',
  });

export const ProgramInput = ProgramIntervals.extend({
  name: z.string().trim().min(1, 'give the program a name').max(120),
  template: z.string().max(40).nullable().default(null),
  targets: ProgramTargets,
  /** Vehicles never serviced under it count from here (default: now). */
  startsAt: z.number().int().positive().optional(),
}).refine(
  (p) =>
    p.intervalKm !== null || p.intervalHours !== null || p.intervalMonths !== null || p.intervalDays !== null,
  { message: 'give at least one interval (km, engine hours, months or days)', path: ['intervalKm'] },
);
export type ProgramInput = z.input<typeof ProgramInput>;
export type ProgramDefinition = z.output<typeof ProgramInput>;

export interface ProgramTemplate {
  id: string;
  name: string;
  intervals: z.input<typeof ProgramIntervals>;
}

/** The usual programs of a light-commercial fleet (manufacturers' schedules vary: edit after applying). */
export const PROGRAM_TEMPLATES: readonly ProgramTemplate[] = [
  {
    id: 'oil',
    name: 'Oil and filter: 15,000 km or 12 months',
    intervals: { intervalKm: 15_000, intervalMonths: 12, soonKm: 1_000, soonDays: 14 },
  },
  {
    id: 'tyres',
    name: 'Tyre rotation: 10,000 km',
    intervals: { intervalKm: 10_000, soonKm: 500 },
  },
  {
    id: 'brakes',
    name: 'Brake inspection: 30,000 km or 24 months',
    intervals: { intervalKm: 30_000, intervalMonths: 24, soonKm: 2_000, soonDays: 30 },
  },
  {
    id: 'engine_hours',
    name: 'Engine service: 500 engine hours or 12 months',
    intervals: { intervalHours: 500, intervalMonths: 12, soonHours: 25, soonDays: 14 },
  },
  {
    id: 'annual',
    name: 'Annual inspection: 12 months',
    intervals: { intervalMonths: 12, soonDays: 30 },
  },
];

/**
 * What the API takes: a template's id fills the name and the intervals the request leaves out
 * (`programFromRequest`), then the whole is checked as a program.
 */
export const ProgramRequest = z.object({
  template: z.string().max(40).optional(),
  name: z.string().trim().min(1).max(120).optional(),
  intervalKm: z.number().positive().max(1_000_000).nullable().optional(),
  intervalHours: z.number().positive().max(100_000).nullable().optional(),
  intervalMonths: z.number().int().min(1).max(120).nullable().optional(),
  intervalDays: z.number().int().min(1).max(3650).nullable().optional(),
  soonKm: z.number().min(0).max(100_000).optional(),
  soonHours: z.number().min(0).max(10_000).optional(),
  soonDays: z.number().int().min(0).max(365).optional(),
  targets: ProgramTargets,
  startsAt: z.number().int().min(946_684_800_000).max(4_102_444_800_000).optional(),
});

export function programFromRequest(r: z.output<typeof ProgramRequest>) {
  const t = r.template === undefined ? undefined : PROGRAM_TEMPLATES.find((x) => x.id === r.template);
  const given = Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined));
  return ProgramInput.safeParse({
    ...(t ? { name: t.name, ...t.intervals } : {}),
    ...given,
    template: t?.id ?? null,
  });
}
