/**
 * Every number, date and time the web app shows is formatted here, so one value reads the same on
 * every page. Pure functions: a locale or time zone is either a parameter (unit tests pin it, the
 * browser uses the viewer's own) or fixed on purpose, and said so where it is.
 */

/** Shown wherever the vehicle has not reported a value (null from the API, or not a number). */
export const MISSING = '—';

export interface TimeFormatOptions {
  /** BCP 47 locale; default: the runtime's (the viewer's browser). */
  locale?: string;
  /** IANA time zone; default: the runtime's. */
  timeZone?: string;
}

function isFiniteNumber(value: number | null | undefined): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** ECMAScript's Date range: ±8.64e15 ms; beyond it Date and Intl throw RangeError. */
const MAX_EPOCH_MS = 8.64e15;

function isEpochMs(value: number | null | undefined): value is number {
  return isFiniteNumber(value) && Math.abs(value) <= MAX_EPOCH_MS;
}

const numberFormats = new Map<string, Intl.NumberFormat>();

function numberFormat(fractionDigits: number, grouping: boolean): Intl.NumberFormat {
  const key = `${fractionDigits}:${grouping}`;
  let format = numberFormats.get(key);
  if (!format) {
    // Fixed 'en' (the page's lang) keeps a decimal point the same for every viewer and test.
    // signDisplay 'negative' avoids printing "-0" for values that round to zero.
    format = new Intl.NumberFormat('en', {
      minimumFractionDigits: fractionDigits,
      maximumFractionDigits: fractionDigits,
      useGrouping: grouping,
      signDisplay: 'negative',
    });
    numberFormats.set(key, format);
  }
  return format;
}

/** A measurement with a fixed number of decimals and thousands separators, or "—". */
export function formatNumber(value: number | null | undefined, fractionDigits = 0): string {
  return isFiniteNumber(value) ? numberFormat(fractionDigits, true).format(value) : MISSING;
}

/**
 * "lat, lon" with 5 decimals (about 1 m at the equator, finer than consumer GPS), or "—" when
 * either coordinate is missing: half a position is not a position.
 */
export function formatPosition(lat: number | null | undefined, lon: number | null | undefined): string {
  if (!isFiniteNumber(lat) || !isFiniteNumber(lon)) return MISSING;
  const format = numberFormat(5, false);
  return `${format.format(lat)}, ${format.format(lon)}`;
}

export type OnlineLabel = 'Online' | 'Offline' | 'Unknown';

/** The connection state as words, so it never depends on colour alone. */
export function formatOnline(online: boolean | null | undefined): OnlineLabel {
  if (online === true) return 'Online';
  if (online === false) return 'Offline';
  return 'Unknown';
}

/**
 * A sample time: the clock time when it falls on the same calendar day as `now`, otherwise date
 * and time, so a vehicle that went quiet yesterday at 14:02 does not read as fresh today.
 */
export function formatTimestamp(
  epochMs: number | null | undefined,
  now: number,
  { locale, timeZone }: TimeFormatOptions = {},
): string {
  if (!isEpochMs(epochMs)) return MISSING;
  // en-CA prints YYYY-MM-DD: a cheap calendar-day key in the target time zone.
  const day = dateTimeFormat('day', 'en-CA', timeZone);
  const sameDay = day.format(epochMs) === day.format(now);
  return dateTimeFormat(sameDay ? 'time' : 'dateTime', locale, timeZone).format(epochMs);
}

/**
 * A time in the dashboard's tables and lists, "26 Nov 2026, 14:05 UTC": UTC for every viewer, as
 * the column headers and the UTC date filters say, so a time reads the same in every office.
 */
export function formatUtcDateTime(epochMs: number | null | undefined): string {
  return isEpochMs(epochMs) ? dateTimeFormat('utcDateTime', 'en-GB', 'UTC').format(epochMs) : MISSING;
}

/** A chart's time axis label (UTC): the clock time for spans up to two days, else the day. */
export function formatAxisTick(epochMs: number, spanMs: number): string {
  const shape = spanMs <= 2 * 86_400_000 ? 'axisTime' : 'axisDay';
  return isEpochMs(epochMs) ? dateTimeFormat(shape, 'en-GB', 'UTC').format(epochMs) : MISSING;
}

