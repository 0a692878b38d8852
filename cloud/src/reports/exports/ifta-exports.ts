/**
 * The IFTA return as files (issue 17 §3): XLSX for the auditor (the return, the trip detail
 * records, the data-quality findings), CSV (RFC 4180), and a one-page PDF summary.
 *
 * The XLSX is written with exceljs's streaming writer and the trip records come as an iterable,
 * so a quarter of 10-minute records for a large fleet is written row by row, never held whole.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import ExcelJS from 'exceljs';
import PDFDocument from 'pdfkit';
import { formatCents } from '../decimal.ts';
import type { IftaReturn } from '../ifta/ifta-return.ts';

/** One trip detail record as exported (IFTA electronic records: unit, date, time, position, odometer). */
export interface TripRecordRow {
  vehicleId: string;
  /** The unit as people know it (plate, VIN or name). */
  unit: string;
  ts: number;
  lat: number;
  lon: number;
  odometerKm: number | null;
  jurisdiction: string | null;
}

const RETURN_COLUMNS = [
  ['Jurisdiction', 'jurisdiction'],
  ['Name', 'name'],
  ['Fuel', 'fuelType'],
  ['Total miles', 'totalMiles'],
  ['Taxable miles', 'taxableMiles'],
  ['Taxable gallons', 'taxableGallons'],
  ['Tax-paid gallons', 'taxPaidGallons'],
  ['Net taxable gallons', 'netTaxableGallons'],
  ['Rate (US$/gal)', 'rate'],
  ['Tax / credit (US$)', 'taxCents'],
  ['Surcharge rate', 'surchargeRate'],
  ['Surcharge (US$)', 'surchargeCents'],
  ['Due (US$)', 'dueCents'],
] as const;

const TRIP_HEADER = [
  'Vehicle',
  'Unit',
  'Date (UTC)',
  'Time (UTC)',
  'Latitude',
  'Longitude',
  'Odometer (km)',
  'Jurisdiction',
];

function tripCells(r: TripRecordRow): (string | number | null)[] {
  const iso = new Date(r.ts).toISOString();
  return [
    r.vehicleId,
    r.unit,
    iso.slice(0, 10),
    iso.slice(11, 19),
    Number(r.lat.toFixed(4)),
    Number(r.lon.toFixed(4)),
    r.odometerKm === null ? null : Math.round(r.odometerKm * 10) / 10,
    r.jurisdiction,
  ];
}

function returnCells(l: IftaReturn['lines'][number]): (string | number | null)[] {
  return RETURN_COLUMNS.map(([, key]) => {
    const v = l[key];
    if (key.endsWith('Cents')) return v === null ? null : formatCents(v as number);
    return v as string | number | null;
  });
}

// ------------------------------------------------------------------------------------------ CSV

/** One RFC 4180 field: quoted when it holds a quote, comma, CR or LF; quotes doubled. */
export function csvField(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** Records joined with CRLF (RFC 4180 §2), ending with one. */
export function csvLines(rows: Iterable<(string | number | null | undefined)[]>): string {
  let out = '';
  for (const r of rows) out += `${r.map(csvField).join(',')}\r\n`;
  return out;
}

/** The return lines, one CSV. */
export function iftaReturnCsv(ret: IftaReturn): string {
  return csvLines([
    ['Quarter', ...RETURN_COLUMNS.map(([h]) => h)],
    ...ret.lines.map((l) => [ret.quarter, ...returnCells(l)]),
  ]);
}

function tripCsvCells(r: TripRecordRow): (string | number | null)[] {
  const c = tripCells(r);
  // Four decimals written out ("39.1000"), not the shortest number ("39.1").
  c[4] = r.lat.toFixed(4);
  c[5] = r.lon.toFixed(4);
  return c;
}

/** The trip detail records, one CSV (what auditors ask for besides the XLSX). */
export function tripRecordsCsv(records: Iterable<TripRecordRow>): string {
  return csvLines([TRIP_HEADER, ...[...records].map(tripCsvCells)]);
}

/** The same, streamed to a file row by row (a quarter of a large fleet never sits in memory). */
export async function writeTripRecordsCsv(
  records: AsyncIterable<TripRecordRow>,
  file: string,
): Promise<void> {
  const out = createWriteStream(file);
  const write = (line: string) => (out.write(line) ? undefined : once(out, 'drain'));
  await write(csvLines([TRIP_HEADER]));
  for await (const r of records) await write(csvLines([tripCsvCells(r)]));
  out.end();
  await once(out, 'close');
}

// ----------------------------------------------------------------------------------------- XLSX

/** Writes the workbook to a file path or a stream; resolves when it is complete. */
export async function writeIftaXlsx(
  ret: IftaReturn,
  records: Iterable<TripRecordRow> | AsyncIterable<TripRecordRow>,
  out: string | Writable,
): Promise<void> {
  const stream = typeof out === 'string' ? createWriteStream(out) : out;
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ stream, useStyles: true, useSharedStrings: false });
  wb.creator = 'fleet-cloud';

  const sheet = wb.addWorksheet('Return');
  sheet.addRow([`IFTA quarterly return ${ret.quarter}`]).commit();
  sheet.addRow(['Boundaries', ret.boundariesSource]).commit();
  sheet.addRow([]).commit();
  sheet.addRow(['Fuel', 'Total miles', 'Non-IFTA miles', 'Total gallons', 'Fleet MPG']).commit();
  for (const f of ret.fuels)
    sheet
      .addRow([
        f.fuelType,
        f.totalMiles,
        f.nonIftaMiles,
        f.totalGallons,
        f.mpg === null ? null : Number(f.mpg),
      ])
      .commit();
  sheet.addRow([]).commit();
  sheet.addRow(RETURN_COLUMNS.map(([h]) => h)).commit();
  for (const l of ret.lines) {
    const cells = returnCells(l).map((c, i) =>
      // Money as numbers with two decimals shown, so the sheet adds up in Excel.
      typeof c === 'string' && RETURN_COLUMNS[i]![1].endsWith('Cents') ? Number(c) : c,
    );
    const row = sheet.addRow(cells);
    for (const i of [10, 12, 13]) row.getCell(i).numFmt = '0.00';
    row.commit();
  }
  sheet
    .addRow([
      'Total due (US$)',
      null,
      null,
      null,
      null,
      null,
      null,
      null,
      null,
      null,
      null,
      null,
      Number(formatCents(ret.totalDueCents)),
    ])
    .commit();
  sheet.commit();

  const trips = wb.addWorksheet('Trip records');
  trips.addRow(TRIP_HEADER).commit();
  for await (const r of records) {
    const row = trips.addRow(tripCells(r));
    row.getCell(5).numFmt = '0.0000';
    row.getCell(6).numFmt = '0.0000';
    row.commit();
  }
  trips.commit();

  const dq = wb.addWorksheet('Data quality');
  dq.addRow(['Finding', 'Vehicle', 'From (UTC)', 'To (UTC)', 'Detail']).commit();
  for (const g of ret.dataQuality.gaps)
    dq.addRow([
      'gap over 10 min with the engine on',
      g.vehicleId,
      new Date(g.from).toISOString(),
      new Date(g.to).toISOString(),
      `${g.minutes} min, ${g.fromJurisdiction ?? '?'} -> ${g.toJurisdiction ?? '?'}`,
    ]).commit();
  for (const v of ret.dataQuality.vehiclesWithoutOdometer)
    dq.addRow(['no odometer (GPS distance only)', v]).commit();
  for (const v of ret.dataQuality.vehiclesWithoutFuelType)
    dq.addRow(['no IFTA fuel type in the register (left out)', v]).commit();
  for (const p of ret.dataQuality.purchasesWithoutJurisdiction)
    dq.addRow([
      'purchase without jurisdiction',
      p.vehicleId,
      new Date(p.ts).toISOString(),
      null,
      `${p.id} ${p.station ?? ''}`.trim(),
    ]).commit();
  for (const m of ret.dataQuality.odometerGpsMismatch)
    dq.addRow([
      'odometer and GPS distance disagree',
      m.vehicleId,
      m.day,
      null,
      `odometer ${m.odometerKm} km, GPS ${m.gpsKm} km`,
    ]).commit();
  for (const m of ret.dataQuality.missingRates)
    dq.addRow(['no rate in the matrix', null, null, null, `${m.jurisdiction} ${m.fuelType}`]).commit();
  dq.commit();

  const done = typeof out === 'string' ? once(stream, 'close') : Promise.resolve();
  await wb.commit();
  await done;
}

