/**
 * Report schedules (issue 17 §6, must-show 4) on the real PostgreSQL and a real SMTP server
 * (smtp-server on loopback, STARTTLS + AUTH) started here; the runner is driven with an injected
 * clock, never by waiting:
 *   1. a weekly Monday 07:00 America/New_York schedule runs at 12:00 UTC before the DST change
 *      and 11:00 UTC after it (07:00 local both times), nothing a minute earlier, each e-mail
 *      with its XLSX attachment, read back with exceljs;
 *   2. a signed-link delivery (CSV): the mailed link downloads (RFC 4180 read back with
 *      csv-parse) before expiry; a link mailed with an expiry now past, a tampered signature and
 *      a tampered payload are refused with 403 and a body that says why;
 *   3. two runners racing over the same due schedules send each run once;
 *   4. the API: create / list / runNow / runs / exportLink, bad input, the CLI.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TelemetrySample } from '@fleet/shared';
import { createLogger } from '@fleet/shared/log';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configureReportExports } from '../src/api/routers/report-schedules.ts';
import { type ApiServer, startApiServer } from '../src/api/server.ts';
import { buildCli } from '../src/cli/main.ts';
import { migrate } from '../src/db/migrate.ts';
import { openPool } from '../src/db/pool.ts';
import { inTenant } from '../src/db/tenant.ts';
import { EmailSender } from '../src/notifications/channels/email.ts';
import { wallClock } from '../src/reports/schedules/recurrence.ts';
import { ReportScheduleRunner } from '../src/reports/schedules/runner.ts';
import {
  createSchedule,
  type ScheduleInput,
  setTenantTimeZone,
} from '../src/reports/schedules/schedule-store.ts';
import { signExportToken } from '../src/reports/schedules/signed-link.ts';
import { SecretBox } from '../src/security/secret-box.ts';
import { type Arrival, startSmtpServer, testCertificate, waitFor } from './support/notify-servers.ts';
import { seedSamples } from './support/seed.ts';
import { openTestPool, POSTGRES_URL, requireServices } from './support/services.ts';
import { callerAs, sessionOf } from './support/sessions.ts';

const log = createLogger('report-schedules-test').child({}, { level: 'error' });
const NY = 'America/New_York';
const FROM = 'Fleet reports <reports@fleet.test>';
const box = new SecretBox([{ id: 'k1', key: Buffer.alloc(32, 7) }]);
const dir = mkdtempSync(path.join(tmpdir(), 'fleet-sched-'));
/** A plate that needs RFC 4180 quoting (quote, comma, newline) and is not ASCII. */
const PLATE = 'NY "Ünit", 1\nrear';

let db: Awaited<ReturnType<typeof openTestPool>>;
let pool: pg.Pool;
let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
let email: EmailSender;
let api: ApiServer;

/** Samples every 6 h from `from` for `n` samples (a known count per report period). */
function samples(seq0: number, from: number, n: number): TelemetrySample[] {
  return Array.from({ length: n }, (_, i) => ({
    seq: seq0 + i,
    ts: from + i * 6 * 3_600_000,
    lat: 40.7 + i * 0.001,
    lon: -74,
    speedKmh: 50,
    rpm: 1500,
    fuelLevelPct: 60,
    coolantC: 90,
    odometerKm: 1000 + i,
  }));
}

/** Samples in [from, to) of what was seeded (computed from the seeding, not from the code under test). */
const seeded: TelemetrySample[] = [
  ...samples(1, Date.parse('2026-02-23T06:00:00Z'), 28), // week 1: Mon 23 Feb .. Mon 2 Mar
  ...samples(100, Date.parse('2026-03-02T06:00:00Z'), 28), // week 2 (the DST change on Sun 8 Mar)
];
const countIn = (from: number, to: number) => seeded.filter((s) => s.ts >= from && s.ts < to).length;

