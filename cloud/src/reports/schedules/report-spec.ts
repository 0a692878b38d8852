/**
 * What a schedule or an export names: the report (kind + its params), the file format, and how
 * that becomes a file. One zod schema for the API, the CLI and the stored rows; one `writeReport`
 * for the mailed attachment, the signed-link download and the CLI.
 *
 *   ifta    the IFTA quarterly return (params.quarter, default the last closed quarter at the run)
 *   carbon  CO2e per vehicle and month over the run's period (dataset, GWP set)
 *   detail  every raw telemetry sample of the period (streamed: exports/detail-export.ts)
 */
import { PassThrough, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { z } from 'zod';
import { CloudError, CloudErrorCode } from '../../errors.ts';
import { loadCarbonReport } from '../carbon/carbon-service.ts';
import { carbonCsv, carbonPdf, writeCarbonXlsx } from '../exports/carbon-exports.ts';
import { type ExportProgress, writeDetailCsv, writeDetailXlsx } from '../exports/detail-export.ts';
import { iftaPdf, iftaReturnCsv, writeIftaXlsx } from '../exports/ifta-exports.ts';
import { loadIftaReturn, tripRecordRows } from '../ifta/ifta-report.ts';
import {
  formatQuarter,
  lastClosedQuarter,
  parseQuarter,
  QUARTER_PATTERN,
  quarterOf,
  quarterRange,
} from '../quarter.ts';

export const REPORT_KINDS = ['ifta', 'carbon', 'detail'] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];
export const FORMATS = ['xlsx', 'csv', 'pdf'] as const;
export type ExportFormat = (typeof FORMATS)[number];

export const IftaParams = z.object({ quarter: z.string().regex(QUARTER_PATTERN).optional() }).strict();
export const CarbonParams = z
  .object({
    dataset: z
      .string()
      .regex(/^[a-z0-9-]{3,60}$/)
      .optional(),
    gwp: z.enum(['AR4', 'AR5']).optional(),
  })
  .strict();
export const DetailParams = z
  .object({ vehicleIds: z.array(z.string().min(1).max(100)).min(1).max(2000).optional() })
  .strict();

/** The report and its file: params checked per kind; a detail export is never a PDF. */
export const ReportSpec = z
  .discriminatedUnion('kind', [
    z.object({ kind: z.literal('ifta'), params: IftaParams.default({}), format: z.enum(FORMATS) }),
    z.object({ kind: z.literal('carbon'), params: CarbonParams.default({}), format: z.enum(FORMATS) }),
    z.object({ kind: z.literal('detail'), params: DetailParams.default({}), format: z.enum(FORMATS) }),
  ])
  .superRefine((s, ctx) => {
    if (s.kind === 'detail' && s.format === 'pdf')
      ctx.addIssue({
        code: 'custom',
        path: ['format'],
        message: 'the detail export is a table of raw samples: xlsx or csv, not pdf',
      });
  });
export type ReportSpec = z.output<typeof ReportSpec>;

/** A spec from a stored row (checked again: a row written by an older version may not hold). */
export function specOf(row: { kind: string; params: unknown; format: string }): ReportSpec {
  const r = ReportSpec.safeParse({ kind: row.kind, params: row.params, format: row.format });
  if (!r.success)
    throw new CloudError(
      CloudErrorCode.ReportScheduleInvalid,
      `stored report is not valid: ${r.error.message}`,
    );
  return r.data;
}

export const CONTENT_TYPES: Record<ExportFormat, string> = {
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  csv: 'text/csv; charset=utf-8',
  pdf: 'application/pdf',
};

/** The period a run of this spec covers: IFTA is filed per quarter, the others take the schedule's. */
export function specPeriod(
  spec: ReportSpec,
  dueAt: number,
  period: { from: number; to: number },
): { from: number; to: number } {
  if (spec.kind !== 'ifta') return period;
  return quarterRange(spec.params.quarter ? parseQuarter(spec.params.quarter) : lastClosedQuarter(dueAt));
}

const day = (t: number) => new Date(t).toISOString().slice(0, 10);

/** A file name people can keep: `ifta-2026Q3.xlsx`, `detail-2026-03-02_2026-03-09.csv`. */
export function fileName(spec: ReportSpec, period: { from: number; to: number }): string {
  const span =
    spec.kind === 'ifta' ? formatQuarter(quarterOf(period.from)) : `${day(period.from)}_${day(period.to)}`;
  return `${spec.kind}-${span}.${spec.format}`;
}

/**
 * Writes the report to `out` (ended when done) as the tenant: `c` is inside inTenant(). Returns
 * the rows streamed (detail) or written (others) for the run record.
 */
export async function writeReport(
  c: pg.PoolClient,
  tenantId: string,
  spec: ReportSpec,
  period: { from: number; to: number },
  out: Writable,
  onProgress?: (p: ExportProgress) => void | Promise<void>,
): Promise<ExportProgress> {
  const label = `${day(period.from)} .. ${day(period.to)}`;
  const company = await companyName(c, tenantId);
  const finish = async (rows: number, body: string | Buffer) => {
    const done = { rowsDone: rows, rowsTotal: rows };
    await onProgress?.(done);
    await pipeline(PassThrough.from([body]), out);
    return done;
  };
  switch (spec.kind) {
    case 'detail': {
      const q = { ...period, vehicleIds: spec.params.vehicleIds };
      return spec.format === 'csv'
        ? writeDetailCsv(c, q, out, { onProgress })
        : writeDetailXlsx(c, q, out, { onProgress });
    }
    case 'carbon': {
      const r = await loadCarbonReport(c, tenantId, period, spec.params);
      if (spec.format === 'csv') return finish(r.rows.length, carbonCsv(r, label));
      if (spec.format === 'pdf') return finish(r.rows.length, await carbonPdf(r, label, company));
      await writeCarbonXlsx(r, label, out);
      return { rowsDone: r.rows.length, rowsTotal: r.rows.length };
    }
    case 'ifta': {
      const quarter = quarterOf(period.from);
      const ret = await loadIftaReturn(c, tenantId, quarter);
      if (spec.format === 'csv') return finish(ret.lines.length, iftaReturnCsv(ret));
      if (spec.format === 'pdf') return finish(ret.lines.length, await iftaPdf(ret, company));
      await writeIftaXlsx(ret, tripRecordRows(c, tenantId, quarter), out);
      return { rowsDone: ret.lines.length, rowsTotal: ret.lines.length };
    }
  }
}

async function companyName(c: pg.PoolClient, tenantId: string): Promise<string> {
  const { rows } = await c.query<{ name: string }>('SELECT name FROM tenants WHERE id = $1', [tenantId]);
  return rows[0]?.name ?? tenantId;
}
