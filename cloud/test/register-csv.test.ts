/**
 * Bulk CSV import of vehicles and drivers on the real PostgreSQL (issue 15, "must show" 5):
 * 1,000 vehicles and 1,000 drivers with bad rows mixed in; the bad ones come back by line and
 * reason, the rest are stored once, and importing the same files again changes nothing (no row,
 * no group, no assignment, no audit entry). Through `fleet-cloud vehicles|drivers import` (the
 * operator's way) and the API's import procedure (the dashboard's upload) alike.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLogger } from '@fleet/shared/log';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli } from '../src/cli/main.ts';
import { migrate } from '../src/db/migrate.ts';
import { verifyAuditChain } from '../src/db/queries/audit-log.ts';
import { NO_PASSWORD } from '../src/register/driver-csv.ts';
import { openTestPool, POSTGRES_URL, requireServices } from './support/services.ts';
import { callerAs, sessionOf } from './support/sessions.ts';

const log = createLogger('register-csv-test').child({}, { level: 'error' });
let db: Awaited<ReturnType<typeof openTestPool>>;
let pool: pg.Pool;
let dir: string;

const N = 1000;
/** A valid VIN for row i: 17 characters without I, O, Q. */
const vin = (i: number) => `WDB${String(i).padStart(14, '0')}`;