function runner(now: () => number, p = pool) {
  return new ReportScheduleRunner(p, {
    email,
    secretBox: box,
    linkBaseUrl: `${api.url}/exports`,
    intervalMs: 0,
    now,
    log,
  });
}

async function scheduleAt(input: ScheduleInput, now: number) {
  return inTenant(pool, 'acme', (c) => createSchedule(c, 'acme', input, 'test', now));
}

const arrivalsFor = (scheduleName: string) =>
  smtp.arrivals.filter((a) => a.mail.subject?.startsWith(scheduleName));

async function xlsxRows(a: Arrival): Promise<unknown[][]> {
  const att = a.mail.attachments[0]!;
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(att.content as unknown as ExcelJS.Buffer);
  const rows: unknown[][] = [];
  wb.getWorksheet('Detail')!.eachRow((r) => rows.push((r.values as unknown[]).slice(1)));
  return rows;
}

beforeAll(async () => {
  await requireServices({ postgres: true });
  db = await openTestPool('t_sched');
  pool = db.pool;
  await migrate(pool, log);
  await pool.query(`INSERT INTO tenants (id, name) VALUES ('acme', 'Acme Haulage'), ('globex', 'Globex')`);
  await pool.query(
    `INSERT INTO vehicles (id, tenant_id, plate) VALUES ('van-1', 'acme', $1), ('truck-9', 'globex', 'G-9')`,
    [PLATE],
  );
  await seedSamples(pool, 'acme', 'van-1', seeded);
  // Another tenant's rows in the same span: never in acme's export.
  await seedSamples(pool, 'globex', 'truck-9', samples(1, Date.parse('2026-02-24T00:00:00Z'), 20));
  await inTenant(pool, 'acme', (c) => setTenantTimeZone(c, 'acme', NY, Date.now()));
  smtp = await startSmtpServer();
  email = new EmailSender({ url: smtp.url, from: FROM, requireTls: true, ca: testCertificate().cert });
  api = await startApiServer({ pool, host: '127.0.0.1', port: 0, log, secretBox: box });
  configureReportExports({ secretBox: box, baseUrl: `${api.url}/exports` });
});

