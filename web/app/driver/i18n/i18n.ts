/**
 * The driver pages' languages and units: a tiny typed dictionary (en.ts, es.ts) and Intl for
 * numbers, dates and plurals; no i18n library (the pages need two languages and a few shapes).
 *
 *   user preference (auth.preferences) ─┐
 *   navigator.language (no preference) ─┴▶ locale ─▶ t(key, vars), num(), volume(), distance(), dateTime()
 */
import { fromKm, fromLitres, type Units } from '../../../lib/units.ts';
import { en, type MessageKey, type Messages } from './en.ts';
import { es } from './es.ts';

export type { MessageKey, Messages, Plural } from './en.ts';

export const LOCALES = ['en', 'es'] as const;
export type Locale = (typeof LOCALES)[number];
export const CATALOGUES: Record<Locale, Messages> = { en, es };

/** The user's choice, else the browser's first language we have, else English. */
export function pickLocale(preferred: Locale | null, browser: readonly string[] = []): Locale {
  if (preferred) return preferred;
  for (const tag of browser) {
    const base = tag.toLowerCase().split('-')[0];
    if ((LOCALES as readonly string[]).includes(base ?? '')) return base as Locale;
  }
  return 'en';
}

export type Vars = Record<string, string | number>;

/** Everything a driver page needs to say something in the user's language and units. */
export interface DriverText {
  locale: Locale;
  units: Units;
  t(key: MessageKey, vars?: Vars): string;
  /** A number with fixed decimals in the locale's digits and separators, or "—". */
  num(value: number | null | undefined, digits?: number): string;
  /** Litres as "11.23 gal" / "42,50 L". */
  volume(litres: number, digits?: number): string;
  /** Kilometres as "62 mi" / "100 km". */
  distance(km: number, digits?: number): string;
  /** Kilometres per hour as mph or km/h (the number only). */
  speed(kmh: number): number;
  /** "14:05" in the phone's zone. */
  clock(ms: number): string;
  /** "26 nov 2026, 9:07" in the phone's zone. */
  dateTime(ms: number): string;
  /**
   * A name the server sends as a code (a score metric, an event type, a badge and its rule) in the
   * user's language: the catalogue's `term.KIND.CODE`, or the server's own (English) text for a code
   * the catalogue does not know yet (a tenant's own badge, a new event type).
   */
  term(kind: TermKind, code: string, fallback: string): string;
}

export type TermKind = 'metric' | 'event' | 'badge' | 'badgeRule';

const MISSING = '—';

/**
 * One text per language and units, made once (the context's default, the page and the refuel
 * form's validation ask for the same one), and its Intl formatters made when first used: building
 * an Intl object loads locale data, which a phone pays for in the page's first long task.
 */
const made = new Map<string, DriverText>();

export function driverText(locale: Locale, units: Units): DriverText {
  const key = `${locale}|${units.volume}|${units.distance}`;
  let text = made.get(key);
  if (!text) {
    text = makeDriverText(locale, units);
    made.set(key, text);
  }
  return text;
}

/** Made on first use, then kept. */
function lazy<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => {
    if (value === undefined) value = make();
    return value;
  };
}

function makeDriverText(locale: Locale, units: Units): DriverText {
  const messages = CATALOGUES[locale];
  const plural = lazy(() => new Intl.PluralRules(locale));
  const numbers = new Map<number, Intl.NumberFormat>();
  const numberFormat = (digits: number) => {
    let f = numbers.get(digits);
    if (!f) {
      f = new Intl.NumberFormat(locale, {
        minimumFractionDigits: digits,
        maximumFractionDigits: digits,
        signDisplay: 'negative',
      });
      numbers.set(digits, f);
    }
    return f;
  };
  const num = (value: number | null | undefined, digits = 0) =>
    typeof value === 'number' && Number.isFinite(value) ? numberFormat(digits).format(value) : MISSING;
  const clockFormat = lazy(
    () => new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit', hour12: false }),
  );
  const dateTimeFormat = lazy(
    () =>
      new Intl.DateTimeFormat(locale, {
        dateStyle: 'medium',
        timeStyle: 'short',
        hour12: false,
      }),
  );
  const t = (key: MessageKey, vars: Vars = {}) => {
    const m = messages[key];
    const text = typeof m === 'string' ? m : plural().select(Number(vars.n ?? 0)) === 'one' ? m.one : m.other;
    return text.replace(/\{(\w+)\}/g, (whole, name: string) => {
      const v = vars[name];
      return v === undefined ? whole : typeof v === 'number' ? num(v) : v;
    });
  };
  return {
    locale,
    units,
    t,
    num,
    volume: (litres, digits = 2) =>
      `${num(fromLitres(litres, units.volume), digits)} ${t(`unit.${units.volume}`)}`,
    distance: (km, digits = 0) => `${num(fromKm(km, units.distance), digits)} ${t(`unit.${units.distance}`)}`,
    speed: (kmh) => fromKm(kmh, units.distance),
    clock: (ms) => (Number.isFinite(ms) ? clockFormat().format(ms) : MISSING),
    dateTime: (ms) => (Number.isFinite(ms) ? dateTimeFormat().format(ms) : MISSING),
    term: (kind, code, fallback) => {
      const key = `term.${kind}.${code}`;
      return key in messages ? t(key as MessageKey) : fallback;
    },
  };
}
