/**
 * A vehicle's normal driving as rows of model features, oldest first, from either
 *   - PostgreSQL: its `telemetry` rows, read as the tenant under row-level security, or
 *   - a CSV drive log (the documented format, edge-agent/src/fuel/drive-log.ts: header row,
 *     `ts` plus any of the feature columns; unknown columns ignored, empty cell = missing).
 * Only rows with the engine running count (rpm at or above the gate), as on the vehicle.
 */
import { readFileSync } from 'node:fs';
import { MODEL_FEATURES, type ModelFeature, splitCsvLine } from '@fleet/shared';
import type pg from 'pg';
import { inTenant } from '../db/tenant.ts';
import { CloudError, CloudErrorCode } from '../errors.ts';

export interface TrainingData {
  /** Column order of `rows`: every model feature the source has (MODEL_FEATURES order). */
  columns: ModelFeature[];
  /** One entry per sample; null = missing. */
  rows: (number | null)[][];
  /** Rows that could not be read (CSV), with the first few reasons. */
  skipped: number;
  skippedReasons: string[];
  source: string;
}

export function readTrainingCsv(file: string): TrainingData {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CloudError(CloudErrorCode.ModelTraining, `cannot read ${file}: ${(err as Error).message}`);
  }
  const lines = text.split(/\r?\n/);
  const header = splitCsvLine(lines[0] ?? '').map((h) => h.trim().toLowerCase());
  const columns = MODEL_FEATURES.filter((f) => header.includes(f));
  if (!columns.includes('rpm')) {
    throw new CloudError(
      CloudErrorCode.ModelTraining,
      `${file}: no rpm column (header: ${header.join(',')})`,
    );
  }
  const index = columns.map((c) => header.indexOf(c));
  const rows: (number | null)[][] = [];
  const skippedReasons: string[] = [];
  let skipped = 0;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const cells = splitCsvLine(line);
    if (cells.length !== header.length) {
      skipped++;
      if (skippedReasons.length < 5)
        skippedReasons.push(`line ${i + 1}: ${cells.length} cells, header has ${header.length}`);
      continue;
    }
    const row: (number | null)[] = [];
    let bad = false;
    for (const j of index) {
      const cell = (cells[j] ?? '').trim();
      if (cell === '') row.push(null);
      else {
        const v = Number(cell);
        if (!Number.isFinite(v)) {
          bad = true;
          break;
        }
        row.push(v);
      }
    }
    if (bad) {
      skipped++;
      if (skippedReasons.length < 5) skippedReasons.push(`line ${i + 1}: a feature cell is not a number`);
      continue;
    }
    rows.push(row);
  }
  return { columns, rows, skipped, skippedReasons, source: `csv:${file}` };
}

export interface TelemetryRange {
  tenantId: string;
  vehicleId: string;
  /** Epoch ms or undefined (the newest `limit` rows). */
  since?: number;
  until?: number;
  /** Newest rows at most (default 200,000: a few days at 1 Hz, seconds to train). */
  limit?: number;
}

/** The `telemetry` columns named like model features, as this database has them. */
async function telemetryFeatureColumns(c: pg.PoolClient): Promise<ModelFeature[]> {
  const { rows } = await c.query<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name = 'telemetry'`,
  );
  const have = new Set(rows.map((r) => r.column_name));
  return MODEL_FEATURES.filter((f) => have.has(f));
}

export async function readTelemetry(pool: pg.Pool, r: TelemetryRange): Promise<TrainingData> {
  const limit = r.limit ?? 200_000;
  return inTenant(pool, r.tenantId, async (c) => {
    const columns = await telemetryFeatureColumns(c);
    if (!columns.includes('rpm')) {
      throw new CloudError(CloudErrorCode.ModelTraining, 'the telemetry table has no rpm column');
    }
    // Column names come from MODEL_FEATURES (a fixed list), never from input.
    const { rows } = await c.query<Record<string, number | null>>(
      `SELECT ${columns.join(', ')} FROM (
         SELECT ts, ${columns.join(', ')} FROM telemetry
          WHERE vehicle_id = $1
            AND ($2::timestamptz IS NULL OR ts >= $2)
            AND ($3::timestamptz IS NULL OR ts < $3)
          ORDER BY ts DESC LIMIT $4) newest
       ORDER BY ts`,
      [
        r.vehicleId,
        r.since === undefined ? null : new Date(r.since),
        r.until === undefined ? null : new Date(r.until),
        limit,
      ],
    );
    return {
      columns,
      rows: rows.map((row) => columns.map((col) => (row[col] === null ? null : Number(row[col])))),
      skipped: 0,
      skippedReasons: [],
      source: `telemetry:${r.tenantId}/${r.vehicleId}`,
    };
  });
}