afterAll(async () => {
  await api?.close();
  await email?.close();
  await smtp?.close();
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe('1. weekly 07:00 New York across the DST change', () => {
  it('arrives at 07:00 local before and after the change, with its XLSX attachment', async () => {
    let clock = Date.parse('2026-02-27T15:00:00Z');
    const r = runner(() => clock);
    const s = await scheduleAt(
      {
        name: 'Weekly detail',
        report: { kind: 'detail', format: 'xlsx' },
        recurrence: { frequency: 'weekly', weekday: 1, hour: 7 },
        recipients: ['finance@acme.test'],
        delivery: 'attachment',
      },
      clock,
    );
    expect(new Date(s.nextRunAt!).toISOString()).toBe('2026-03-02T12:00:00.000Z');

    const got: Arrival[] = [];
    for (const [early, due] of [
      ['2026-03-02T11:59:00Z', '2026-03-02T12:00:00Z'], // EST: 07:00 = 12:00 UTC
      ['2026-03-09T10:59:00Z', '2026-03-09T11:00:00Z'], // EDT: 07:00 = 11:00 UTC
    ] as const) {
      clock = Date.parse(early);
      expect(await r.tick()).toEqual({ claimed: 0, sent: 0, failed: 0 });
      expect(arrivalsFor('Weekly detail')).toHaveLength(got.length);
      clock = Date.parse(due);
      expect(await r.tick()).toEqual({ claimed: 1, sent: 1, failed: 0 });
      await waitFor('the report e-mail', () => arrivalsFor('Weekly detail').length === got.length + 1);
      got.push(arrivalsFor('Weekly detail').at(-1)!);
    }
    for (const [i, a] of got.entries()) {
      // The message's Date is the run's (injected) time: 07:00 on New York's wall clock.
      const w = wallClock(a.mail.date!.getTime(), NY);
      expect([w.hour, w.minute], `run ${i + 1}`).toEqual([7, 0]);
      expect(a.rcpt).toEqual(['finance@acme.test']);
      expect(a.mail.attachments).toHaveLength(1);
      expect(a.mail.attachments[0]!.filename).toMatch(/^detail-2026-0\d-\d\d_2026-03-0\d\.xlsx$/);
    }
    // Week 1: local days Mon 23 Feb .. Sun 1 Mar (EST); week 2: Mon 2 .. Sun 8 Mar (23-hour Sunday).
    const periods = [
      [Date.parse('2026-02-23T05:00:00Z'), Date.parse('2026-03-02T05:00:00Z')],
      [Date.parse('2026-03-02T05:00:00Z'), Date.parse('2026-03-09T04:00:00Z')],
    ] as const;
    for (const [i, a] of got.entries()) {
      const rows = await xlsxRows(a);
      expect(rows[0]).toEqual(expect.arrayContaining(['Vehicle', 'Plate', 'Time (UTC)', 'Odometer (km)']));
      const data = rows.slice(1);
      expect(data.length).toBe(countIn(periods[i]![0], periods[i]![1]));
      expect(data.length).toBeGreaterThan(20);
      expect(new Set(data.map((d) => d[0]))).toEqual(new Set(['van-1']));
      expect(data[0]![1]).toBe(PLATE);
      const times = data.map((d) => Date.parse(String(d[2])));
      expect(Math.min(...times)).toBeGreaterThanOrEqual(periods[i]![0]);
      expect(Math.max(...times)).toBeLessThan(periods[i]![1]);
      expect(typeof data[0]![4]).toBe('number'); // latitude as a number
    }
    // The runs, recorded: sent, rows done = the attachment's rows.
    const runs = await callerAs(pool, sessionOf('finance', 'acme')).reportSchedules.runs({
      scheduleId: s.id,
    });
    expect(runs.map((x) => [x.status, new Date(x.dueAt).toISOString(), x.rowsDone])).toEqual([
      ['sent', '2026-03-09T11:00:00.000Z', countIn(periods[1][0], periods[1][1])],
      ['sent', '2026-03-02T12:00:00.000Z', countIn(periods[0][0], periods[0][1])],
    ]);
    expect(runs.every((x) => (x.bytes ?? 0) > 1000)).toBe(true);
    // Disabled again so the later tests' real-time runners leave it alone.
    await pool.query('UPDATE report_schedules SET enabled = false WHERE id = $1', [s.id]);
  });
});

describe('2. signed-link delivery', () => {
  const linkIn = (a: Arrival) =>
    /(http:\/\/127\.0\.0\.1:\d+\/exports\/[A-Za-z0-9_.-]+)/.exec(a.mail.text ?? '')?.[1];

  it('the mailed link downloads the CSV before it expires', async () => {
    const s = await scheduleAt(
      {
        name: 'Daily link',
        report: { kind: 'detail', format: 'csv' },
        recurrence: { frequency: 'daily', hour: 6 },
        recipients: ['auditor@outside.test'],
        delivery: 'link',
        linkTtlHours: 1,
      },
      Date.now(),
    );
    // Run now over week 1's span (a manual run covers the period before; set it to week 1).
    const finance = callerAs(pool, sessionOf('finance', 'acme'));
    const { runId } = await finance.reportSchedules.runNow({ scheduleId: s.id });
    await pool.query(
      `UPDATE report_runs SET period_from = '2026-02-23T05:00:00Z', period_to = '2026-03-02T05:00:00Z' WHERE id = $1`,
      [runId],
    );
    expect(await runner(Date.now).tick()).toMatchObject({ sent: 1, failed: 0 });
    await waitFor('the link e-mail', () => arrivalsFor('Daily link').length === 1);
    const mail = arrivalsFor('Daily link')[0]!;
    expect(mail.mail.attachments).toHaveLength(0);
    const url = linkIn(mail)!;
    expect(url).toBeDefined();

    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(
      /attachment; filename="detail-2026-02-23_2026-03-02\.csv"/,
    );
    const text = await res.text();
    expect(text.endsWith('\r\n')).toBe(true);
    const rows = parse(text, { relax_column_count: false }) as string[][];
    expect(rows[0]![0]).toBe('Vehicle');
    expect(rows.length - 1).toBe(
      countIn(Date.parse('2026-02-23T05:00:00Z'), Date.parse('2026-03-02T05:00:00Z')),
    );
    // The plate with a quote, comma, newline and Ü came through intact.
    expect(rows[1]![1]).toBe(PLATE);
    expect(rows.every((r) => r.length === 12)).toBe(true);
    // The download recorded its rows on the run.
    const { rows: run } = await pool.query('SELECT status, rows_done FROM report_runs WHERE id = $1', [
      runId,
    ]);
    expect({ ...run[0], rows_done: Number(run[0].rows_done) }).toEqual({
      status: 'sent',
      rows_done: rows.length - 1,
    });
  });

  it('a link past its expiry, a tampered signature and a tampered payload are refused with 403', async () => {
    // Mailed two hours ago with a one-hour link: a runner whose clock is two hours behind.
    await pool.query(
      `UPDATE report_schedules SET next_run_at = now() - interval '3 hours' WHERE name = 'Daily link'`,
    );
    expect(await runner(() => Date.now() - 2 * 3_600_000).tick()).toMatchObject({ claimed: 1, sent: 1 });
    await waitFor('the second link e-mail', () => arrivalsFor('Daily link').length === 2);
    const expired = linkIn(arrivalsFor('Daily link')[1]!)!;
    const r1 = await fetch(expired);
    expect(r1.status).toBe(403);
    expect(await r1.json()).toMatchObject({ error: 'link expired', code: 904 });

    const good = signExportToken(box, { tenantId: 'acme', runId: 1, expiresAt: Date.now() + 60_000 });
    const [payload, sig] = good.split('.') as [string, string];
    const flipped = `${payload}.${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`;
    const r2 = await fetch(`${api.url}/exports/${flipped}`);
    expect(r2.status).toBe(403);
    expect(await r2.json()).toMatchObject({ error: 'link invalid', code: 903 });
    // Another tenant named in the payload, the signature kept.
    const forged = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), t: 'globex' }),
    ).toString('base64url');
    const r3 = await fetch(`${api.url}/exports/${forged}.${sig}`);
    expect(r3.status).toBe(403);
    expect(await r3.json()).toMatchObject({ error: 'link invalid' });
    // Signed by another installation's key.
    const other = new SecretBox([{ id: 'k1', key: Buffer.alloc(32, 9) }]);
    const r4 = await fetch(
      `${api.url}/exports/${signExportToken(other, { tenantId: 'acme', runId: 1, expiresAt: Date.now() + 60_000 })}`,
    );
    expect(r4.status).toBe(403);
  });
});

