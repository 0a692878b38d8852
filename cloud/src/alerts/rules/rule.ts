/**
 * An alert rule, as a fleet manager writes it: what fires (source + condition), where (scope),
 * when (an active schedule in the tenant's time zone), how loud (severity), and whom it reaches
 * (recipients, channels per severity, escalation). One zod schema for the API, the CLI, the
 * database row and the engine, so a rule the API accepted is a rule the engine can run.
 *
 * Sources are an open set: the built-in ones below are decided by `engine.ts`; another module
 * (maintenance: `service_due`) registers its own with `registerRuleSource` and raises its own
 * occurrences, without touching the engine.
 */
import { z } from 'zod';
import { CHANNELS, SEVERITIES, type Severity } from '../../notifications/model.ts';

/** The notifications' severities (ThingsBoard's): a rule's alert is delivered at its own. */
export const ALERT_SEVERITIES = SEVERITIES;
export type AlertSeverity = Severity;

/** The in-app inbox, and the notifications' delivery channels. */
export const NOTIFY_CHANNELS = ['in_app', ...CHANNELS] as const;
export type NotifyChannel = (typeof NOTIFY_CHANNELS)[number];

/** The sources the engine decides from vehicle events and geofence changes (and the sweep's). */
export const BUILTIN_RULE_SOURCES = [
  'fuel_drain',
  'refuel',
  'fuel_leak',
  'geofence_enter',
  'geofence_exit',
  'overspeed',
  'long_idle',
  'off_hours',
  'harsh',
  'dtc',
  'battery',
  'engine_anomaly',
  'device_offline',
  'low_fuel',
] as const;
export type BuiltinRuleSource = (typeof BUILTIN_RULE_SOURCES)[number];

const registered = new Set<string>(BUILTIN_RULE_SOURCES);

/** An extra source (e.g. maintenance's `service_due`): its module raises the occurrences. */
export function registerRuleSource(source: string): void {
  if (!SOURCE_PATTERN.test(source)) throw new Error(`invalid rule source "${source}"`);
  registered.add(source);
}
export const isRuleSource = (s: string) => registered.has(s);

const SOURCE_PATTERN = /^[a-z][a-z0-9_]{1,40}$/;
const HHMM = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'expected HH:MM (00:00-24:00)');
const ID = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected an id');

/** Days and hours in a time zone; `days` 0 = Sunday ... 6 = Saturday; `to` after `from`. */
export const WeeklyCalendar = z
  .object({
    timeZone: z.string().refine(isTimeZone, 'unknown IANA time zone'),
    periods: z
      .array(z.object({ days: z.array(z.number().int().min(0).max(6)).min(1).max(7), from: HHMM, to: HHMM }))
      .min(1)
      .max(28),
  })
  .superRefine((c, ctx) => {
    c.periods.forEach((p, i) => {
      if (p.to <= p.from)
        ctx.addIssue({ code: 'custom', path: ['periods', i, 'to'], message: 'must be after from' });
    });
  });
export type WeeklyCalendar = z.infer<typeof WeeklyCalendar>;

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** An address outside the tenant's users: e-mail only here (webhooks are tenant endpoints). */
const Email = z
  .string()
  .max(254)
  .email('not an e-mail address')
  // Header injection: a CR or LF in an address would start a new header.
  .refine((s) => !/[\r\n]/.test(s), 'line breaks are not allowed');

export const RuleRecipients = z
  .object({
    userIds: z.array(ID).max(100).default([]),
    roles: z
      .array(z.enum(['admin', 'fleet_manager', 'finance', 'compliance', 'technician', 'driver']))
      .max(6)
      .default([]),
    emails: z.array(Email).max(50).default([]),
    /** The vehicle's current driver (at the alert's time). */
    driver: z.boolean().default(false),
  })
  .refine((r) => r.userIds.length + r.roles.length + r.emails.length > 0 || r.driver, {
    message: 'name at least one recipient',
  });
export type RuleRecipients = z.infer<typeof RuleRecipients>;

