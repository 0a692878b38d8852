/**
 * A report as a file: the same ReportTable the page shows, written as CSV (RFC 4180, the IFTA
 * exporter's writer) or XLSX; the IFTA return through its own exporters (return + trip records
 * XLSX, CSV, PDF summary). PDF exists for IFTA only.
 */
import { PassThrough } from 'node:stream';
import ExcelJS from 'exceljs';
import type pg from 'pg';
import { CloudError, CloudErrorCode } from '../../errors.ts';
import { csvLines, iftaPdf, iftaReturnCsv, writeIftaXlsx } from '../exports/ifta-exports.ts';
import { loadIftaReturn, tripRecordRows } from '../ifta/ifta-report.ts';
import type { ReportTable } from './report-table.ts';
import { exportFileName, type ReportRequest } from './run-report.ts';

export const EXPORT_FORMATS = ['csv', 'xlsx', 'pdf'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportFile {
  filename: string;
  mime: string;
  body: Buffer;
}

const MIME: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  pdf: 'application/pdf',
};

/** The table's shown columns, header then rows. */
export function tableCsv(t: ReportTable): string {
  return csvLines([
    t.columns.map((c) => c.label),
    ...t.rows.map((r) => t.columns.map((c) => r[c.key] ?? null)),
  ]);
}

async function tableXlsx(t: ReportTable): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'fleet-cloud';
  const sheet = wb.addWorksheet(t.kind);
  sheet.addRow([t.title]);
  sheet.addRow(t.columns.map((c) => c.label));
  for (const r of t.rows) sheet.addRow(t.columns.map((c) => r[c.key] ?? null));
  for (const n of t.notes) sheet.addRow([n]);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

export async function exportReport(
  db: Pick<pg.PoolClient, 'query'>,
  tenantId: string,
  company: string,
  r: ReportRequest,
  table: ReportTable,
  format: ExportFormat,
): Promise<ExportFile> {
  const file = (body: Buffer) => ({ filename: exportFileName(r, format), mime: MIME[format], body });
  if (r.kind === 'ifta') {
    const ret = await loadIftaReturn(db, tenantId, r.quarter);
    if (format === 'csv') return file(Buffer.from(iftaReturnCsv(ret)));
    if (format === 'pdf') return file(await iftaPdf(ret, company));
    const chunks: Buffer[] = [];
    const sink = new PassThrough();
    sink.on('data', (c: Buffer) => chunks.push(c));
    await writeIftaXlsx(ret, tripRecordRows(db, tenantId, r.quarter), sink);
    return file(Buffer.concat(chunks));
  }
  if (format === 'csv') return file(Buffer.from(tableCsv(table)));
  if (format === 'xlsx') return file(await tableXlsx(table));
  throw new CloudError(
    CloudErrorCode.ReportExportUnavailable,
    `no ${format} export for the ${r.kind} report`,
  );
}
