/**
 * Issue 17 §5-§6 and must-show 7 in a browser: /reports runs every report kind (cost against
 * budget, consumption against the class median, idling, drivers, carbon, IFTA), the consumption
 * chart's table alternative holds exactly the numbers of the CSV the page downloads (one query
 * behind both), a report is saved and listed, and axe finds 0 violations in every state.
 *
 * The fleet's history (minute rollups, purchases, idle events, a day of IFTA distance) is written
 * as the ingest and the fuel imports store it; no simulated vehicle runs, to keep this short.
 *
 * Schedules (§6) in the same page: an empty form names its wrong fields, a weekly detail schedule
 * in the tenant's zone (set on the page) is listed with its next run on that zone's wall clock, a
 * run now reaches a real SMTP server (started here, the runner looking every second) with a signed
 * link whose CSV holds every raw sample, the page's own download link serves the same file, and
 * the builder's streamed detail export downloads it with its progress shown; a fleet manager
 * (no reports:schedule, no reports:read) sees neither.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type pg from 'pg';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../cloud/src/auth/auth-service.ts';
import { insertVehicleEvents } from '../../cloud/src/db/queries/insert-vehicle-events.ts';
import { startSmtpServer, testCertificate } from '../../cloud/test/support/notify-servers.ts';
import { expectNoAxeViolations } from './support/axe.ts';
import { hydrated, type StackSession, startStackSession } from './support/stack-session.ts';

const DAY = 86_400_000;
/** The cloud's RFC 4180 reader (csv-parse is the cloud package's dependency, not the root's). */
const { parse } = createRequire(path.join(import.meta.dirname, '../../cloud/package.json'))(
  'csv-parse/sync',
) as {
  parse: (text: string) => string[][];
};

