/**
 * Maintenance in Chromium against the real stack (production build, PostgreSQL, Mosquitto, a
 * simulated vehicle through a real agent), issue 18 must-show 4 (the browser half) and 7:
 *
 *   manager: /maintenance shows the vehicle overdue with its forecast → "Open work order" → the
 *   work order page → a part added, its cost shown; axe (WCAG 2.1 AAA) on every new page.
 *   driver (phone): /driver → offline → pre-trip inspection with a defect → waits in IndexedDB,
 *   nothing in PostgreSQL → online → exactly one report and one work order.
 *
 * The service history is seeded as the ingest stores it (telemetry_minute rows for past days:
 * the live simulator only drives today).
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../cloud/src/auth/auth-service.ts';
import { expectNoAxeViolations } from './support/axe.ts';
import { waitUntil } from './support/services.ts';
import { hydrated, PHONE, type StackSession, startStackSession } from './support/stack-session.ts';

const DAY = 86_400_000;

describe('maintenance pages and the offline defect report (real stack, production build)', () => {
  let session: StackSession;
  let db: pg.Pool;
  let webUrl: string;
  const manager = { email: '', password: `pw-${randomBytes(8).toString('hex')}` };
  const driver = { email: '', password: `pw-${randomBytes(8).toString('hex')}` };

  const count = async (sql: string) => (await db.query<{ n: number }>(sql)).rows[0]!.n;

  beforeAll(async () => {
    session = await startStackSession({ name: 'maint', services: 'real' });
    db = session.db;
    webUrl = session.stack.webUrl!;
    const { tenantId, run } = session;
    manager.email = `manager-${run}@fleet.test`;
    driver.email = `driver-${run}@fleet.test`;
    await waitUntil(
      'the simulated vehicle to register',
      async () => (await db.query("SELECT 1 FROM vehicles WHERE id = 'veh-001'")).rowCount,
      (n) => n === 1,
    );
    await createUser(db, { tenantId, name: 'Mara Manager', role: 'fleet_manager', ...manager });
    await createUser(db, { tenantId, name: 'Dana Driver', role: 'driver', vehicleId: 'veh-001', ...driver });
    // 20 past days of 60 minutes at 10 km/h: 200 km against a 150 km program → overdue.
    const start = Math.floor(Date.now() / DAY) * DAY - 25 * DAY;
    await db.query(
      `INSERT INTO telemetry_minute (tenant_id, vehicle_id, minute, samples, speed_n, speed_sum, rpm_n, rpm_max, rpm_sum)
       SELECT $1, 'veh-001', to_timestamp($2 / 1000.0) + make_interval(days => d, mins => m + 480),
              60, 60, 600, 60, 1500, 90000
         FROM generate_series(0, 19) d, generate_series(0, 59) m`,
      [tenantId, start],
    );
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO service_programs (tenant_id, name, interval_km, interval_months, soon_km, starts_at)
       VALUES ($1, 'Oil and filter', 150, 12, 20, to_timestamp($2 / 1000.0)) RETURNING id`,
      [tenantId, start],
    );
    await db.query(
      `INSERT INTO service_program_targets (tenant_id, program_id, vehicle_id) VALUES ($1, $2, 'veh-001')`,
      [tenantId, rows[0]!.id],
    );
  }, 300_000);

  afterAll(() => session?.stop());

  it('a manager sees the overdue service, opens its work order and costs it; axe on every page', async () => {
    const { context, page } = await session.signIn(manager.email, manager.password);
    await page
      .getByRole('navigation', { name: 'Dashboard' })
      .getByRole('link', { name: 'Maintenance' })
      .click();
    await page.waitForURL(`${webUrl}/maintenance`);
    const row = page.locator('[data-testid="due-list"] tr[data-status="overdue"]');
    await row.waitFor({ timeout: 30_000 });
    expect(await row.textContent()).toMatch(/veh-001.*Oil and filter.*Overdue.*Distance/);
    await expectNoAxeViolations(page, '/maintenance');

    const open = row.getByRole('button', { name: /Open a work order/ });
    await hydrated(open);
    await open.click();
    const link = row.getByRole('link', { name: /^Work order \d+$/ });
    await link.waitFor({ timeout: 30_000 });
    expect(await page.getByRole('status').textContent()).toMatch(/Work order \d+ opened for veh-001/);
    expect(
      await count(
        "SELECT count(*)::int AS n FROM work_orders WHERE vehicle_id = 'veh-001' AND source_kind = 'service'",
      ),
    ).toBe(1);
    await link.click();
    await page.waitForURL(/\/maintenance\/work-orders\/\d+$/);
    await page.getByTestId('work-order').waitFor();
    expect(await page.getByTestId('work-order-status').textContent()).toBe('Open');

    const add = page.getByRole('button', { name: 'Add line' });
    await hydrated(add);
    await page.getByLabel('Description').fill('Oil 5W-30, litres');
    await page.getByLabel('Quantity').fill('6');
    await page.getByLabel('Unit cost (EUR)').fill('12.40');
    await add.click();
    await page.getByTestId('work-order-total').filter({ hasText: '74.40 EUR' }).waitFor({ timeout: 30_000 });
    await page.getByLabel('Quantity').fill('0');
    await page.getByLabel('Description').fill('Nothing');
    await add.click();
    await page.locator('#line-quantity-error').waitFor();
    await expectNoAxeViolations(page, '/maintenance/work-orders/[id] with a line and a field error');

    for (const [path, name] of [
      ['/maintenance/work-orders', 'Work orders, newest first'],
      ['/maintenance/programs', 'Service programs'],
    ] as const) {
      await page.goto(`${webUrl}${path}`);
      await page.getByRole('table', { name }).waitFor({ timeout: 30_000 });
      await expectNoAxeViolations(page, path);
    }
    await context.close();
  });

  it("a driver's inspection filed offline is sent once back online and opens one work order", async () => {
    const { context, page } = await session.signIn(driver.email, driver.password, PHONE);
    await page.waitForURL(`${webUrl}/driver`);
    const submit = page.getByRole('button', { name: 'Submit inspection' });
    await hydrated(submit);
    await page.getByTestId('defect-outbox-empty').waitFor();

    await context.setOffline(true);
    await page.getByText('Offline: showing the data saved on this phone').waitFor();
    await page.getByLabel('Lights and indicators').check();
    await page.getByLabel('Note for the workshop').fill('Left brake light out');
    // The keyboard (the cards above it re-render as their data loads, so a pointer may land on a moved label).
    await submit.press('Enter');
    const waiting = page.locator('[data-testid="defect-outbox"] li[data-state="waiting"]');
    await waiting.waitFor();
    expect(await waiting.textContent()).toMatch(/Waiting to sync.*inspection with 1 defect$/);
    expect(await page.getByTestId('announcer').textContent()).toMatch(/waiting to sync/);
    expect(await count('SELECT count(*)::int AS n FROM defect_reports')).toBe(0);
    await expectNoAxeViolations(page, '/driver offline with a queued inspection');

    await context.setOffline(false);
    await waitUntil(
      'the defect report in PostgreSQL',
      () => count('SELECT count(*)::int AS n FROM defect_reports'),
      (n) => n >= 1,
      30_000,
    );
    await page.getByTestId('defect-outbox-empty').waitFor({ timeout: 30_000 });
    const { rows } = await db.query<{ client_id: string; defects: number; title: string; notes: string }>(
      `SELECT r.client_id, r.defects, o.title, o.notes
         FROM defect_reports r JOIN work_orders o ON o.id = r.work_order_id`,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ defects: 1, title: 'Defect reported: lights' });
    expect(rows[0]!.notes).toContain('Left brake light out');

    // The same report again (an answer lost on the way back): still one report, one work order.
    const status = await page.evaluate(async (clientId) => {
      const res = await fetch('/api/trpc/maintenance.reportDefect', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          clientId,
          vehicleId: 'veh-001',
          ts: Date.now() - 60_000,
          items: [{ item: 'lights', ok: false }],
        }),
      });
      return res.status;
    }, rows[0]!.client_id);
    expect(status).toBe(200);
    await page.reload();
    await page.getByTestId('defect-outbox-empty').waitFor();
    expect(await count('SELECT count(*)::int AS n FROM defect_reports')).toBe(1);
    expect(await count("SELECT count(*)::int AS n FROM work_orders WHERE source_kind = 'defect'")).toBe(1);
    await context.close();
  });
});
