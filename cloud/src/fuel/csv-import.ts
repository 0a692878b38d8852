/**
 * `fleet-cloud fuel import FILE --tenant T`: a fuel-card provider's CSV export into
 * fuel_transactions (source `csv`). RFC 4180 (quoted fields, "" inside quotes, line breaks inside
 * quotes, CRLF or LF, an optional UTF-8 BOM), a header row naming the columns in any order:
 *
 *   external_id  required  the provider's transaction id (idempotency key: re-importing is harmless)
 *   ts           required  ISO 8601 with Z or an offset, or epoch ms
 *   litres | gallons       exactly one per row (US gallons are converted)
 *   amount, currency, fuel_type, station, lat, lon, card_id, vehicle_id, driver_id, odometer_km
 *
 * Unknown columns are ignored (kept in `raw`); an empty cell is a missing value. A bad row is
 * reported with its line and reason and counted; it never stops the good rows. Rows are written
 * in batches, each its own transaction as the tenant (row-level security), so a long file shows
 * progress and an interrupted import is finished by running it again.
 */
import { createReadStream, statSync } from 'node:fs';
import type pg from 'pg';
import {
  type FuelTransactionRow,
  insertFuelTransactions,
  knownVehicles,
} from '../db/queries/insert-fuel-transactions.ts';
import { inTenant } from '../db/tenant.ts';
import { CloudError, CloudErrorCode } from '../errors.ts';
import { periodAround, reconcileInTransaction } from './reconcile.ts';
import { parseTransaction } from './transaction.ts';

/** CSV column -> FuelCardTransaction field, and whether its cells are numbers. */
export const FUEL_CSV_COLUMNS: Record<string, { field: string; number: boolean }> = {
  external_id: { field: 'externalId', number: false },
  ts: { field: 'ts', number: false },
  litres: { field: 'litres', number: true },
  gallons: { field: 'gallons', number: true },
  amount: { field: 'amount', number: true },
  currency: { field: 'currency', number: false },
  fuel_type: { field: 'fuelType', number: false },
  station: { field: 'station', number: false },
  lat: { field: 'lat', number: true },
  lon: { field: 'lon', number: true },
  card_id: { field: 'cardId', number: false },
  vehicle_id: { field: 'vehicleId', number: false },
  driver_id: { field: 'driverId', number: false },
  odometer_km: { field: 'odometerKm', number: true },
};

export interface CsvRowError {
  line: number;
  reason: string;
}

export interface CsvImportResult {
  /** Data rows read (header excluded). */
  rows: number;
  stored: number;
  /** Valid rows already imported before (same external_id): skipped. */
  duplicates: number;
  bad: number;
  /** The first `maxErrors` bad rows, with line and reason. */
  errors: CsvRowError[];
}

export interface CsvImportProgress {
  rows: number;
  bytes: number;
  totalBytes: number;
}

/** One CSV record and the line it starts on (1-based). */
interface CsvRecord {
  line: number;
  fields: string[];
  error?: string;
}

/** RFC 4180 records from a byte stream, incrementally (a file of any size in constant memory). */
export async function* csvRecords(
  chunks: AsyncIterable<string | Buffer>,
  onBytes?: (n: number) => void,
): AsyncGenerator<CsvRecord> {
  // A state per character, so nothing depends on where the stream's chunks happen to split.
  type State = 'start' | 'unquoted' | 'quoted' | 'quoteInQuoted';
  let state: State = 'start';
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let startLine = 1;
  let skipLf = false;
  let first = true;
  let error: string | undefined;
  const endField = () => {
    fields.push(field);
    field = '';
    state = 'start';
  };
  const endRecord = (): CsvRecord | null => {
    endField();
    const blank = fields.length === 1 && fields[0] === '' && !error;
    const rec = blank ? null : { line: startLine, fields, ...(error ? { error } : {}) };
    fields = [];
    error = undefined;
    return rec;
  };
  const decoder = new TextDecoder('utf-8');
  for await (const chunk of chunks) {
    onBytes?.(typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength);
    let s = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    if (first && s.length > 0) {
      if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
      first = false;
    }
    for (const ch of s) {
      if (skipLf) {
        skipLf = false;
        if (ch === '\n') continue;
      }
      if (state === 'quoted') {
        if (ch === '"') state = 'quoteInQuoted';
        else {
          if (ch === '\n') line++;
          field += ch;
        }
        continue;
      }
      if (state === 'quoteInQuoted' && ch === '"') {
        field += '"';
        state = 'quoted';
        continue;
      }
      if (ch === ',') {
        endField();
        continue;
      }
      if (ch === '\n' || ch === '\r') {
        skipLf = ch === '\r';
        const rec = endRecord();
        line++;
        startLine = line;
        if (rec) yield rec;
        continue;
      }
      if (state === 'quoteInQuoted') {
        error ??= 'text after a closing quote';
        state = 'unquoted';
      } else if (ch === '"') {
        if (state === 'start') {
          state = 'quoted';
          continue;
        }
        error ??= 'a quote inside an unquoted field';
      }
      if (state === 'start') state = 'unquoted';
      field += ch;
    }
  }
  if (state === 'quoted') error = 'a quoted field is never closed';
  if (state !== 'start' || fields.length > 0 || error) {
    const rec = endRecord();
    if (rec) yield rec;
  }
}

