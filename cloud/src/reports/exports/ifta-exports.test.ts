/**
 * Must show 3: the exports read back with real readers: XLSX with exceljs, the PDF's text with
 * pdf-parse, the CSV with csv-parse (quotes, commas, newlines in fields, UTF-8 names).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { PDFParse } from 'pdf-parse';
import { afterAll, describe, expect, it } from 'vitest';
import { computeIftaReturn } from '../ifta/ifta-return.ts';
import { parseRateMatrix } from '../ifta/rate-matrix.ts';
import { IFTA_JURISDICTIONS } from '../jurisdictions/default-map.ts';
import { iftaPdf, iftaReturnCsv, type TripRecordRow, tripRecordsCsv, writeIftaXlsx } from './ifta-exports.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'ifta-exports-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const Q3 = { year: 2026, quarter: 3 } as const;
const rates = parseRateMatrix(
  readFileSync(path.join(import.meta.dirname, '..', 'fixtures', 'ifta-rate-matrix-2026Q3.csv'), 'utf8'),
  Q3,
  IFTA_JURISDICTIONS,
);
const mi = (m: number) => Math.round(m * 1609.344);
const gal = (g: number) => g * 3.785411784;
const ret = computeIftaReturn({
  quarter: Q3,
  jurisdictions: IFTA_JURISDICTIONS,
  vehicles: [
    {
      vehicleId: 'truck-1',
      fuelType: 'diesel',
      days: [
        { day: '2026-07-01', odometerMetres: mi(1203), gpsMetres: new Map([['CO', 1]]) },
        { day: '2026-07-02', odometerMetres: mi(797), gpsMetres: new Map([['WY', 1]]) },
        { day: '2026-07-03', odometerMetres: mi(503), gpsMetres: new Map([['KY', 1]]) },
      ],
    },
  ],
  purchases: [
    {
      id: 'a',
      vehicleId: 'truck-1',
      ts: 0,
      litres: gal(150),
      fuelType: 'diesel',
      jurisdiction: 'CO',
      station: null,
    },
    {
      id: 'b',
      vehicleId: 'truck-1',
      ts: 0,
      litres: gal(250),
      fuelType: 'diesel',
      jurisdiction: 'WY',
      station: null,
    },
    {
      id: 'c',
      vehicleId: 'truck-1',
      ts: 0,
      litres: gal(100),
      fuelType: 'diesel',
      jurisdiction: 'KY',
      station: null,
    },
  ],
  rates,
  gaps: [
    {
      vehicleId: 'truck-1',
      from: Date.UTC(2026, 6, 2, 10),
      to: Date.UTC(2026, 6, 2, 10, 30),
      fromJurisdiction: 'CO',
      toJurisdiction: 'WY',
      metres: 40_000,
    },
  ],
  boundariesSource: 'test',
});
// A unit name with everything RFC 4180 has to quote, and non-ASCII letters.
const UNIT = 'Camión "Ñandú", línea 7\nnorte';
const records: TripRecordRow[] = [
  {
    vehicleId: 'truck-1',
    unit: UNIT,
    ts: Date.UTC(2026, 6, 1, 8, 0, 0),
    lat: 40.95,
    lon: -105.123456,
    odometerKm: 100_000,
    jurisdiction: 'CO',
  },
  {
    vehicleId: 'truck-1',
    unit: UNIT,
    ts: Date.UTC(2026, 6, 1, 8, 4, 30),
    lat: 41,
    lon: -105.1,
    odometerKm: 100_005.55,
    jurisdiction: 'WY',
  },
];

describe('IFTA exports read back', () => {
  it('XLSX: the return sheet with its totals, trip records to 4 decimals with odometer, data quality', async () => {
    const file = path.join(dir, 'ifta.xlsx');
    await writeIftaXlsx(ret, records, file);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(file);
    expect(wb.worksheets.map((w) => w.name)).toEqual(['Return', 'Trip records', 'Data quality']);
    const sheet = wb.getWorksheet('Return')!;
    const rows = sheet.getSheetValues().filter(Boolean) as unknown[][];
    const co = rows.find((r) => r[1] === 'CO')!;
    expect(co.slice(1)).toEqual([
      'CO',
      'Colorado',
      'diesel',
      1203,
      1203,
      240,
      150,
      90,
      '0.20500',
      18.45,
      undefined, // no surcharge rate: an empty cell
      0,
      18.45,
    ]);
    expect(rows.find((r) => r[1] === 'diesel')!.slice(1)).toEqual(['diesel', 2503, 0, 500, 5.01]);
    expect(rows.at(-1)!.slice(1)).toContain(6.83);
    const trips = wb.getWorksheet('Trip records')!.getSheetValues().filter(Boolean) as unknown[][];
    expect(trips[1]!.slice(1)).toEqual([
      'truck-1',
      UNIT,
      '2026-07-01',
      '08:00:00',
      40.95,
      -105.1235,
      100000,
      'CO',
    ]);
    expect(trips[2]!.slice(3, 8)).toEqual(['2026-07-01', '08:04:30', 41, -105.1, 100005.6]);
    const dq = wb.getWorksheet('Data quality')!.getSheetValues().filter(Boolean) as unknown[][];
    expect(dq[1]!.slice(1, 3)).toEqual(['gap over 10 min with the engine on', 'truck-1']);
    expect(dq[1]![5]).toBe('30 min, CO -> WY');
  });

  it('CSV per RFC 4180: a strict parser gets every field back, quotes, commas, newlines and UTF-8 included', () => {
    const text = tripRecordsCsv(records);
    expect(text.endsWith('\r\n')).toBe(true);
    const rows = parse(text, { relax_quotes: false, record_delimiter: '\r\n' }) as string[][];
    expect(rows).toHaveLength(3);
    expect(rows[1]).toEqual([
      'truck-1',
      UNIT,
      '2026-07-01',
      '08:00:00',
      '40.9500',
      '-105.1235',
      '100000',
      'CO',
    ]);
    const ret2 = parse(iftaReturnCsv(ret), { columns: true }) as Record<string, string>[];
    expect(ret2.map((r) => [r.Jurisdiction, r['Due (US$)']])).toEqual([
      ['CO', '18.45'],
      ['KY', '10.22'],
      ['WY', '-21.84'],
    ]);
  });

  it('PDF: the summary text has the quarter, the MPG, each line and the total due', async () => {
    const pdf = await iftaPdf(ret, 'Acme Haulage');
    const { text } = await new PDFParse({ data: new Uint8Array(pdf) }).getText();
    expect(text).toContain('IFTA quarterly return 2026Q3');
    expect(text).toContain('fleet MPG 5.01');
    expect(text).toContain('Total due: US$ 6.83');
    expect(text).toMatch(/WY\s+diesel\s+797\s+159\s+250\s+-91\s+0\.24000\s+0\.00\s+-21\.84/);
    expect(text).toContain('1 gap(s) over 10 min with the engine on');
  });
});