/** 1,000 data rows (lines 2...1001), every 50th one broken in its own way. */
function vehiclesCsv(): { text: string; badLines: Map<number, RegExp> } {
  const lines = ['plate,vin,make,model,year,fuel_type,tank_litres,calibration,group,monthly_fuel_budget'];
  const badLines = new Map<number, RegExp>();
  for (let i = 0; i < N; i++) {
    const line = i + 2;
    const depot = `"Depot, ${['North', 'South', 'East'][i % 3]}"`; // a quoted comma (RFC 4180)
    let row = `B-${i},${vin(i)},Mercedes,Sprinter,2021,diesel,80,,${depot},450.50`;
    if (i % 50 === 7) {
      row = `B-${i},WDBOOOO${i},Mercedes,Sprinter,2021,diesel,80,,${depot},`; // O in a VIN
      badLines.set(line, /vin: a VIN is 17 letters/);
    } else if (i % 50 === 17) {
      row = `B-${i},${vin(i)},Mercedes,Sprinter,1850,diesel,80,,${depot},`;
      badLines.set(line, /year/);
    } else if (i % 50 === 27) {
      row = `B-${i},${vin(i)},Mercedes,Sprinter,2021,diesel,80,0:0;50:40;60:30;100:80,${depot},`;
      badLines.set(line, /calibration\.2\.litres: row 3: litres must be greater than row 2's/);
    } else if (i % 50 === 37) {
      row = `B-${i - 1},,Mercedes,Sprinter,2021,diesel,80,,${depot},`; // the plate of the line before
      badLines.set(line, new RegExp(`plate B-${i - 1} is on line ${line - 1} already`));
    } else if (i % 50 === 47) {
      row = `B-${i},${vin(i)},Mercedes`; // too few fields
      badLines.set(line, /3 fields, the header has 10/);
    } else if (i % 100 === 3) {
      row = `B-${i},${vin(i)},Mercedes,Sprinter,2021,diesel,80,0:0;50:30;100:80,${depot},`; // a good calibrated one
    }
    lines.push(row);
  }
  return { text: `${lines.join('\r\n')}\r\n`, badLines };
}

function driversCsv(): { text: string; badLines: Map<number, RegExp> } {
  const lines = ['email,name,groups,vehicle'];
  const badLines = new Map<number, RegExp>();
  for (let i = 0; i < N; i++) {
    const line = i + 2;
    // The first 10 drivers drive vehicles B-100...B-109 from now on (B-107's row was a bad one).
    let row = `Driver${i}@Example.test,"Driver ${i}, Jr.",Depot North;Night shift,${i < 10 ? `B-${100 + i}` : ''}`;
    if (i === 7) {
      badLines.set(line, /vehicle B-107: no vehicle in service/); // the vehicle's own row was refused
    } else if (i % 40 === 5) {
      row = `not-an-email-${i},Driver ${i},,`;
      badLines.set(line, /email/);
    } else if (i % 40 === 15) {
      row = `driver${i - 1}@example.test,Twin ${i},,`;
      badLines.set(line, new RegExp(`e-mail driver${i - 1}@example.test is on line ${line - 1} already`));
    } else if (i % 40 === 25) {
      row = `nameless${i}@example.test,,,`;
      badLines.set(line, /name/);
    } else if (i === 35) {
      row = `driver${i}@example.test,Driver ${i},,NO-SUCH-PLATE`;
      badLines.set(line, /vehicle NO-SUCH-PLATE: no vehicle in service/);
    } else if (i === 36) {
      row = `driver${i}@example.test,Driver ${i},,B-100`; // given to line 2's driver already
      badLines.set(line, /vehicle B-100 is given to line 2's driver already/);
    } else if (i === 37) {
      row = 'taken@globex.test,Someone Else,,'; // another tenant's user
      badLines.set(line, /this e-mail belongs to another account/);
    }
    lines.push(row);
  }
  return { text: `${lines.join('\n')}\n`, badLines };
}

beforeAll(async () => {
  await requireServices({ postgres: true });
  db = await openTestPool('t_register_csv');
  pool = db.pool;
  await migrate(pool, log);
  await pool.query(`INSERT INTO tenants (id, name) VALUES ('acme', 'acme'), ('globex', 'globex')`);
  await pool.query(
    `INSERT INTO users (id, tenant_id, email, name, role, password_hash)
     VALUES ('globex-user', 'globex', 'taken@globex.test', 'G', 'fleet_manager', 'x')`,
  );
  dir = mkdtempSync(path.join(tmpdir(), 'register-csv-'));
});

afterAll(async () => {
  await db?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const out: string[] = [];
const io = { out: (l: string) => out.push(l), err: (l: string) => out.push(`ERR ${l}`) };
async function cli(args: string[]): Promise<{ code: number | undefined; json: Record<string, unknown> }> {
  process.exitCode = undefined;
  await buildCli(io)
    .exitOverride()
    .parseAsync(['node', 'fleet-cloud', '--database-url', POSTGRES_URL, '--schema', db.schema, ...args]);
  const code = process.exitCode as number | undefined;
  process.exitCode = undefined;
  return { code, json: JSON.parse(out.at(-1)!) };
}

/** Every row the imports may touch, counted: a second import must leave each figure as it was. */
async function counts() {
  const { rows } = await pool.query<Record<string, number>>(
    `SELECT (SELECT count(*)::int FROM vehicles WHERE tenant_id = 'acme') AS vehicles,
            (SELECT count(*)::int FROM users WHERE tenant_id = 'acme') AS users,
            (SELECT count(*)::int FROM vehicle_groups WHERE tenant_id = 'acme') AS groups,
            (SELECT count(*)::int FROM driver_groups WHERE tenant_id = 'acme') AS memberships,
            (SELECT count(*)::int FROM vehicle_assignments WHERE tenant_id = 'acme') AS assignments,
            (SELECT count(*)::int FROM audit_log) AS audit`,
  );
  return rows[0]!;
}

function expectBadLines(errors: { line: number; reason: string }[], expected: Map<number, RegExp>) {
  expect(errors.map((e) => e.line)).toEqual([...expected.keys()].sort((a, b) => a - b));
  for (const e of errors) expect(e.reason, `line ${e.line}`).toMatch(expected.get(e.line)!);
}

describe('CSV import of 1,000 vehicles and 1,000 drivers', () => {
  const vehicles = vehiclesCsv();
  const drivers = driversCsv();
  const timings: Record<string, number> = {};

  it('imports the good vehicle rows once and reports each bad one by line and reason', async () => {
    const file = path.join(dir, 'vehicles.csv');
    writeFileSync(file, vehicles.text);
    const t0 = performance.now();
    const { code, json } = await cli(['vehicles', 'import', file, '--tenant', 'acme', '--json']);
    timings.vehicles = performance.now() - t0;
    expect(code).toBe(1); // done, some rows refused
    expect(json).toMatchObject({
      rows: N,
      created: N - vehicles.badLines.size,
      unchanged: 0,
      bad: vehicles.badLines.size,
    });
    expectBadLines(json.errors as { line: number; reason: string }[], vehicles.badLines);
    const { rows } = await pool.query<{
      plate: string;
      vin: string;
      group: string;
      cal: unknown;
      budget: string;
    }>(
      `SELECT v.plate, v.vin, g.name AS group, v.tank_calibration AS cal, v.monthly_fuel_budget AS budget
         FROM vehicles v JOIN vehicle_groups g ON g.id = v.group_id WHERE v.plate IN ('B-0', 'B-103')`,
    );
    expect(rows.find((r) => r.plate === 'B-0')).toMatchObject({
      vin: vin(0),
      group: 'Depot, North',
      cal: null,
      budget: '450.50',
    });
    expect(rows.find((r) => r.plate === 'B-103')!.cal).toEqual([
      { pct: 0, litres: 0 },
      { pct: 50, litres: 30 },
      { pct: 100, litres: 80 },
    ]);
  });

  it('imports the good driver rows once, with groups and the vehicles they drive', async () => {
    const file = path.join(dir, 'drivers.csv');
    writeFileSync(file, drivers.text);
    const t0 = performance.now();
    const { code, json } = await cli(['drivers', 'import', file, '--tenant', 'acme', '--json']);
    timings.drivers = performance.now() - t0;
    expect(code).toBe(1);
    expect(json).toMatchObject({
      rows: N,
      created: N - drivers.badLines.size,
      unchanged: 0,
      bad: drivers.badLines.size,
    });
    expectBadLines(json.errors as { line: number; reason: string }[], drivers.badLines);
    const { rows } = await pool.query<{
      email: string;
      name: string;
      groups: string[];
      vehicle: string | null;
      hash: string;
    }>(
      `SELECT u.email, u.name, u.password_hash AS hash,
              ARRAY(SELECT g.name FROM driver_groups d JOIN vehicle_groups g ON g.id = d.group_id
                     WHERE d.user_id = u.id ORDER BY g.name) AS groups,
              (SELECT v.plate FROM vehicle_assignments a JOIN vehicles v ON v.id = a.vehicle_id
                WHERE a.user_id = u.id AND a.ends_at IS NULL) AS vehicle
         FROM users u WHERE u.email IN ('driver3@example.test', 'driver500@example.test')
        ORDER BY u.email`,
    );
    expect(rows).toEqual([
      {
        email: 'driver3@example.test',
        name: 'Driver 3, Jr.',
        groups: ['Depot North', 'Night shift'],
        vehicle: 'B-103',
        hash: NO_PASSWORD,
      },
      {
        email: 'driver500@example.test',
        name: 'Driver 500, Jr.',
        groups: ['Depot North', 'Night shift'],
        vehicle: null,
        hash: NO_PASSWORD,
      },
    ]);
    // The other tenant's user is untouched.
    const { rows: other } = await pool.query(
      `SELECT tenant_id, name FROM users WHERE email = 'taken@globex.test'`,
    );
    expect(other).toEqual([{ tenant_id: 'globex', name: 'G' }]);
    console.info(
      `CSV import: ${N} vehicles in ${timings.vehicles!.toFixed(0)} ms, ${N} drivers in ${timings.drivers!.toFixed(0)} ms (CLI, real PostgreSQL)`,
    );
  });

  it('importing the same files again changes nothing, by the CLI or by the upload', async () => {
    const before = await counts();
    const v = await cli(['vehicles', 'import', path.join(dir, 'vehicles.csv'), '--tenant', 'acme', '--json']);
    expect(v.json).toMatchObject({
      created: 0,
      unchanged: N - vehicles.badLines.size,
      bad: vehicles.badLines.size,
    });
    const d = await cli(['drivers', 'import', path.join(dir, 'drivers.csv'), '--tenant', 'acme', '--json']);
    // Line 39 (another tenant's e-mail) is refused again; everything else is found as it was.
    expect(d.json).toMatchObject({
      created: 0,
      unchanged: N - drivers.badLines.size,
      bad: drivers.badLines.size,
    });
    const admin = callerAs(pool, sessionOf('admin', 'acme'));
    const upload = await admin.registry.import({ csv: vehicles.text });
    expect(upload).toMatchObject({ created: 0, unchanged: N - vehicles.badLines.size });
    expect(await admin.roster.import({ csv: drivers.text })).toMatchObject({ created: 0 });
    expect(await counts()).toEqual(before);
    expect(before).toMatchObject({
      vehicles: N - vehicles.badLines.size,
      users: N - drivers.badLines.size,
      assignments: 8, // 10 named; lines 7 (bad e-mail) and 9 (bad vehicle) refused
    });
    expect((await verifyAuditChain(pool)).ok).toBe(true);
    const { rows: audit } = await pool.query<{ action: string }>(
      `SELECT action FROM audit_log WHERE tenant_id = 'acme' ORDER BY id`,
    );
    expect(audit.map((a) => a.action)).toEqual(['vehicle.import', 'driver.import']);
  });

  it('a file without the required columns is refused as a whole, naming them', async () => {
    const admin = callerAs(pool, sessionOf('admin', 'acme'));
    await expect(admin.registry.import({ csv: 'make,model\nFord,Transit\n' })).rejects.toThrow(
      /header lacks plate or vin/,
    );
    await expect(admin.roster.import({ csv: 'email\nx@y.test\n' })).rejects.toThrow(/header lacks name/);
    await expect(
      callerAs(pool, sessionOf('technician', 'acme')).registry.import({ csv: 'plate\nX\n' }),
    ).rejects.toThrow(/may not vehicles:manage/);
  });
});