describe('3. two runners racing', () => {
  it('every due run is sent once', async () => {
    const now = Date.now();
    const names = ['Race A', 'Race B', 'Race C', 'Race D'];
    for (const name of names)
      await scheduleAt(
        {
          name,
          report: { kind: 'carbon', format: 'csv' },
          recurrence: { frequency: 'daily', hour: 0 },
          recipients: ['race@acme.test', 'race2@acme.test'],
          delivery: 'attachment',
        },
        now,
      );
    await pool.query(
      `UPDATE report_schedules SET next_run_at = now() - interval '1 minute' WHERE name LIKE 'Race %'`,
    );
    // Two processes: each its own pool.
    const other = await openPool({ url: POSTGRES_URL, schema: db.schema, max: 3 });
    try {
      const [a, b] = await Promise.all([runner(Date.now).tick(), runner(Date.now, other).tick()]);
      expect(a.claimed + b.claimed).toBe(names.length);
      expect(a.sent + b.sent).toBe(names.length);
      // And a third pass over the same instant finds nothing to do.
      expect(await runner(Date.now).tick()).toMatchObject({ claimed: 0, sent: 0 });
    } finally {
      await other.end();
    }
    await waitFor(
      'the race e-mails',
      () => smtp.arrivals.filter((x) => x.mail.subject?.startsWith('Race')).length >= 8,
    );
    await new Promise((r) => setTimeout(r, 300));
    const race = smtp.arrivals.filter((x) => x.mail.subject?.startsWith('Race'));
    expect(race).toHaveLength(names.length * 2);
    expect(new Set(race.map((x) => x.messageId)).size).toBe(names.length * 2);
    for (const name of names)
      expect(
        race
          .filter((x) => x.mail.subject?.startsWith(`${name}:`))
          .map((x) => x.rcpt[0])
          .sort(),
      ).toEqual(['race2@acme.test', 'race@acme.test']);
    const { rows } = await pool.query(
      `SELECT count(*)::int AS n FROM report_runs r JOIN report_schedules s ON s.id = r.schedule_id WHERE s.name LIKE 'Race %'`,
    );
    expect(rows[0].n).toBe(names.length);
  });
});