describe('/reports', () => {
  let session: StackSession;
  let db: pg.Pool;
  let page: Page;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  const now = Date.now();
  /** Raw samples of VAN-A the detail exports carry (10 s apart while it drove). */
  const SAMPLES = 300;
  /** Three days ago at 08:00 UTC: both vans drive then, so they share a week. */
  const drove = Math.floor(now / DAY) * DAY - 3 * DAY + 8 * 3_600_000;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    session = await startStackSession({
      name: 'reports',
      services: 'real',
      vehicles: 0,
      stack: {
        cloudEnv: {
          FLEET_SMTP_URL: smtp.url,
          FLEET_SMTP_CA_FILE: testCertificate().caFile,
          FLEET_SMTP_FROM: 'Fleet <reports@fleet.test>',
          // A run now is taken within a second, not the default 30.
          FLEET_REPORT_SCHEDULE_MS: '1000',
        },
      },
    });
    db = session.db;
    const t = session.tenantId;
    await db.query(
      `INSERT INTO vehicles (id, tenant_id, plate, vehicle_class, fuel_type, model_year, monthly_fuel_budget)
       VALUES ('van-a', $1, 'VAN-A', 'van', 'diesel', 2020, 400), ('van-b', $1, 'VAN-B', 'van', 'diesel', 2021, NULL)`,
      [t],
    );
    // 100 km each (minute rollups at 60 km/h); VAN-A bought 9 L, VAN-B 11 L: 9 and 11 L/100 km, median 10.
    for (const v of ['van-a', 'van-b'])
      await db.query(
        `INSERT INTO telemetry_minute (tenant_id, vehicle_id, minute, samples, speed_n, speed_sum, rpm_n)
         SELECT $1, $2, to_timestamp($3 / 1000.0) + i * interval '1 minute', 1, 1, 60, 0 FROM generate_series(0, 99) i`,
        [t, v, drove],
      );
    await db.query(
      `INSERT INTO fuel_transactions (tenant_id, vehicle_id, source, external_id, ts, litres, amount, currency, fuel_type)
       VALUES ($1, 'van-a', 'csv', 'a-1', $2, 9, 15.3, 'EUR', 'diesel'), ($1, 'van-b', 'csv', 'b-1', $2, 11, 18.7, 'EUR', 'diesel')`,
      [t, new Date(drove + 2 * 3_600_000)],
    );
    await db.query('SELECT telemetry_ensure_partitions(ARRAY[$1::date])', [
      new Date(drove).toISOString().slice(0, 10),
    ]);
    await db.query(
      `INSERT INTO telemetry (tenant_id, vehicle_id, seq, ts, lat, lon, speed_kmh)
       SELECT $1, 'van-a', i, to_timestamp($2 / 1000.0) + i * interval '10 seconds', 39.7, -104.9, 60
         FROM generate_series(1, $3) i`,
      [t, drove, SAMPLES],
    );
    const driverId = await createUser(db, {
      tenantId: t,
      email: `ada-${session.run}@fleet.test`,
      name: 'Ada Driver',
      role: 'driver',
      password: `pw-${session.run}-long-enough`,
    });
    await db.query(
      `INSERT INTO vehicle_assignments (tenant_id, vehicle_id, user_id, starts_at, source, created_by)
       VALUES ($1, 'van-a', $2, $3, 'admin', 'test')`,
      [t, driverId, new Date(drove - DAY)],
    );
    const c = await db.connect();
    try {
      await insertVehicleEvents(c, [
        {
          tenantId: t,
          vehicleId: 'van-a',
          event: {
            id: 1,
            type: 'long_idle',
            start: drove + 3_600_000,
            end: drove + 2 * 3_600_000,
            lat: null,
            lon: null,
            driverId: null,
            confidence: 0.95,
            modelVersion: null,
            details: { durationS: 3600, fuelL: 1.2 },
          },
        },
        {
          tenantId: t,
          vehicleId: 'van-a',
          event: {
            id: 2,
            type: 'harsh_brake',
            start: drove + 30 * 60_000,
            end: drove + 30 * 60_000,
            lat: null,
            lon: null,
            driverId: null,
            confidence: 0.9,
            modelVersion: null,
            details: {},
          },
        },
      ]);
    } finally {
      c.release();
    }
    await db.query(
      `INSERT INTO fuel_budgets (tenant_id, scope, scope_key, month, amount, currency, updated_by)
       VALUES ($1, 'fleet', '', date_trunc('month', now() AT TIME ZONE 'UTC')::date, 500, 'EUR', 'test')`,
      [t],
    );
    // A day of IFTA distance in the last quarter (Colorado and Wyoming) for the return.
    const d = new Date(now);
    const q = Math.floor(d.getUTCMonth() / 3);
    const lastQuarterDay = new Date(Date.UTC(d.getUTCFullYear(), (q - 1) * 3, 10)).toISOString().slice(0, 10);
    await db.query(
      `INSERT INTO vehicle_day_distance (tenant_id, vehicle_id, day, odometer_start_km, odometer_end_km, gps_m, by_jurisdiction)
       VALUES ($1, 'van-a', $2, 1000, 1030, 30000, '{"CO": 20000, "WY": 10000}')`,
      [t, lastQuarterDay],
    );
    ({ page } = await session.signIn(session.stack.admin.email, session.stack.admin.password));
  }, 300_000);

  afterAll(async () => {
    await session?.stop();
    await smtp?.close();
  });

  async function runKind(kind: string) {
    await page.locator('#report-kind').selectOption(kind);
    if (kind !== 'ifta') await page.locator('#report-period').selectOption('last-30-days');
    await page.getByRole('button', { name: 'Run report' }).click();
    await page.locator(`section[data-report="${kind}"]`).waitFor({ timeout: 15_000 });
  }

  it('runs each report; the chart table equals the CSV; saves a report; axe-clean throughout', async () => {
    const t0 = Date.now();
    const steps: string[] = [];
    const step = (what: string) => steps.push(`${what} ${Date.now() - t0} ms`);
    await page.goto(`${session.stack.webUrl}/reports`);
    await hydrated(page.getByRole('button', { name: 'Run report' }));
    await expectNoAxeViolations(page, '/reports before a run');
    step('page hydrated and axe-checked');

    for (const kind of ['cost', 'idling', 'drivers', 'carbon', 'ifta', 'consumption']) {
      await runKind(kind);
      const rows = page.locator('table[data-table="report-rows"] tbody tr');
      expect(await rows.count(), `${kind} has rows`).toBeGreaterThan(0);
      // Every chart comes with its table alternative, row for row.
      const chartGroups = await page.locator('figure.chart svg > g:not(.legend):not(.axis)').count();
      expect(await page.locator('table[data-table="chart-data"] tbody tr').count(), kind).toBe(chartGroups);
      await expectNoAxeViolations(page, `/reports showing ${kind}`);
      step(`${kind} run and axe-checked`);
    }
    const text = (l: string) => page.locator(l).allTextContents();
    expect(await text('table[data-table="report-rows"] tbody th')).toEqual(['VAN-A', 'VAN-B']);

    // The consumption chart's table alternative and the downloaded CSV: the same numbers.
    const chartTable = await page
      .locator('table[data-table="chart-data"] tbody tr')
      .evaluateAll((trs) =>
        trs.map((tr) => [
          tr.querySelector('th')!.textContent!,
          ...Array.from(tr.querySelectorAll('td'), (td) => td.textContent!),
        ]),
      );
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download CSV' }).click(),
    ]);
    const csv = parse(readFileSync((await download.path())!, 'utf8'));
    const header = csv[0]!;
    const col = (name: string) => header.indexOf(name);
    const fromCsv = csv
      .slice(1)
      .map((r) => [
        `${r[col('Vehicle')]} · ${r[col('Week of (Monday)')]}`,
        r[col('L/100 km')],
        r[col('Class median L/100 km')],
      ]);
    const num = (s: string) => Number(s.replaceAll(',', ''));
    expect(chartTable.map(([label, a, b]) => [label, num(a!), num(b!)])).toEqual(
      fromCsv.map(([label, a, b]) => [label, Number(a), Number(b)]),
    );
    expect(fromCsv.map((r) => [r[1], r[2]])).toEqual([
      ['9', '10'],
      ['11', '10'],
    ]);

    // Saved: listed, and axe-clean with the list shown.
    await page.locator('#report-save-name').fill('Vans this month');
    await page.getByRole('button', { name: 'Save report' }).click();
    await page.locator('tr[data-saved-report="Vans this month"]').waitFor();
    await expectNoAxeViolations(page, '/reports with a saved report');
    step('saved');
    console.log(`reports-page (each state axe-checked): ${steps.join(', ')}`);
  });
  it('schedules: field errors, a weekly schedule in the tenant zone, run now to SMTP with its attachment, a signed link, a streamed detail export', async () => {
    const t0 = Date.now();
    const steps: string[] = [];
    const step = (what: string) => steps.push(`${what} ${Date.now() - t0} ms`);
    const section = page.locator('section[data-section="report-schedules"]');
    const create = section.getByRole('button', { name: 'Create schedule' });
    await hydrated(create);

    // The empty form (no name, no recipients): each field says why, nothing is sent.
    await section.locator('#schedule-recipients').fill('');
    await create.click();
    await expect
      .poll(() => section.locator('#schedule-name-error').textContent())
      .toContain('Name the schedule');
    expect(await section.locator('#schedule-recipients').getAttribute('aria-describedby')).toBe(
      'schedule-recipients-error',
    );
    expect(await section.locator('#schedule-recipients-error').textContent()).toContain('at least one');
    await expectNoAxeViolations(page, '/reports schedules with field errors');
    step('field errors, axe-checked');

    // The administrator sets the tenant's zone; the new schedule runs at 07:00 on Mondays there.
    const zone = 'America/New_York';
    await section.locator('#schedule-zone').fill(zone);
    await section.getByRole('button', { name: 'Set time zone' }).click();
    await expect.poll(() => section.getByTestId('tenant-zone').textContent()).toBe(zone);
    const recipient = `finance-${session.run}@fleet.test`;
    await section.locator('#schedule-name').fill('Weekly detail');
    await section.locator('#schedule-kind').selectOption('detail');
    await section.locator('#schedule-format').selectOption('csv');
    await section.locator('#schedule-frequency').selectOption('weekly');
    await section.locator('#schedule-weekday').selectOption('1');
    await section.locator('#schedule-time').fill('07:00');
    await section.locator('#schedule-recipients').fill(recipient);
    await section.locator('#schedule-delivery').selectOption('attachment');
    const created = Date.now();
    await create.click();
    const row = section.locator('tr[data-schedule="Weekly detail"]');
    await row.waitFor({ timeout: 15_000 });
    expect(await row.locator('td').nth(1).textContent()).toBe(`Weekly on Monday at 07:00 (${zone})`);
    const next = Date.parse((await row.locator('td[data-next-run] time').getAttribute('datetime'))!);
    // On New York's wall clock the next run is a Monday 07:00, within the coming week.
    const wall = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    }).format(next);
    expect(wall).toBe('Mon 07:00');
    expect(next).toBeGreaterThan(created);
    expect(next - created).toBeLessThanOrEqual(7 * DAY);
    expect(await row.locator('td[data-next-run]').textContent()).toMatch(/^Mon, .* 07:00 America\/New_York$/);
    step('schedule created and listed');

    // Run now: the runner (every second here) streams the export to a file and mails it.
    await row.getByRole('button', { name: 'Run now Weekly detail' }).click();
    const run = section.locator('tr[data-run]').first();
    await run.waitFor();
    await expect.poll(() => run.getAttribute('data-status'), { timeout: 20_000 }).toMatch(/^(sent|failed)$/);
    expect(await run.locator('td').nth(2).textContent()).toMatch(/^sent \([\d,]+ bytes\)$/);
    const runId = Number(await run.getAttribute('data-run'));
    const bar = run.getByRole('progressbar', { name: `Run ${runId} progress` });
    expect(await bar.evaluate((el) => (el as HTMLProgressElement).value)).toBe(SAMPLES);
    expect((await run.locator('td').nth(3).textContent())!.trim()).toMatch(
      new RegExp(`^${SAMPLES} of ~[\\d,]+ rows$`),
    );
    await expect.poll(() => smtp.arrivals.length, { timeout: 10_000 }).toBe(1);
    const mail = smtp.arrivals[0]!;
    expect(mail.rcpt).toEqual([recipient]);
    expect(mail.mail.subject).toMatch(/^Weekly detail: detail-.*\.csv$/);
    const attached = mail.mail.attachments[0]!;
    expect(attached.filename).toMatch(/^detail-.*\.csv$/);
    const fromMail = parse(attached.content.toString('utf8'));
    expect(fromMail).toHaveLength(SAMPLES + 1);
    expect(fromMail.slice(1).every((r) => r[1] === 'VAN-A')).toBe(true);
    step('run now sent, attachment read back');

    const samples = async (url: string) => {
      const res = await fetch(url);
      expect(res.status, url).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/csv');
      return parse(await res.text());
    };

    // The page's signed link to that run's file (made anew): the same rows.
    await run.getByRole('button', { name: `Download link for run ${runId}` }).click();
    const href = await run.locator('a[data-download-link]').getAttribute('href');
    expect(await samples(href!)).toEqual(fromMail);
    await expectNoAxeViolations(page, '/reports schedules with a finished run');
    step('download link read back, axe-checked');

    // The builder's detail export streams through a link; the page shows its progress.
    await page.locator('#report-period').selectOption('last-7-days');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export detail (CSV)' }).click(),
    ]);
    const exported = parse(readFileSync((await download.path())!, 'utf8'));
    expect(exported).toEqual(fromMail);
    const status = page.locator('section[data-section="detail-export"] [data-export-phase]');
    await expect.poll(() => status.getAttribute('data-export-phase'), { timeout: 15_000 }).toBe('finished');
    expect(await status.locator('[data-rows-done]').textContent()).toBe(String(SAMPLES));
    expect(
      await page.getByRole('progressbar', { name: 'Detail export progress' }).getAttribute('value'),
    ).toBe(String(SAMPLES));
    step('detail export streamed');

    // A fleet manager reads fleet reports but may not schedule nor file: neither part is shown.
    const manager = { email: `max-${session.run}@fleet.test`, password: `pw-${session.run}-manager-long` };
    await createUser(db, {
      tenantId: session.tenantId,
      name: 'Max Manager',
      role: 'fleet_manager',
      ...manager,
    });
    const signedIn = await session.signIn(manager.email, manager.password);
    await signedIn.page.goto(`${session.stack.webUrl}/reports`);
    await hydrated(signedIn.page.getByRole('button', { name: 'Run report' }));
    expect(await signedIn.page.locator('section[data-section="report-schedules"]').count()).toBe(0);
    expect(await signedIn.page.getByRole('button', { name: 'Export detail (CSV)' }).count()).toBe(0);
    await signedIn.context.close();
    step('hidden from a fleet manager');
    console.log(`reports-page schedules: ${steps.join(', ')}`);
  });
});
