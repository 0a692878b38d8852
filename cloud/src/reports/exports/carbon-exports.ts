/**
 * The carbon report as files (issue 17 §4, for schedules and downloads): CSV (RFC 4180, one row
 * per vehicle and month, then the totals), XLSX (the same rows, per-vehicle and per-month
 * sheets), a one-page PDF summary. Each names the dataset and GWP set it used.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import ExcelJS from 'exceljs';
import PDFDocument from 'pdfkit';
import type { CarbonFigures, CarbonReport } from '../carbon/carbon-report.ts';
import { csvLines } from './ifta-exports.ts';

const FIGURES = ['Litres', 'Miles', 'CO2 (kg)', 'CH4 (g)', 'N2O (g)', 'CO2e (kg)', 'CO2e (g/km)'];
const kg = (g: number) => Math.round(g) / 1000;
const figures = (f: CarbonFigures) => [
  f.litres,
  f.miles,
  kg(f.co2G),
  kg(f.ch4Mg),
  kg(f.n2oMg),
  kg(f.co2eG),
  f.co2eGPerKm,
];

function datasetLine(r: CarbonReport): string {
  return `${r.dataset.name} (${r.dataset.id}), GWP ${r.dataset.gwp}`;
}

export function carbonCsv(r: CarbonReport, period: string): string {
  return csvLines([
    ['Carbon report', period, datasetLine(r)],
    ['Vehicle', 'Group', 'Month', ...FIGURES, 'Missing'],
    ...r.rows.map((x) => [x.vehicleId, x.group, x.month, ...figures(x), x.missing]),
    ['Total', null, null, ...figures(r.total), null],
  ]);
}

export async function writeCarbonXlsx(r: CarbonReport, period: string, out: Writable): Promise<void> {
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({
    stream: out,
    useStyles: false,
    useSharedStrings: false,
  });
  wb.creator = 'fleet-cloud';
  const rows = wb.addWorksheet('Carbon');
  rows.addRow(['Carbon report (scope 1 mobile combustion)', period]).commit();
  rows.addRow(['Dataset', datasetLine(r)]).commit();
  rows.addRow([]).commit();
  rows.addRow(['Vehicle', 'Group', 'Month', ...FIGURES, 'Missing']).commit();
  for (const x of r.rows) rows.addRow([x.vehicleId, x.group, x.month, ...figures(x), x.missing]).commit();
  rows.addRow(['Total', null, null, ...figures(r.total)]).commit();
  rows.commit();
  const byVehicle = wb.addWorksheet('By vehicle');
  byVehicle.addRow(['Vehicle', ...FIGURES]).commit();
  for (const v of r.byVehicle) byVehicle.addRow([v.vehicleId, ...figures(v)]).commit();
  byVehicle.commit();
  const byMonth = wb.addWorksheet('By month');
  byMonth.addRow(['Month', ...FIGURES]).commit();
  for (const m of r.byMonth) byMonth.addRow([m.month, ...figures(m)]).commit();
  byMonth.commit();
  await wb.commit();
}

export async function carbonPdf(r: CarbonReport, period: string, company: string): Promise<Buffer> {
  const doc = new PDFDocument({ size: 'A4', margin: 40, info: { Title: `Carbon report ${period}` } });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const ended = once(doc, 'end');
  doc.fontSize(16).text(`Carbon report ${period}`);
  doc
    .fontSize(10)
    .text(company)
    .text(`Dataset: ${datasetLine(r)}`)
    .moveDown(0.5);
  doc
    .font('Helvetica-Bold')
    .text(`Total CO2e: ${kg(r.total.co2eG).toFixed(3)} kg`)
    .font('Helvetica')
    .text(
      `CO2 ${kg(r.total.co2G).toFixed(3)} kg, CH4 ${kg(r.total.ch4Mg).toFixed(3)} g, N2O ${kg(r.total.n2oMg).toFixed(3)} g; ` +
        `${r.total.litres} L over ${r.total.miles} mi`,
    )
    .moveDown(0.5);
  for (const v of r.byVehicle)
    doc.text(`${v.vehicleId}: ${kg(v.co2eG).toFixed(3)} kg CO2e (${v.litres} L, ${v.miles} mi)`);
  doc.end();
  await ended;
  return Buffer.concat(chunks);
}
