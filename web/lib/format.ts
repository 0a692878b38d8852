/**
 * Display formatting for the fleet table. Pure functions: every locale and time zone choice is a
 * parameter, so unit tests pin them and the browser uses the viewer's own.
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
  const day = dateTimeFormat('en-CA', timeZone, 'day');
  const sameDay = day.format(epochMs) === day.format(now);
  return dateTimeFormat(locale, timeZone, sameDay ? 'time' : 'dateTime').format(epochMs);
}

const dateTimeFormats = new Map<string, Intl.DateTimeFormat>();

/**
 * The formatters of formatTimestamp, made once per locale, time zone and kind: a table of
 * vehicles formats several times per row on every update, and building an Intl.DateTimeFormat
 * costs far more than using one (on a phone, milliseconds each).
 */
function dateTimeFormat(
  locale: string | undefined,
  timeZone: string | undefined,
  kind: 'day' | 'time' | 'dateTime',
): Intl.DateTimeFormat {
  const key = `${locale ?? ''}|${timeZone ?? ''}|${kind}`;
  let format = dateTimeFormats.get(key);
  if (!format) {
    const time = { hour: '2-digit', minute: '2-digit', second: '2-digit' } as const;
    format = new Intl.DateTimeFormat(
      locale,
      kind === 'day'
        ? { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }
        : kind === 'time'
          ? { timeZone, ...time }
          : { timeZone, year: 'numeric', month: 'short', day: 'numeric', ...time },
    );
    dateTimeFormats.set(key, format);
  }
  return format;
}

/** Machine-readable form for `<time dateTime>`, or undefined for a missing time. */
export function toIsoTimestamp(epochMs: number | null | undefined): string | undefined {
  return isEpochMs(epochMs) ? new Date(epochMs).toISOString() : undefined;
}

/** "1 vehicle", "12 vehicles". */
export function formatVehicleCount(count: number): string {
  return `${formatNumber(count)} ${count === 1 ? 'vehicle' : 'vehicles'}`;
}
