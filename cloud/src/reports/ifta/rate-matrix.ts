/**
 * The IFTA, Inc. quarterly tax rate matrix (CSV as saved from the published matrix) → rates as
 * data with their quarter (domain.md: rates change every quarter; never in code).
 *
 * Layout read (reports/fixtures/ifta-rate-matrix-2026Q3.csv is a small example):
 *   - optional title lines before the header; one naming the quarter ("3rd Quarter 2026" or
 *     "2026Q3") must agree with the quarter being imported;
 *   - a header row whose first cell is "Jurisdiction", then a rate-type column ("Rate Type":
 *     "U.S. Gallon" or "Canadian Liter"), then one column per fuel type (Gasoline, Special
 *     Diesel, Gasohol, Propane, LNG, CNG, Ethanol, Methanol, E-85, M-85, A55, Biodiesel, ...);
 *   - rows per jurisdiction (code "KY" or name "Kentucky"); only the U.S.-dollar-per-gallon rows
 *     are used (returns are computed in gallons and US$; the Canadian-litre rows restate them);
 *   - surcharge rows: the jurisdiction cell reads "KY Surcharge" / "Virginia Surcharge".
 * Rates keep up to 5 decimals, as integers of 1/100,000 US$ per gallon. Every bad cell is
 * reported with its line number, all at once.
 */
import { splitCsvLine } from '@fleet/shared';
import { CloudError, CloudErrorCode } from '../../errors.ts';
import { parseScaled } from '../decimal.ts';
import type { Jurisdiction } from '../jurisdictions/jurisdiction-map.ts';
import { formatQuarter, type IftaQuarter } from '../quarter.ts';
import { IFTA_FUEL_BY_COLUMN, type IftaFuelType } from './fuel-types.ts';

/** Rates are integers of 10^-RATE_SCALE US$ per gallon. */
export const RATE_SCALE = 5;

export interface TaxRate {
  quarter: string;
  jurisdiction: string;
  fuelType: IftaFuelType;
  /** 1/100,000 US$ per gallon; null: the jurisdiction has no rate for this fuel (Oregon diesel). */
  rate: number | null;
  /** KY/VA: on taxable gallons, whatever was paid at the pump; 0 elsewhere. */
  surcharge: number;
}

const ORDINAL: Record<string, number> = { '1st': 1, '2nd': 2, '3rd': 3, '4th': 4 };

const fold = (s: string) =>
  s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .trim()
    .toLowerCase();

export function parseRateMatrix(
  text: string,
  quarter: IftaQuarter,
  known: readonly Jurisdiction[],
): TaxRate[] {
  const q = formatQuarter(quarter);
  const byKey = new Map<string, string>();
  for (const j of known) {
    byKey.set(fold(j.code), j.code);
    byKey.set(fold(j.name), j.code);
  }
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const problems: string[] = [];
  let header: { fuelColumns: [number, IftaFuelType][]; rateTypeCol: number } | null = null;
  const rates = new Map<string, TaxRate>();
  const surcharges = new Map<string, number>();
  const seen = new Set<string>();
  lines.forEach((line, i) => {
    const n = i + 1;
    if (line.trim() === '' || /^,*$/.test(line)) return;
    const cells = splitCsvLine(line).map((c) => c.trim());
    if (!header) {
      const named = /(1st|2nd|3rd|4th)\s+quarter\s+(\d{4})/i.exec(line) ?? /(\d{4})\s*Q([1-4])/i.exec(line);
      if (named) {
        const found =
          named[1]!.length === 4
            ? `${named[1]}Q${named[2]}`
            : `${named[2]}Q${ORDINAL[named[1]!.toLowerCase()]}`;
        if (found !== q) problems.push(`line ${n}: the matrix is for ${found}, not ${q}`);
      }
      if (fold(cells[0] ?? '') !== 'jurisdiction') return;
      const fuelColumns: [number, IftaFuelType][] = [];
      cells.forEach((c, col) => {
        const fuel = IFTA_FUEL_BY_COLUMN[fold(c)];
        if (fuel && !fuelColumns.some(([, f]) => f === fuel)) fuelColumns.push([col, fuel]);
      });
      const rateTypeCol = cells.findIndex((c) => /rate type|unit|currency/i.test(c));
      if (fuelColumns.length === 0) problems.push(`line ${n}: header names no fuel column it knows`);
      header = { fuelColumns, rateTypeCol };
      return;
    }
    const who = cells[0] ?? '';
    const surcharge = /\s+surcharge$/i.test(who);
    const code = byKey.get(fold(who.replace(/\s+surcharge$/i, '').replace(/^#/, '')));
    if (!code) {
      problems.push(`line ${n}: "${who}" is not an IFTA jurisdiction`);
      return;
    }
    const rateType = header.rateTypeCol >= 0 ? fold(cells[header.rateTypeCol] ?? '') : 'u.s. gallon';
    if (/can|liter|litre/.test(rateType)) return;
    if (!/u\.?\s?s|gal/.test(rateType)) {
      problems.push(
        `line ${n}: rate type "${cells[header.rateTypeCol]}" is neither U.S. gallon nor Canadian liter`,
      );
      return;
    }
    if (!surcharge) {
      if (seen.has(code)) {
        problems.push(`line ${n}: a second U.S. rate row for ${code}`);
        return;
      }
      seen.add(code);
    }
    for (const [col, fuel] of header.fuelColumns) {
      let value: number | null;
      try {
        value = parseScaled(cells[col] ?? '', RATE_SCALE);
      } catch (err) {
        problems.push(`line ${n}, ${fuel}: ${(err as Error).message}`);
        continue;
      }
      if (value !== null && (value < 0 || value > 10 * 10 ** RATE_SCALE)) {
        problems.push(`line ${n}, ${fuel}: ${cells[col]} is outside [0...10] US$/gal`);
        continue;
      }
      const key = `${code}/${fuel}`;
      if (surcharge) {
        if (value !== null) surcharges.set(key, value);
      } else {
        rates.set(key, { quarter: q, jurisdiction: code, fuelType: fuel, rate: value, surcharge: 0 });
      }
    }
  });
  if (!header) problems.push('no header row (first cell "Jurisdiction")');
  for (const [key, value] of surcharges) {
    const r = rates.get(key);
    if (r) r.surcharge = value;
    else problems.push(`surcharge for ${key} without a rate row`);
  }
  if (problems.length > 0)
    throw new CloudError(
      CloudErrorCode.ReportInputInvalid,
      `rate matrix: ${problems.length} problem(s): ${problems.slice(0, 30).join('; ')}`,
    );
  return [...rates.values()];
}
