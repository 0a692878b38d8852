/**
 * The telemetry detail export (issue 17 §6 "large exports stream"): every raw sample of a period,
 * as CSV (RFC 4180) or XLSX, streamed from PostgreSQL to a Writable. A year of detail for 1,000
 * vehicles is billions of bytes; it never sits in memory:
 *
 *   DECLARE CURSOR (inside the caller's inTenant transaction: RLS applies) ─ FETCH 5,000 rows ─▶
 *   CSV lines / exceljs WorkbookWriter rows ─▶ Writable (file, HTTP response), awaiting 'drain'
 *
 * Values come from the server as text and go out as text (no Date or float parsing per cell):
 * timestamps in UTC (`SET LOCAL TimeZone`), floats in PostgreSQL's shortest exact form.
 * `onProgress` hears rows done and the planner's estimate of the total (EXPLAIN: no count(*)
 * scan before the real one) about once a second and at the end.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import ExcelJS from 'exceljs';
import type pg from 'pg';
import { csvField } from './ifta-exports.ts';

export interface DetailQuery {
  from: number;
  to: number;
  /** Only these vehicles (default: all of the tenant's). */
  vehicleIds?: readonly string[] | undefined;
}

export interface ExportProgress {
  rowsDone: number;
  /** The planner's estimate (null when it gave none). */
  rowsTotal: number | null;
}

export interface DetailExportOptions {
  onProgress?: (p: ExportProgress) => void | Promise<void>;
  /** Rows per FETCH (default 5,000). */
  batchRows?: number;
  /** At most this often (ms) `onProgress` is called while streaming (default 1,000). */
  progressEveryMs?: number;
}

export const DETAIL_HEADER = [
  'Vehicle',
  'Plate',
  'Time (UTC)',
  'Sequence',
  'Latitude',
  'Longitude',
  'Speed (km/h)',
  'RPM',
  'Fuel level (%)',
  'Coolant (°C)',
  'Odometer (km)',
  'GPS distance (m)',
] as const;

/** Numeric columns (XLSX writes them as numbers). */
const NUMERIC = [false, false, false, true, true, true, true, true, true, true, true, true];

/** XLSX sheets end at 1,048,576 rows: the detail continues on "Detail 2", "Detail 3", ... */
export const XLSX_MAX_DATA_ROWS = 1_048_575;

/** The one query behind the export (bench/export-stream.ts times COPY of the same). */
export function detailSql(q: DetailQuery): { text: string; values: unknown[] } {
  const values: unknown[] = [new Date(q.from), new Date(q.to)];
  let vehicles = '';
  if (q.vehicleIds?.length) {
    values.push(q.vehicleIds);
    vehicles = ' AND t.vehicle_id = ANY($3::text[])';
  }
  return {
    text: `SELECT t.vehicle_id, v.plate, to_char(t.ts, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), t.seq, t.lat, t.lon,
                  t.speed_kmh, t.rpm, t.fuel_level_pct, t.coolant_c, t.odometer_km, t.gps_distance_m
             FROM telemetry t LEFT JOIN vehicles v ON v.id = t.vehicle_id
            WHERE t.ts >= $1 AND t.ts < $2${vehicles}
            ORDER BY t.vehicle_id, t.ts, t.seq`,
    values,
  };
}

/** Every value as the server's text: no parsing per cell. */
const asText = { getTypeParser: () => (v: string) => v } as unknown as pg.CustomTypesConfig;

async function estimate(c: pg.ClientBase, sql: { text: string; values: unknown[] }): Promise<number | null> {
  const { rows } = await c.query<{ 'QUERY PLAN': [{ Plan: { 'Plan Rows': number } }] }>({
    text: `EXPLAIN (FORMAT JSON) ${sql.text}`,
    values: sql.values,
  });
  const n = rows[0]?.['QUERY PLAN']?.[0]?.Plan?.['Plan Rows'];
  return typeof n === 'number' ? Math.round(n) : null;
}

/**
 * Streams the rows of `q` through `onBatch` from a server-side cursor. `c` must be inside a
 * transaction (inTenant's): the cursor lives until its end.
 */