function numberCell(raw: string): number | string {
  // Plain decimal numbers only: "1,5" (a decimal comma) or "1e3" would be a guess.
  return /^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(raw) ? Number(raw) : raw;
}

export async function importFuelCsv(
  pool: pg.Pool,
  tenantId: string,
  file: string,
  opts: { batchSize?: number; maxErrors?: number; onProgress?: (p: CsvImportProgress) => void } = {},
): Promise<CsvImportResult> {
  const totalBytes = statSync(file).size;
  const batchSize = opts.batchSize ?? 1000;
  const maxErrors = opts.maxErrors ?? 100;
  const exists = await inTenant(
    pool,
    tenantId,
    async (c) => (await c.query('SELECT 1 FROM tenants')).rowCount,
  );
  if (!exists) throw new CloudError(CloudErrorCode.PayloadRejected, `no tenant "${tenantId}"`);

  const result: CsvImportResult = { rows: 0, stored: 0, duplicates: 0, bad: 0, errors: [] };
  const bad = (line: number, reason: string) => {
    result.bad++;
    if (result.errors.length < maxErrors) result.errors.push({ line, reason });
  };
  let bytes = 0;
  let lastProgress = Date.now();
  let header: string[] | undefined;
  let batch: { line: number; row: FuelTransactionRow }[] = [];

  const flush = async () => {
    if (batch.length === 0) return;
    const pending = batch;
    batch = [];
    await inTenant(pool, tenantId, async (c) => {
      const vehicles = await knownVehicles(
        c,
        tenantId,
        pending.flatMap((p) => (p.row.tx.vehicleId ? [p.row.tx.vehicleId] : [])),
      );
      const ok = pending.filter((p) => {
        const v = p.row.tx.vehicleId;
        if (v === undefined || vehicles.has(v)) return true;
        bad(p.line, `vehicle_id "${v}" is not a vehicle of tenant "${tenantId}"`);
        return false;
      });
      const inserted = await insertFuelTransactions(
        c,
        tenantId,
        'csv',
        ok.map((p) => p.row),
      );
      result.stored += inserted.size;
      result.duplicates += ok.length - inserted.size;
      // Reconciled on arrival, in the batch's transaction: /fuel shows verdicts, never "pending".
      const stored = ok.filter((p) => inserted.has(p.row.tx.externalId)).map((p) => p.row.tx.ts);
      if (stored.length > 0) {
        await reconcileInTransaction(c, tenantId, periodAround(Math.min(...stored), Math.max(...stored)));
      }
    });
  };

  const stream = createReadStream(file, { highWaterMark: 256 * 1024 });
  for await (const rec of csvRecords(stream, (n) => {
    bytes += n;
  })) {
    if (!header) {
      header = rec.fields.map((h) => h.trim().toLowerCase());
      const missing = ['external_id', 'ts'].filter((c) => !header!.includes(c));
      if (!header.includes('litres') && !header.includes('gallons')) missing.push('litres or gallons');
      if (missing.length > 0) {
        stream.destroy();
        throw new CloudError(
          CloudErrorCode.PayloadRejected,
          `line ${rec.line}: the header lacks ${missing.join(', ')} (columns: ${Object.keys(FUEL_CSV_COLUMNS).join(', ')})`,
        );
      }
      continue;
    }
    result.rows++;
    if (rec.error) {
      bad(rec.line, rec.error);
    } else if (rec.fields.length !== header.length) {
      bad(rec.line, `${rec.fields.length} fields, the header has ${header.length}`);
    } else {
      const value: Record<string, unknown> = {};
      const raw: Record<string, string> = {};
      header.forEach((h, i) => {
        const cell = rec.fields[i]!.trim();
        raw[h] = cell;
        const col = FUEL_CSV_COLUMNS[h];
        if (!col || cell === '') return;
        value[col.field] = col.number ? numberCell(cell) : cell;
      });
      const parsed = parseTransaction(value);
      if (parsed.ok) batch.push({ line: rec.line, row: { tx: parsed.tx, raw } });
      else bad(rec.line, parsed.reason);
    }
    if (batch.length >= batchSize) await flush();
    if (opts.onProgress && Date.now() - lastProgress >= 1000) {
      lastProgress = Date.now();
      opts.onProgress({ rows: result.rows, bytes, totalBytes });
    }
  }
  if (!header) throw new CloudError(CloudErrorCode.PayloadRejected, 'the file is empty (no header row)');
  await flush();
  opts.onProgress?.({ rows: result.rows, bytes, totalBytes });
  result.errors.sort((a, b) => a.line - b.line);
  return result;
}
