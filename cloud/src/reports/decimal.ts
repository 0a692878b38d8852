/**
 * Money and tax arithmetic on integers: amounts are whole cents, rates whole 1/100,000 dollars,
 * so nothing is left to binary fractions (0.1 + 0.2). Rounding is half away from zero, on exact
 * integer quotients.
 */

/** n / d rounded half away from zero; d > 0, both safe integers. */
export function roundDiv(n: number, d: number): number {
  if (!Number.isSafeInteger(n) || !Number.isSafeInteger(d) || d <= 0)
    throw new RangeError(`roundDiv needs safe integers and d > 0: ${n} / ${d}`);
  const q = Math.floor(Math.abs(n) / d);
  const r = Math.abs(n) - q * d;
  const rounded = 2 * r >= d ? q + 1 : q;
  return n < 0 ? -rounded : rounded;
}

/**
 * A decimal string ("0.2850", "$1.05", "-3") as an integer in units of 10^-scale; null for an
 * empty cell. Throws RangeError (with the text) for anything else or more decimals than `scale`.
 */
export function parseScaled(text: string, scale: number): number | null {
  const t = text.trim().replace(/^\$/, '').replaceAll(',', '');
  if (t === '' || t === '-' || t === '—') return null;
  const m = /^(-)?(\d*)(?:\.(\d*))?$/.exec(t);
  if (!m || (m[2] === '' && (m[3] ?? '') === ''))
    throw new RangeError(`not a number: ${JSON.stringify(text)}`);
  const frac = (m[3] ?? '').replace(/0+$/, '');
  if (frac.length > scale) throw new RangeError(`more than ${scale} decimals: ${JSON.stringify(text)}`);
  const v = Number(m[2] || '0') * 10 ** scale + Number(frac.padEnd(scale, '0') || '0');
  if (!Number.isSafeInteger(v)) throw new RangeError(`out of range: ${JSON.stringify(text)}`);
  return m[1] ? -v : v;
}

/** Cents as "1234.56" / "-0.05". */
export function formatCents(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const a = Math.abs(cents);
  return `${sign}${Math.floor(a / 100)}.${String(a % 100).padStart(2, '0')}`;
}

/** An integer in units of 10^-scale as a decimal string. */
export function formatScaled(v: number, scale: number): string {
  const sign = v < 0 ? '-' : '';
  const a = Math.abs(v);
  const unit = 10 ** scale;
  return `${sign}${Math.floor(a / unit)}.${String(a % unit).padStart(scale, '0')}`;
}

export const LITRES_PER_US_GALLON = 3.785411784;
export const METRES_PER_MILE = 1609.344;