export const RuleCondition = z.object({
  /** [0...1] detector confidence at least this (fuel drains, leaks, refuels). */
  minConfidence: z.number().min(0).max(1).optional(),
  /** [0...10000] litres at least (drains, leaks, refuels). */
  minLitres: z.number().min(0).max(10_000).optional(),
  /** [1...300] km/h: overspeed above this. */
  thresholdKmh: z.number().min(1).max(300).optional(),
  /** [0...86400] s: overspeed or low battery lasting at least this. */
  minDurationS: z.number().int().min(0).max(86_400).optional(),
  /** [1...1440] min: idling longer than this; offline for longer than this. */
  minutes: z.number().int().min(1).max(1440).optional(),
  /** [1...1000] events within `windowMin` (harsh driving). */
  count: z.number().int().min(1).max(1000).optional(),
  windowMin: z.number().int().min(1).max(10_080).optional(),
  /** Geofences it applies to (enter/exit); empty: every geofence of the tenant. */
  geofenceIds: z.array(z.number().int().positive()).max(500).optional(),
  /** [1...100] % tank level below this (low fuel). */
  belowPct: z.number().min(1).max(100).optional(),
  /** Off-hours: the working hours; use outside them fires. */
  workingHours: WeeklyCalendar.optional(),
  /** DTC: only these codes (e.g. P0171); empty: every new code. */
  codes: z
    .array(z.string().regex(/^[PCBU][0-3][0-9A-F]{3}$/, 'expected a J2012 code like P0171'))
    .max(200)
    .optional(),
});
export type RuleCondition = z.infer<typeof RuleCondition>;

export const RuleScope = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('all') }),
  z.object({ kind: z.literal('groups'), ids: z.array(ID).min(1).max(200) }),
  z.object({ kind: z.literal('vehicles'), ids: z.array(ID).min(1).max(5000) }),
]);
export type RuleScope = z.infer<typeof RuleScope>;

export const EscalationLevel = z.object({
  /** [1...10080] minutes unacknowledged after the alert opened (or the previous level). */
  afterMinutes: z.number().int().min(1).max(10_080),
  recipients: RuleRecipients,
});

export const AlertRuleInput = z
  .object({
    name: z.string().trim().min(1, 'give the rule a name').max(120),
    source: z.string().refine(isRuleSource, 'unknown source'),
    enabled: z.boolean().default(true),
    scope: RuleScope.default({ kind: 'all' }),
    condition: RuleCondition.default({}),
    severity: z.enum(ALERT_SEVERITIES),
    /** When the rule is active; absent: always. */
    schedule: WeeklyCalendar.nullable().default(null),
    recipients: RuleRecipients,
    /** Channels by severity; a severity not listed: in-app only. */
    channels: z.partialRecord(z.enum(ALERT_SEVERITIES), z.array(z.enum(NOTIFY_CHANNELS)).max(5)).default({}),
    escalation: z.array(EscalationLevel).max(5).default([]),
  })
  .superRefine((r, ctx) => {
    const need = (field: keyof RuleCondition, why: string) => {
      if (r.condition[field] === undefined)
        ctx.addIssue({ code: 'custom', path: ['condition', field], message: why });
    };
    if (r.source === 'overspeed') need('thresholdKmh', 'overspeed needs a speed threshold');
    if (r.source === 'long_idle') need('minutes', 'idling needs a number of minutes');
    if (r.source === 'device_offline') need('minutes', 'offline needs a number of minutes');
    if (r.source === 'low_fuel') need('belowPct', 'low fuel needs a level in %');
    if (r.source === 'off_hours') need('workingHours', 'off-hours needs the working hours');
    if (r.source === 'harsh') {
      need('count', 'harsh driving needs a count');
      need('windowMin', 'harsh driving needs a window');
    }
    let total = 0;
    r.escalation.forEach((l, i) => {
      total += l.afterMinutes;
      if (i > 0 && l.afterMinutes <= 0)
        ctx.addIssue({
          code: 'custom',
          path: ['escalation', i, 'afterMinutes'],
          message: 'must be positive',
        });
    });
    if (total > 10_080)
      ctx.addIssue({ code: 'custom', path: ['escalation'], message: 'escalation longer than a week' });
  });
export type AlertRuleInput = z.input<typeof AlertRuleInput>;
export type AlertRuleDefinition = z.output<typeof AlertRuleInput>;

/** A stored rule: its definition, id and tenant. */
export interface AlertRule extends AlertRuleDefinition {
  id: number;
  tenantId: string;
}