async function streamDetail(
  c: pg.ClientBase,
  q: DetailQuery,
  opts: DetailExportOptions,
  onBatch: (rows: (string | null)[][]) => Promise<void>,
): Promise<ExportProgress> {
  const sql = detailSql(q);
  const progress: ExportProgress = { rowsDone: 0, rowsTotal: await estimate(c, sql) };
  await opts.onProgress?.({ ...progress });
  await c.query(`SET LOCAL TimeZone = 'UTC'`);
  await c.query({ text: `DECLARE detail_export NO SCROLL CURSOR FOR ${sql.text}`, values: sql.values });
  const batch = opts.batchRows ?? 5000;
  const every = opts.progressEveryMs ?? 1000;
  let reported = Date.now();
  const fetchNext = () => {
    const q = c.query<(string | null)[]>({
      text: `FETCH FORWARD ${batch} FROM detail_export`,
      rowMode: 'array',
      types: asText,
    });
    q.catch(() => {}); // awaited below; never an unhandled rejection if the writer fails first
    return q;
  };
  let next = fetchNext();
  try {
    for (;;) {
      const { rows } = await next;
      if (rows.length === 0) break;
      // The server makes the next batch while this one is written (two cores, both busy).
      if (rows.length === batch) next = fetchNext();
      await onBatch(rows);
      progress.rowsDone += rows.length;
      if (opts.onProgress && Date.now() - reported >= every) {
        reported = Date.now();
        await opts.onProgress({ ...progress });
      }
      if (rows.length < batch) break;
    }
  } finally {
    await next.catch(() => {});
    await c.query('CLOSE detail_export').catch(() => {});
  }
  await opts.onProgress?.({ ...progress });
  return progress;
}

function writer(out: Writable) {
  return (chunk: string) => (out.write(chunk) ? undefined : once(out, 'drain'));
}

/** CSV (RFC 4180: CRLF, quoted where needed, UTF-8) to `out`; `out` is ended. */
export async function writeDetailCsv(
  c: pg.ClientBase,
  q: DetailQuery,
  out: Writable,
  opts: DetailExportOptions = {},
): Promise<ExportProgress> {
  const write = writer(out);
  await write(`${DETAIL_HEADER.map(csvField).join(',')}\r\n`);
  const done = await streamDetail(c, q, opts, async (rows) => {
    let chunk = '';
    for (const r of rows) {
      // Ids and plates may hold anything; numbers and timestamps never need quoting.
      chunk += `${csvField(r[0])},${csvField(r[1])},${r[2]},${r[3]},${r[4] ?? ''},${r[5] ?? ''},${r[6] ?? ''},${r[7] ?? ''},${r[8] ?? ''},${r[9] ?? ''},${r[10] ?? ''},${r[11] ?? ''}\r\n`;
    }
    await write(chunk);
  });
  out.end();
  return done;
}

/** What a sheet may hold unzipped before the next batch waits (bench/export-stream.ts). */
const SHEET_BUFFER_BYTES = 4 * 2 ** 20;

/**
 * exceljs's WorksheetWriter hands its XML to the zip entry's PassThrough without looking at the
 * return value: rows made faster than zlib deflates them pile up there (500,000 rows: 346 MB RSS
 * instead of 144 MB). Waits while that buffer is over SHEET_BUFFER_BYTES; should exceljs's
 * internals change, it still yields a turn of the event loop per batch.
 */
async function sheetDrained(sheet: ExcelJS.Worksheet): Promise<void> {
  const entry = (sheet as unknown as { stream?: { pipes?: { _writableState?: { length?: number } }[] } })
    .stream?.pipes?.[0]?._writableState;
  if (typeof entry?.length !== 'number') return void (await new Promise((r) => setImmediate(r)));
  while ((entry.length ?? 0) > SHEET_BUFFER_BYTES) await new Promise((r) => setTimeout(r, 2));
}

/** XLSX through exceljs's streaming WorkbookWriter (rows committed as they come); `out` is ended. */
export async function writeDetailXlsx(
  c: pg.ClientBase,
  q: DetailQuery,
  out: Writable,
  opts: DetailExportOptions = {},
): Promise<ExportProgress> {
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({
    stream: out,
    useStyles: false,
    useSharedStrings: false,
  });
  wb.creator = 'fleet-cloud';
  let sheetNo = 1;
  let sheet = wb.addWorksheet('Detail');
  let inSheet = 0;
  sheet.addRow([...DETAIL_HEADER]).commit();
  const done = await streamDetail(c, q, opts, async (rows) => {
    for (const r of rows) {
      if (inSheet === XLSX_MAX_DATA_ROWS) {
        sheet.commit();
        sheet = wb.addWorksheet(`Detail ${++sheetNo}`);
        sheet.addRow([...DETAIL_HEADER]).commit();
        inSheet = 0;
      }
      sheet.addRow(r.map((v, i) => (v === null ? null : NUMERIC[i] ? Number(v) : v))).commit();
      inSheet++;
    }
    await sheetDrained(sheet);
    if (out.writableNeedDrain) await once(out, 'drain');
  });
  sheet.commit();
  await wb.commit();
  return done;
}
