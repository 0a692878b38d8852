/**
 * `fleet-cloud fuel import`: a provider's CSV export into the real PostgreSQL. Bad rows are
 * reported with their line and reason and counted, the good rows around them stored; a second
 * import of the same file stores nothing new. The RFC 4180 reader is checked on its own too.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLogger } from '@fleet/shared/log';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli } from '../src/cli/main.ts';
import { migrate } from '../src/db/migrate.ts';
import { csvRecords, importFuelCsv } from '../src/fuel/csv-import.ts';
import { openTestPool, POSTGRES_URL, requireServices } from './support/services.ts';

const log = createLogger('test').child({}, { level: 'fatal' });
let db: Awaited<ReturnType<typeof openTestPool>>;
let dir: string;

beforeAll(async () => {
  await requireServices({ postgres: true });
  db = await openTestPool('t_fuel_csv');
  await migrate(db.pool, log);
  await db.pool.query(`INSERT INTO tenants (id, name) VALUES ('acme', 'acme'), ('globex', 'globex')`);
  await db.pool.query(`INSERT INTO vehicles (id, tenant_id) VALUES ('van-1', 'acme'), ('gx-1', 'globex')`);
  dir = mkdtempSync(path.join(tmpdir(), 'fuel-csv-'));
});
afterAll(async () => {
  await db?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const FILE = [
  '\uFEFFexternal_id,ts,litres,amount,currency,fuel_type,station,lat,lon,card_id,vehicle_id,driver_id,odometer_km,cost_center',
  'T-1,2026-10-05T08:02:00Z,46.2,83.11,EUR,diesel,"Aral, Leopoldstr. 12",48.137,11.575,CARD-1,van-1,drv-7,123456,north',
  'T-2,1759651320000,30,,,,,,,CARD-2,,,,', // epoch ms, card not assigned to a vehicle
  'T-3,2026-10-05 10:02,40,,,,,,,,van-1,,,', // line 4: no time zone
  'T-4,2026-10-05T08:02:00Z,"1,5",,,,,,,,van-1,,,', // line 5: decimal comma
  ',2026-10-05T08:02:00Z,12,,,,,,,,van-1,,,', // line 6: no external id
  'T-6,2026-10-05T08:02:00Z,12,,,,,,,,gx-1,,,', // line 7: another tenant's vehicle
  'T-7,2026-10-05T08:02:00Z,12,,,,,,', // line 8: too few fields
  'T-8,2026-10-05T09:00:00Z,55.5,99.90,EUR,diesel,"Shell ""Nord""',
  'Ausfahrt 3",,,CARD-1,van-1,,,', // a quoted station spanning two lines (9-10)
  'T-9,2026-10-05T08:02:00Z,12,,,,,48.1,,,van-1,,,', // line 11: lat without lon
  '',
  'T-10,2026-10-06T08:02:00+02:00,,,,,,,,,van-1,,,', // line 13: neither litres nor gallons
].join('\r\n');

describe('fuel CSV import (real PostgreSQL)', () => {
  it('stores the good rows, reports each bad one with its line and reason, and is idempotent', async () => {
    const file = path.join(dir, 'export.csv');
    writeFileSync(file, FILE);
    const progress: number[] = [];
    const r = await importFuelCsv(db.pool, 'acme', file, {
      batchSize: 2,
      onProgress: (p) => progress.push(p.rows),
    });
    expect(r).toMatchObject({ rows: 10, stored: 3, duplicates: 0, bad: 7 });
    expect(r.errors.map((e) => e.line)).toEqual([4, 5, 6, 7, 8, 11, 13]);
    expect(r.errors.find((e) => e.line === 4)!.reason).toMatch(/ts must be ISO 8601 with a zone/);
    expect(r.errors.find((e) => e.line === 5)!.reason).toMatch(/litres/);
    expect(r.errors.find((e) => e.line === 6)!.reason).toMatch(/externalId/);
    expect(r.errors.find((e) => e.line === 7)!.reason).toBe(
      'vehicle_id "gx-1" is not a vehicle of tenant "acme"',
    );
    expect(r.errors.find((e) => e.line === 8)!.reason).toBe('9 fields, the header has 14');
    expect(r.errors.find((e) => e.line === 11)!.reason).toMatch(/both lat and lon/);
    expect(r.errors.find((e) => e.line === 13)!.reason).toMatch(/exactly one of litres or gallons/);
    expect(progress.at(-1)).toBe(10);

    const { rows } = await db.pool.query(
      `SELECT external_id, source, vehicle_id, ts, litres, station, raw->>'cost_center' AS cost_center
         FROM fuel_transactions ORDER BY external_id`,
    );
    expect(rows).toEqual([
      {
        external_id: 'T-1',
        source: 'csv',
        vehicle_id: 'van-1',
        ts: new Date('2026-10-05T08:02:00Z'),
        litres: 46.2,
        station: 'Aral, Leopoldstr. 12',
        cost_center: 'north',
      },
      expect.objectContaining({ external_id: 'T-2', vehicle_id: null, ts: new Date(1759651320000) }),
      expect.objectContaining({ external_id: 'T-8', station: 'Shell "Nord"\r\nAusfahrt 3', litres: 55.5 }),
    ]);

    const again = await importFuelCsv(db.pool, 'acme', file);
    expect(again).toMatchObject({ rows: 10, stored: 0, duplicates: 3, bad: 7 });
    expect((await db.pool.query('SELECT count(*)::int AS n FROM fuel_transactions')).rows[0].n).toBe(3);
  });

  it('fleet-cloud fuel import --json prints the counts; a bad header or tenant is a clear error', async () => {
    const file = path.join(dir, 'cli.csv');
    writeFileSync(
      file,
      'external_id,ts,gallons,vehicle_id\nC-1,2026-10-05T08:02:00Z,10,van-1\nC-2,yesterday,10,van-1\n',
    );
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
    const run = async (args: string[]) => {
      process.exitCode = undefined;
      await buildCli(io)
        .exitOverride()
        .parseAsync(['node', 'fleet-cloud', '--database-url', POSTGRES_URL, '--schema', db.schema, ...args]);
      const code = process.exitCode;
      process.exitCode = undefined;
      return code;
    };
    expect(await run(['fuel', 'import', file, '--tenant', 'acme', '--json'])).toBe(1);
    expect(JSON.parse(out.at(-1)!)).toMatchObject({
      rows: 2,
      stored: 1,
      bad: 1,
      errors: [{ line: 3, reason: expect.stringMatching(/ts must be/) }],
    });
    const bad = path.join(dir, 'bad.csv');
    writeFileSync(bad, 'id,when,litres\n1,2,3\n');
    expect(await run(['fuel', 'import', bad, '--tenant', 'acme'])).toBe(2);
    expect(err.at(-1)).toMatch(/line 1: the header lacks external_id, ts/);
    expect(await run(['fuel', 'import', file, '--tenant', 'nobody'])).toBe(2);
    expect(err.at(-1)).toMatch(/no tenant "nobody"/);
  });
});

describe('csvRecords (RFC 4180)', () => {
  const read = async (chunks: string[]) => {
    const out: { line: number; fields: string[]; error?: string }[] = [];
    for await (const r of csvRecords(
      (async function* () {
        yield* chunks;
      })(),
    ))
      out.push(r);
    return out;
  };

  it('gives the same records however the input is split into chunks', async () => {
    const text = 'a,"b ""q"", c",d\r\n"multi\nline",,"x"\n\nlast,"",z';
    const whole = await read([text]);
    expect(whole).toEqual([
      { line: 1, fields: ['a', 'b "q", c', 'd'] },
      { line: 2, fields: ['multi\nline', '', 'x'] },
      { line: 5, fields: ['last', '', 'z'] },
    ]);
    for (let cut = 1; cut < text.length; cut++) {
      expect(await read([text.slice(0, cut), text.slice(cut)])).toEqual(whole);
    }
    expect(await read(text.split(''))).toEqual(whole);
  });

  it('marks malformed records instead of guessing', async () => {
    expect(await read(['a,b"c,d\n"open,e'])).toEqual([
      { line: 1, fields: ['a', 'b"c', 'd'], error: 'a quote inside an unquoted field' },
      { line: 2, fields: ['open,e'], error: 'a quoted field is never closed' },
    ]);
    expect(await read(['"x"y,z\n'])).toEqual([
      { line: 1, fields: ['xy', 'z'], error: 'text after a closing quote' },
    ]);
  });
});
