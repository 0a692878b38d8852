/**
 * The schedules section's words and checks, pure so they read the same everywhere: a recurrence
 * as people say it ("Weekly on Monday at 07:00, America/New_York"), an instant on the tenant's
 * wall clock (the zone the schedule runs in, not the browser's), and the form's own checks, so an
 * empty or half-filled form names each field that is wrong before anything is sent (the API
 * checks again: its refusals of nested fields arrive as one message for the form).
 */
import type { trpc } from '../../lib/trpc.ts';

/** What `reportSchedules.create` takes as its schedule. */
export type ScheduleInput = Parameters<typeof trpc.reportSchedules.create.mutate>[0]['schedule'];

export const WEEKDAYS = [
  'Sunday',
  'Monday',
  'Tuesday',
  'Wednesday',
  'Thursday',
  'Friday',
  'Saturday',
] as const;
export const FREQUENCY_WORDS = {
  daily: 'Daily',
  weekly: 'Weekly',
  monthly: 'Monthly',
  quarterly: 'Quarterly',
} as const;
export type Frequency = keyof typeof FREQUENCY_WORDS;

export interface RecurrenceLike {
  frequency: Frequency;
  hour: number;
  minute: number;
  weekday?: number | undefined;
  dayOfMonth?: number | undefined;
}

const two = (n: number) => String(n).padStart(2, '0');
const ordinal = (n: number) =>
  `${n}${n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th')}`;

/** "Weekly on Monday at 07:00 (Europe/Berlin)"; monthly and quarterly name the day of the month. */
export function recurrenceInWords(r: RecurrenceLike, timeZone: string): string {
  const at = `at ${two(r.hour)}:${two(r.minute)} (${timeZone})`;
  switch (r.frequency) {
    case 'daily':
      return `Daily ${at}`;
    case 'weekly':
      return `Weekly on ${WEEKDAYS[r.weekday ?? 1]} ${at}`;
    case 'monthly':
      return `Monthly on the ${ordinal(r.dayOfMonth ?? 1)} ${at}`;
    case 'quarterly':
      return `Quarterly on the ${ordinal(r.dayOfMonth ?? 1)} of the quarter's first month ${at}`;
  }
}

const zoned = new Map<string, Intl.DateTimeFormat>();
/** "Mon 14 Dec 2026, 07:00 Europe/Berlin": the instant on the tenant's wall clock. */
export function formatInZone(epochMs: number | null | undefined, timeZone: string): string {
  if (epochMs === null || epochMs === undefined || !Number.isFinite(epochMs)) return '—';
  let f = zoned.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      weekday: 'short',
      day: 'numeric',
      month: 'short',
      year: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    zoned.set(timeZone, f);
  }
  return `${f.format(epochMs)} ${timeZone}`;
}

/** What the form holds (strings, as the inputs give them). */
export interface ScheduleForm {
  name: string;
  kind: 'ifta' | 'carbon' | 'detail';
  format: 'xlsx' | 'csv' | 'pdf';
  quarter: string;
  vehicles: string;
  frequency: Frequency;
  time: string;
  weekday: string;
  dayOfMonth: string;
  recipients: string;
  delivery: 'attachment' | 'link';
  linkTtlHours: string;
}

export const list = (text: string) =>
  text
    .split(/[\s,;]+/)
    .map((s) => s.trim())
    .filter(Boolean);

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** The API's schedule input, or the fields that are wrong (by form field name). */
export function scheduleInputOf(
  f: ScheduleForm,
): { ok: true; input: ScheduleInput } | { ok: false; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  if (!f.name.trim()) errors.name = 'Name the schedule (it is the e-mail subject).';
  const time = /^(\d{2}):(\d{2})$/.exec(f.time);
  if (!time || Number(time[1]) > 23 || Number(time[2]) > 59) errors.time = 'Give the local time as HH:MM.';
  const recipients = list(f.recipients);
  if (recipients.length === 0) errors.recipients = 'Add at least one e-mail address.';
  else if (recipients.length > 20) errors.recipients = 'At most 20 recipients.';
  else {
    const bad = recipients.find((r) => !EMAIL.test(r));
    if (bad) errors.recipients = `“${bad}” is not an e-mail address.`;
  }
  const day = Number(f.dayOfMonth);
  if (
    (f.frequency === 'monthly' || f.frequency === 'quarterly') &&
    !(Number.isInteger(day) && day >= 1 && day <= 31)
  )
    errors.dayOfMonth = 'Give the day of the month, 1 to 31 (29-31: the last day of shorter months).';
  if (f.kind === 'detail' && f.format === 'pdf') errors.format = 'The detail export is xlsx or csv, not pdf.';
  if (f.kind === 'ifta' && f.quarter.trim() && !/^\d{4}Q[1-4]$/.test(f.quarter.trim()))
    errors.quarter = 'A quarter such as 2026Q2, or empty for the last closed quarter.';
  const ttl = Number(f.linkTtlHours);
  if (f.delivery === 'link' && !(Number.isInteger(ttl) && ttl >= 1 && ttl <= 720))
    errors.linkTtlHours = 'The link works for 1 to 720 hours.';
  if (Object.keys(errors).length) return { ok: false, errors };

  const vehicleIds = list(f.vehicles);
  const report: ScheduleInput['report'] =
    f.kind === 'ifta'
      ? { kind: f.kind, format: f.format, params: f.quarter.trim() ? { quarter: f.quarter.trim() } : {} }
      : f.kind === 'carbon'
        ? { kind: f.kind, format: f.format, params: {} }
        : { kind: f.kind, format: f.format, params: vehicleIds.length ? { vehicleIds } : {} };
  return {
    ok: true,
    input: {
      name: f.name.trim(),
      report,
      recurrence: {
        frequency: f.frequency,
        hour: Number(time![1]),
        minute: Number(time![2]),
        ...(f.frequency === 'weekly' ? { weekday: Number(f.weekday) } : {}),
        ...(f.frequency === 'monthly' || f.frequency === 'quarterly' ? { dayOfMonth: day } : {}),
      },
      recipients,
      delivery: f.delivery,
      ...(f.delivery === 'link' ? { linkTtlHours: ttl } : {}),
    },
  };
}
