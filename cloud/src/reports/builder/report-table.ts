/**
 * What every report of the builder (`/reports`) answers: columns, rows and which columns its chart
 * plots. The page draws the chart and its table alternative from these rows, and the export writes
 * the same rows: one query behind the chart, the table and the file, so their numbers are equal.
 * Numbers are rounded here, once, to what is shown and exported.
 */
export type Cell = string | number | null;

export interface ReportColumn {
  key: string;
  label: string;
  numeric: boolean;
}

export interface ReportChart {
  title: string;
  /** The column(s) naming each bar group (joined with " · "). */
  labelKeys: string[];
  /** The numeric columns drawn as bars, one per series. */
  series: { key: string; label: string }[];
  unit: string;
}

export interface ReportTable {
  kind: ReportKind;
  title: string;
  from: number;
  to: number;
  columns: ReportColumn[];
  /** Every column the report has (`columns`: those chosen), for the page's column picker. */
  allColumns?: ReportColumn[];
  rows: Record<string, Cell>[];
  chart: ReportChart | null;
  /** What a reader must know to read the numbers (data used, what was left out). */
  notes: string[];
}

export const REPORT_KINDS = ['ifta', 'carbon', 'cost', 'consumption', 'idling', 'drivers'] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];

/** Vehicles by group and id, drivers by id; an empty or missing list does not filter. */
export interface ReportFilters {
  groupIds?: number[] | undefined;
  vehicleIds?: string[] | undefined;
  driverIds?: string[] | undefined;
}

/** metric: km, litres, L/100 km; us: miles, US gallons, mpg. */
export type Units = 'metric' | 'us';

export const KM_PER_MILE = 1.609344;
export const LITRES_PER_US_GALLON = 3.785411784;

/** Rounded half away from zero to `d` decimals (what is shown is what is exported). */
export function round(x: number, d = 1): number {
  const f = 10 ** d;
  return (Math.sign(x) * Math.round(Math.abs(x) * f)) / f;
}

/** null for an empty list (SQL: `$n::text[] IS NULL OR x = ANY($n)`). */
export const listOrNull = <T>(xs: readonly T[] | undefined): T[] | null => (xs?.length ? [...xs] : null);

/**
 * The SQL condition on `v` (vehicles) for the filters, with the group and vehicle lists at
 * parameters $g and $v.
 */
export const vehicleFilterSql = (g: number, v: number) =>
  `($${g}::bigint[] IS NULL OR v.group_id = ANY($${g}::bigint[])) AND ($${v}::text[] IS NULL OR v.id = ANY($${v}::text[]))`;

/** The middle value (mean of the two middle ones for an even count); null for none. */
export function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Keeps the chosen columns (in their order) of a table; unknown or no columns: all of them. */
export function selectColumns(table: ReportTable, keys: readonly string[] | undefined): ReportTable {
  const chosen = (keys ?? []).map((k) => table.columns.find((c) => c.key === k)).filter((c) => !!c);
  return { ...table, columns: chosen.length ? chosen : table.columns, allColumns: table.columns };
}