/** "14:05" in the phone's own time zone (the driver's "last updated" lines). */
export function formatClock(epochMs: number): string {
  return isEpochMs(epochMs) ? dateTimeFormat('clock', 'en-GB').format(epochMs) : MISSING;
}

/** "26 Nov 2026, 14:05" in the phone's own time zone (when the driver refuelled). */
export function formatLocalDateTime(epochMs: number): string {
  return isEpochMs(epochMs) ? dateTimeFormat('localDateTime', 'en-GB').format(epochMs) : MISSING;
}

const CLOCK = { hour: '2-digit', minute: '2-digit' } as const;
const CLOCK_SECONDS = { ...CLOCK, second: '2-digit' } as const;

/** Every date and time shape the app shows, by name (one cached formatter per shape). */
const DATE_TIME_SHAPES = {
  day: { year: 'numeric', month: '2-digit', day: '2-digit' },
  time: CLOCK_SECONDS,
  dateTime: { year: 'numeric', month: 'short', day: 'numeric', ...CLOCK_SECONDS },
  utcDateTime: { year: 'numeric', month: 'short', day: 'numeric', ...CLOCK, timeZoneName: 'short' },
  axisTime: CLOCK,
  axisDay: { day: 'numeric', month: 'short' },
  clock: { ...CLOCK, hour12: false },
  localDateTime: { dateStyle: 'medium', timeStyle: 'short', hour12: false },
} as const satisfies Record<string, Intl.DateTimeFormatOptions>;

const dateTimeFormats = new Map<string, Intl.DateTimeFormat>();

/**
 * The formatters above, made on first use per shape, locale and time zone, then kept: a table of
 * vehicles formats several times per row on every update, and building an Intl.DateTimeFormat
 * costs far more than using one (on a phone, milliseconds each; the first loads locale data).
 */
function dateTimeFormat(
  shape: keyof typeof DATE_TIME_SHAPES,
  locale: string | undefined,
  timeZone?: string,
): Intl.DateTimeFormat {
  const key = `${shape}|${locale ?? ''}|${timeZone ?? ''}`;
  let format = dateTimeFormats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(locale, { ...DATE_TIME_SHAPES[shape], timeZone });
    dateTimeFormats.set(key, format);
  }
  return format;
}

/** Machine-readable form for `<time dateTime>`, or undefined for a missing time. */
export function toIsoTimestamp(epochMs: number | null | undefined): string | undefined {
  return isEpochMs(epochMs) ? new Date(epochMs).toISOString() : undefined;
}

/** "1 vehicle", "12 vehicles": a count with its noun, singular for exactly one. */
export function formatCount(count: number, noun: string, plural = `${noun}s`): string {
  return `${formatNumber(count)} ${count === 1 ? noun : plural}`;
}

/** "70.00 EUR": money with two decimals and its currency code, or "—" when nothing was paid. */
export function formatAmount(amount: number | null | undefined, currency: string | null | undefined): string {
  if (!isFiniteNumber(amount)) return MISSING;
  return currency ? `${formatNumber(amount, 2)} ${currency}` : formatNumber(amount, 2);
}

/*
 * The filters' date inputs (<input type="date">, "YYYY-MM-DD") are UTC calendar days, as their
 * labels say; the API takes a half-open span [from, to) in epoch ms, so "to" is the next midnight.
 */
const DAY_MS = 86_400_000;

export interface DateInputs {
  /** "YYYY-MM-DD" or "" for no bound. */
  fromDate: string;
  /** "YYYY-MM-DD" (inclusive) or "" for no bound. */
  toDate: string;
}

/** The span a pair of date inputs covers, with only the bounds that were filled in. */
export function utcDaySpan({ fromDate, toDate }: DateInputs): { from?: number; to?: number } {
  return {
    ...(fromDate ? { from: Date.parse(`${fromDate}T00:00:00Z`) } : {}),
    ...(toDate ? { to: Date.parse(`${toDate}T00:00:00Z`) + DAY_MS } : {}),
  };
}

/** The date inputs that show a span (the inverse of utcDaySpan, for a saved search). */
export function utcDayInputs({ from, to }: { from?: number; to?: number }): DateInputs {
  const day = (ms: number | undefined) => (isEpochMs(ms) ? new Date(ms).toISOString().slice(0, 10) : '');
  return { fromDate: day(from), toDate: day(to === undefined ? undefined : to - DAY_MS) };
}