// ------------------------------------------------------------------------------------------ PDF

/** A one-page summary: MPG per fuel, the return's lines, the total, the data-quality counts. */
export async function iftaPdf(ret: IftaReturn, company: string): Promise<Buffer> {
  const doc = new PDFDocument({ size: 'LETTER', margin: 40, info: { Title: `IFTA return ${ret.quarter}` } });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const ended = once(doc, 'end');

  doc.fontSize(16).text(`IFTA quarterly return ${ret.quarter}`);
  doc.fontSize(10).text(company).moveDown(0.5);
  for (const f of ret.fuels)
    doc.text(
      `${f.fuelType}: ${f.totalMiles} total miles, ${f.totalGallons} gallons, fleet MPG ${f.mpg ?? 'n/a'}` +
        (f.nonIftaMiles ? ` (${f.nonIftaMiles} non-IFTA miles)` : ''),
    );
  doc.moveDown(0.5);
  const cols = [40, 80, 140, 200, 265, 330, 395, 460, 520];
  const head = [
    'Jur.',
    'Fuel',
    'Miles',
    'Taxable gal',
    'Tax-paid gal',
    'Net gal',
    'Rate',
    'Surcharge',
    'Due US$',
  ];
  const line = (cells: string[], bold = false) => {
    const y = doc.y;
    doc.font(bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(9);
    for (const [i, c] of cells.entries())
      doc.text(c, cols[i]!, y, { width: (cols[i + 1] ?? 580) - cols[i]! - 4, lineBreak: false });
    doc.text('', 40, y + 13);
  };
  line(head, true);
  for (const l of ret.lines)
    line([
      l.jurisdiction,
      l.fuelType,
      String(l.totalMiles),
      String(l.taxableGallons ?? 'n/a'),
      String(l.taxPaidGallons),
      String(l.netTaxableGallons ?? 'n/a'),
      l.rate ?? 'n/a',
      formatCents(l.surchargeCents),
      l.dueCents === null ? 'n/a' : formatCents(l.dueCents),
    ]);
  doc.moveDown(0.5);
  doc
    .font('Helvetica-Bold')
    .fontSize(11)
    .text(`Total due: US$ ${formatCents(ret.totalDueCents)}`, 40);
  doc.font('Helvetica').fontSize(9).moveDown(0.5);
  const dq = ret.dataQuality;
  doc.text(
    `Data quality: ${dq.gaps.length} gap(s) over 10 min with the engine on; ` +
      `${dq.vehiclesWithoutOdometer.length} vehicle(s) without odometer; ` +
      `${dq.purchasesWithoutJurisdiction.length} purchase(s) without jurisdiction; ` +
      `${dq.missingRates.length} missing rate(s); ${dq.odometerGpsMismatch.length} day(s) where odometer and GPS disagree.`,
  );
  doc.text(`Boundaries: ${ret.boundariesSource}`);
  doc.end();
  await ended;
  return Buffer.concat(chunks);
}