describe('4. API and CLI', () => {
  it('exportLink streams any export to a signed-in user; the run shows its progress', async () => {
    const finance = callerAs(pool, sessionOf('finance', 'acme'));
    const from = Date.parse('2026-02-20T00:00:00Z');
    const to = Date.parse('2026-03-20T00:00:00Z');
    const link = await finance.reportSchedules.exportLink({
      report: { kind: 'detail', format: 'xlsx' },
      from,
      to,
    });
    expect(link.expiresAt - Date.now()).toBeLessThanOrEqual(15 * 60_000);
    const res = await fetch(link.url);
    expect(res.status).toBe(200);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(Buffer.from(await res.arrayBuffer()) as unknown as ExcelJS.Buffer);
    expect(wb.getWorksheet('Detail')!.rowCount - 1).toBe(countIn(from, to));
    const [run] = await finance.reportSchedules.runs({ limit: 1 });
    expect(run).toMatchObject({
      id: link.runId,
      trigger: 'api',
      status: 'ready',
      rowsDone: countIn(from, to),
    });
    // The planner's estimate is there (not exact: an estimate).
    expect(run!.rowsTotal).toBeGreaterThan(0);
  });

  it('refuses bad schedules with field messages and keeps tenants apart', async () => {
    const finance = callerAs(pool, sessionOf('finance', 'acme'));
    const base = {
      name: 'x',
      report: { kind: 'detail' as const, format: 'csv' as const },
      recurrence: { frequency: 'daily' as const, hour: 7 },
      recipients: ['a@acme.test'],
      delivery: 'attachment' as const,
    };
    await expect(
      finance.reportSchedules.create({ schedule: { ...base, report: { kind: 'detail', format: 'pdf' } } }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/xlsx or csv, not pdf/) });
    await expect(
      finance.reportSchedules.create({ schedule: { ...base, recurrence: { frequency: 'weekly', hour: 7 } } }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/weekday/) });
    await expect(
      finance.reportSchedules.create({ schedule: { ...base, recipients: ['not-an-address'] } }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    const admin = callerAs(pool, sessionOf('admin', 'acme'));
    await expect(admin.reportSchedules.setTimeZone({ timeZone: 'Mars/Base' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    const created = await finance.reportSchedules.create({ schedule: base });
    expect(created.timeZone).toBe(NY);
    const globex = callerAs(pool, sessionOf('admin', 'globex'));
    expect((await globex.reportSchedules.list()).schedules).toEqual([]);
    await expect(globex.reportSchedules.runNow({ scheduleId: created.id })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await finance.reportSchedules.delete({ scheduleId: created.id });
  });

  it('fleet-cloud reports schedule create / list and reports export (progress on stderr)', async () => {
    const cli = async (...args: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      process.exitCode = undefined;
      await buildCli({ out: (l) => out.push(l), err: (l) => err.push(l) })
        .exitOverride()
        .parseAsync(['node', 'fleet-cloud', '--database-url', POSTGRES_URL, '--schema', db.schema, ...args]);
      const code = process.exitCode as number | undefined;
      process.exitCode = undefined;
      return { code, out, err };
    };
    const created = await cli(
      'reports',
      'schedule',
      'create',
      '--tenant',
      'acme',
      '--name',
      'From the CLI',
      '--report',
      'ifta',
      '--format',
      'pdf',
      '--every',
      'quarterly',
      '--day',
      '2',
      '--at',
      '06:30',
      '--to',
      'cfo@acme.test',
      '--json',
    );
    expect(created.code ?? 0).toBe(0);
    const s = JSON.parse(created.out[0]!);
    expect(s.recurrence).toMatchObject({ frequency: 'quarterly', dayOfMonth: 2, hour: 6, minute: 30 });
    const next = wallClock(s.nextRunAt, NY);
    expect([next.month % 3, next.day, next.hour, next.minute]).toEqual([1, 2, 6, 30]);
    const listed = await cli('reports', 'schedule', 'list', '--tenant', 'acme');
    expect(listed.out.join('\n')).toMatch(
      /From the CLI: ifta pdf, quarterly day 2 06:30, attachment to cfo@acme\.test/,
    );
    const bad = await cli('reports', 'schedule', 'timezone', 'Nowhere/Zone', '--tenant', 'acme');
    expect(bad.code).toBe(2);
    expect(bad.err[0]).toMatch(/^E902: time zone "Nowhere\/Zone"/);

    const file = path.join(dir, 'detail.csv');
    const exported = await cli(
      'reports',
      'export',
      '--tenant',
      'acme',
      '--report',
      'detail',
      '--from',
      '2026-02-01',
      '--to',
      '2026-04-01',
      '--out',
      file,
    );
    expect(exported.code ?? 0).toBe(0);
    expect(exported.out[0]).toBe(`${seeded.length} rows written to ${file}`);
    expect(exported.err.at(-1)).toMatch(new RegExp(`^rows ${seeded.length} / ~\\d+$`));
  });
});

describe('5. a restart', () => {
  it('takes a run again once its dead runner’s lease is over, never while it holds', async () => {
    await pool.query('UPDATE report_schedules SET enabled = false');
    const s = await scheduleAt(
      {
        name: 'Crash',
        report: { kind: 'carbon', format: 'csv' },
        recurrence: { frequency: 'daily', hour: 0 },
        recipients: ['crash@acme.test'],
        delivery: 'attachment',
        enabled: false,
      },
      Date.now(),
    );
    // A runner claimed this instant and died mid-run: the run is `running` under a 10-minute lease.
    const due = Date.now() - 60_000;
    await pool.query(
      `INSERT INTO report_runs (tenant_id, schedule_id, trigger, due_at, kind, params, format, period_from, period_to,
                                status, attempts, lease_until)
       VALUES ('acme', $1, 'schedule', $2, 'carbon', '{}', 'csv', $3, $2, 'running', 1, $4)`,
      [s.id, new Date(due), new Date(due - 86_400_000), new Date(Date.now() + 10 * 60_000)],
    );
    expect(await runner(Date.now).tick()).toEqual({ claimed: 0, sent: 0, failed: 0 });
    // Restarted 11 minutes later: the lease is over, the run goes out (once).
    expect(await runner(() => Date.now() + 11 * 60_000).tick()).toEqual({ claimed: 0, sent: 1, failed: 0 });
    expect(await runner(() => Date.now() + 12 * 60_000).tick()).toEqual({ claimed: 0, sent: 0, failed: 0 });
    await waitFor('the crash e-mail', () => arrivalsFor('Crash').length === 1);
    const { rows } = await pool.query('SELECT status, attempts FROM report_runs WHERE schedule_id = $1', [
      s.id,
    ]);
    expect(rows).toEqual([{ status: 'sent', attempts: 2 }]);
  });
});
