/**
 * Saved reports (migration 000023): a report as someone set it up on /reports (kind, period,
 * filters, columns, units), shared by the tenant's report readers. Row-level security scopes every
 * statement; the tenant id in each is the belt to those braces.
 */
import type pg from 'pg';
import { CloudError, CloudErrorCode } from '../../errors.ts';
import type { ReportFilters, ReportKind, Units } from './report-table.ts';

export type SavedPeriod =
  | { preset: 'last-7-days' | 'last-30-days' | 'this-month' | 'last-month' | 'last-quarter' }
  | { from: number; to: number }
  | { quarter: string };

export interface SavedReportInput {
  name: string;
  kind: ReportKind;
  period: SavedPeriod;
  filters: ReportFilters;
  columns: string[];
  units: Units;
}

export interface SavedReport extends SavedReportInput {
  id: number;
  createdBy: string;
  updatedAt: number;
}

interface Row {
  id: string;
  name: string;
  kind: ReportKind;
  period: SavedPeriod;
  filters: ReportFilters;
  columns: string[];
  units: Units;
  created_by: string;
  updated_at: Date;
}

const COLS = 'id, name, kind, period, filters, columns, units, created_by, updated_at';
const toSaved = (r: Row): SavedReport => ({
  id: Number(r.id),
  name: r.name,
  kind: r.kind,
  period: r.period,
  filters: r.filters,
  columns: r.columns,
  units: r.units,
  createdBy: r.created_by,
  updatedAt: r.updated_at.getTime(),
});

/** unique_violation on (tenant_id, name): the caller's to fix. */
function nameTaken(err: unknown, name: string): never {
  if ((err as { code?: string }).code === '23505')
    throw new CloudError(CloudErrorCode.SavedReportConflict, `a saved report named "${name}" exists`);
  throw err;
}

export async function listSavedReports(
  db: Pick<pg.PoolClient, 'query'>,
  tenantId: string,
): Promise<SavedReport[]> {
  const { rows } = await db.query<Row>(
    `SELECT ${COLS} FROM saved_reports WHERE tenant_id = $1 ORDER BY name, id`,
    [tenantId],
  );
  return rows.map(toSaved);
}

export async function createSavedReport(
  db: Pick<pg.PoolClient, 'query'>,
  tenantId: string,
  userId: string,
  s: SavedReportInput,
): Promise<SavedReport> {
  const { rows } = await db
    .query<Row>(
      `INSERT INTO saved_reports (tenant_id, name, kind, period, filters, columns, units, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${COLS}`,
      [tenantId, s.name, s.kind, s.period, s.filters, s.columns, s.units, userId],
    )
    .catch((err) => nameTaken(err, s.name));
  return toSaved(rows[0]!);
}

/** null: no such saved report in the tenant. */
export async function updateSavedReport(
  db: Pick<pg.PoolClient, 'query'>,
  tenantId: string,
  id: number,
  s: SavedReportInput,
): Promise<SavedReport | null> {
  const { rows } = await db
    .query<Row>(
      `UPDATE saved_reports SET name = $3, kind = $4, period = $5, filters = $6, columns = $7, units = $8,
              updated_at = now()
        WHERE tenant_id = $1 AND id = $2 RETURNING ${COLS}`,
      [tenantId, id, s.name, s.kind, s.period, s.filters, s.columns, s.units],
    )
    .catch((err) => nameTaken(err, s.name));
  return rows[0] ? toSaved(rows[0]) : null;
}

/** false: no such saved report in the tenant. */
export async function deleteSavedReport(
  db: Pick<pg.PoolClient, 'query'>,
  tenantId: string,
  id: number,
): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM saved_reports WHERE tenant_id = $1 AND id = $2', [
    tenantId,
    id,
  ]);
  return (rowCount ?? 0) > 0;
}
