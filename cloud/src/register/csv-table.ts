/**
 * A CSV file as header-keyed rows, for the register's imports (vehicles, drivers). RFC 4180 comes
 * from the one parser the cloud has (fuel/csv-import.ts csvRecords: quotes, "" escapes, line
 * breaks inside quotes, CRLF or LF, a BOM); this adds the header, the line of every row and the
 * report every import gives back.
 */
import { CloudError, CloudErrorCode } from '../errors.ts';
import { csvRecords } from '../fuel/csv-import.ts';

export interface CsvRow {
  /** 1-based line the record starts on (what a spreadsheet user looks for). */
  line: number;
  /** Trimmed cells by lower-case header name; an empty cell is absent. */
  cells: Record<string, string>;
}

export interface RowError {
  line: number;
  reason: string;
}

export interface ImportReport {
  /** Data rows read (the header excluded). */
  rows: number;
  created: number;
  /** Rows naming something the register holds already: left as they are (importing again is harmless). */
  unchanged: number;
  bad: number;
  /** Bad rows by line (the first `maxErrors`). */
  errors: RowError[];
}

/**
 * Reads every record; a record that is not well-formed or has another number of fields than the
 * header goes to `bad` with its line. A file without a required column is refused as a whole
 * (CloudError PayloadRejected, as the fuel-card import does).
 */
export async function readCsvTable(
  chunks: AsyncIterable<string | Buffer> | Iterable<string>,
  columns: { known: readonly string[]; required: readonly (string | readonly string[])[] },
  bad: (line: number, reason: string) => void,
): Promise<{ rows: CsvRow[]; total: number }> {
  const iterable: AsyncIterable<string | Buffer> =
    Symbol.asyncIterator in chunks
      ? (chunks as AsyncIterable<string | Buffer>)
      : (async function* () {
          yield* chunks as Iterable<string>;
        })();
  let header: string[] | undefined;
  const rows: CsvRow[] = [];
  let total = 0;
  for await (const rec of csvRecords(iterable)) {
    if (!header) {
      header = rec.fields.map((h) => h.trim().toLowerCase());
      const missing = columns.required
        .filter((c) => (typeof c === 'string' ? !header!.includes(c) : !c.some((x) => header!.includes(x))))
        .map((c) => (typeof c === 'string' ? c : c.join(' or ')));
      if (missing.length > 0)
        throw new CloudError(
          CloudErrorCode.PayloadRejected,
          `line ${rec.line}: the header lacks ${missing.join(', ')} (columns: ${columns.known.join(', ')})`,
        );
      continue;
    }
    total++;
    if (rec.error) {
      bad(rec.line, rec.error);
      continue;
    }
    if (rec.fields.length !== header.length) {
      bad(rec.line, `${rec.fields.length} fields, the header has ${header.length}`);
      continue;
    }
    const cells: Record<string, string> = {};
    header.forEach((h, i) => {
      const cell = rec.fields[i]!.trim();
      if (cell !== '' && columns.known.includes(h)) cells[h] = cell;
    });
    rows.push({ line: rec.line, cells });
  }
  if (!header)
    throw new CloudError(CloudErrorCode.PayloadRejected, 'the file is empty: it needs a header row');
  return { rows, total };
}

/** A plain decimal number, or undefined for an absent cell; anything else is kept as text for zod to refuse. */
export function numberCell(cell: string | undefined): number | string | undefined {
  if (cell === undefined) return undefined;
  return /^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(cell) ? Number(cell) : cell;
}

/** zod issues as one reason: "vin: a VIN is 17 letters ...; year: ...". */
export function issuesText(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  return issues
    .map((i) => (i.path.length ? `${i.path.map(String).join('.')}: ${i.message}` : i.message))
    .join('; ');
}

/** Collects bad rows for the report, keeping the first `max` with their line. */
export function reportCollector(max: number) {
  const report: ImportReport = { rows: 0, created: 0, unchanged: 0, bad: 0, errors: [] };
  const bad = (line: number, reason: string) => {
    report.bad++;
    if (report.errors.length < max) report.errors.push({ line, reason });
  };
  return { report, bad };
}
