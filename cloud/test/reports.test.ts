/**
 * Issue 17 §2-§4 on the real PostgreSQL, end to end and lean: telemetry (through the ingest's
 * store) → `fleet-cloud reports distance` → the kept daily distance and trip records → the
 * return through `fleet-cloud reports ifta --out .xlsx` (read back) and through the API as
 * finance; rates and boundaries imported from files; carbon through the API.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TelemetrySample } from '@fleet/shared';
import { createLogger } from '@fleet/shared/log';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { PDFParse } from 'pdf-parse';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../src/db/migrate.ts';
import { formatCents } from '../src/reports/decimal.ts';
import type { IftaReturn } from '../src/reports/ifta/ifta-return.ts';
import { runCli } from './support/cli.ts';
import { seedSamples } from './support/seed.ts';
import { openTestPool, requireServices } from './support/services.ts';
import { callerAs, sessionOf } from './support/sessions.ts';

const FIXTURES = path.join(import.meta.dirname, '..', 'src', 'reports', 'fixtures');
const dir = mkdtempSync(path.join(tmpdir(), 'fleet-reports-'));
let db: Awaited<ReturnType<typeof openTestPool>>;
let pool: pg.Pool;
const T0 = Date.UTC(2026, 6, 14, 8);

const cli = (...args: string[]) => runCli(db.schema, ...args);

beforeAll(async () => {
  await requireServices({ postgres: true });
  db = await openTestPool('t_reports');
  pool = db.pool;
  await migrate(pool, createLogger('reports-test').child({}, { level: 'error' }));
  await pool.query(`INSERT INTO tenants (id, name) VALUES ('acme', 'Acme Haulage')`);
  await pool.query(`INSERT INTO vehicle_groups (tenant_id, name) VALUES ('acme', 'Denver depot')`);
  await pool.query(
    `INSERT INTO vehicles (id, tenant_id, plate, fuel_type, model_year, vehicle_class, group_id)
     VALUES ('truck-1', 'acme', 'CO-TRK-1', 'diesel', 2015, 'Heavy truck (class 8)', (SELECT id FROM vehicle_groups))`,
  );
  // Due north at 40 km/h from 40.90°N to 41.15°N: 0.10° in Colorado, 0.15° in Wyoming; the
  // odometer (PID A6, through the ingest's own statement) reads 27.8 km over the drive.
  const samples: TelemetrySample[] = Array.from({ length: 251 }, (_, i) => ({
    seq: i + 1,
    ts: T0 + i * 10_000,
    lat: 40.9 + i * 0.001,
    lon: -105,
    speedKmh: 40,
    rpm: 1400,
    fuelLevelPct: 60,
    coolantC: 90,
    odometerKm: Math.round((100_000 + (i * 27.8) / 250) * 10) / 10,
    gpsDistanceM: i * 111.2,
  }));
  await seedSamples(pool, 'acme', 'truck-1', samples);
  await pool.query(
    `INSERT INTO fuel_transactions (tenant_id, vehicle_id, source, external_id, ts, litres, fuel_type, station, lat, lon)
     VALUES ('acme', 'truck-1', 'csv', 'co-1', $1, $2, 'diesel', 'Denver "North", pump 3', 39.7, -105.0),
            ('acme', 'truck-1', 'csv', 'wy-1', $1, $3, 'diesel', 'Cheyenne', 42.0, -106.0),
            ('acme', 'truck-1', 'csv', 'nowhere', $1, 10, 'diesel', 'unknown', NULL, NULL)`,
    [new Date(T0 + 3_600_000), 1.5 * 3.785411784, 2 * 3.785411784],
  );
});

afterAll(async () => {
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe('reports on the database', () => {
  let ret: IftaReturn;

  it('boundaries and rates come in from files; a bad file is refused with its line', async () => {
    expect(
      (await cli('reports', 'boundaries', 'import', path.join(FIXTURES, 'straight-borders.geojson'))).code,
    ).toBe(0);
    const r = await cli(
      'reports',
      'rates',
      'import',
      path.join(FIXTURES, 'ifta-rate-matrix-2026Q3.csv'),
      '--quarter',
      '2026Q3',
      '--json',
    );
    expect(JSON.parse(r.out[0]!)).toEqual({ quarter: '2026Q3', rates: 7 * 5 }); // 7 jurisdictions × 5 fuel columns
    const bad = await cli(
      'reports',
      'rates',
      'import',
      path.join(FIXTURES, 'ifta-rate-matrix-2026Q3.csv'),
      '--quarter',
      '2026Q4',
    );
    expect(bad.code).toBe(2);
    expect(bad.err[0]).toContain(
      'E900: rate matrix: 1 problem(s): line 1: the matrix is for 2026Q3, not 2026Q4',
    );
  });

  it('the daily rollup keeps the split, and the XLSX return reads back with the border crossing record', async () => {
    const roll = await cli(
      'reports',
      'distance',
      '--tenant',
      'acme',
      '--from',
      '2026-07-01',
      '--to',
      '2026-10-01',
      '--json',
    );
    expect(JSON.parse(roll.out[0]!)).toMatchObject({ vehicles: 1, days: 1, gaps: 0 });
    const { rows } = await pool.query(
      `SELECT odometer_start_km, odometer_end_km, by_jurisdiction FROM vehicle_day_distance`,
    );
    expect(rows[0].odometer_end_km - rows[0].odometer_start_km).toBeCloseTo(27.8, 9);
    const split = rows[0].by_jurisdiction as Record<string, number>;
    expect(split.CO! / (split.CO! + split.WY!)).toBeCloseTo(0.4, 6);

    const file = path.join(dir, 'ifta-2026Q3.xlsx');
    const r = await cli(
      'reports',
      'ifta',
      '--tenant',
      'acme',
      '--quarter',
      '2026Q3',
      '--out',
      file,
      '--json',
    );
    expect(r.code, r.err.join('\n')).toBe(1); // data-quality findings: the purchase without a place
    ret = JSON.parse(r.out[0]!) as IftaReturn;
    // 27,800 m = 17.27 mi → 17; Colorado's 40 % is 6.8 → 7, Wyoming's 10.2 → 10.
    expect(ret.lines.map((l) => [l.jurisdiction, l.totalMiles, l.taxPaidGallons])).toEqual([
      ['CO', 7, 2],
      ['WY', 10, 2],
    ]);
    expect(ret.dataQuality.purchasesWithoutJurisdiction.map((p) => p.station)).toEqual(['unknown']);
    expect(ret.boundariesSource).toBe('straight-borders.geojson');

    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(file);
    const trips = wb.getWorksheet('Trip records')!.getSheetValues().filter(Boolean) as unknown[][];
    const crossing = trips.find((t) => t[5] === 41 && t[8] === 'WY')!;
    expect(crossing.slice(1, 4)).toEqual(['truck-1', 'CO-TRK-1', '2026-07-14']);
    expect(crossing[7]).toBeCloseTo(100_011.1, 1); // the odometer at 41°N

    // The same records as CSV (streamed), and the PDF summary, from the same command.
    const csvFile = path.join(dir, 'trips.csv');
    const pdfFile = path.join(dir, 'q3.pdf');
    await cli(
      'reports',
      'ifta',
      '--tenant',
      'acme',
      '--quarter',
      '2026Q3',
      '--out',
      pdfFile,
      '--trips-csv',
      csvFile,
    );
    const csvRows = parse(readFileSync(csvFile, 'utf8')) as string[][];
    expect(csvRows.length).toBe(trips.length);
    expect(csvRows.find((c) => c[4] === '41.0000')?.slice(1, 3)).toEqual(['CO-TRK-1', '2026-07-14']);
    const { text } = await new PDFParse({ data: new Uint8Array(readFileSync(pdfFile)) }).getText();
    expect(text).toContain(`Total due: US$ ${formatCents(ret.totalDueCents)}`);
  });

  it('the API gives finance the same return, and the carbon report with its dataset', async () => {
    const finance = callerAs(pool, sessionOf('finance', 'acme'));
    const api = await finance.reports.iftaReturn({ quarter: '2026Q3' });
    expect(api.totalDueCents).toBe(ret.totalDueCents);
    expect(api.lines).toEqual(ret.lines);
    const carbon = await finance.reports.carbon({ from: Date.UTC(2026, 6, 1), to: Date.UTC(2026, 9, 1) });
    expect(carbon.dataset.id).toBe('epa-ghg-hub-2025');
    // 3.5 gal + 10 L of diesel at 10.21 kg/gal; 27.8 km at 0.0095 / 0.0431 g/mi (2015 MHD diesel).
    expect(carbon.total.co2G).toBe(Math.round((3.5 + 10 / 3.785411784) * 10_210));
    expect(carbon.total.ch4Mg).toBe(Math.round((27_800 / 1609.344) * 9.5));
    expect(carbon.byGroup[0]!.group).toBe('Denver depot');
    await expect(
      callerAs(pool, sessionOf('fleet_manager', 'acme')).reports.iftaReturn({ quarter: '2026Q3' }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
});
