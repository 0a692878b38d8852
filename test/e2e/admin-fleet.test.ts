/**
 * Running the fleet without SQL, in the browser (issue 15), against the real stack (simulated
 * vehicle -> agent -> Mosquitto -> cloud -> PostgreSQL -> tRPC -> Next.js production build) in
 * Debian's Chromium: an admin creates a group, adds a vehicle with a tank calibration (a table
 * that does not rise is refused beside its row first), imports drivers from a CSV file (a bad
 * row reported by line), assigns a driver, and the driver checks in to a vehicle of their group
 * from the PWA; the assignment history shows both. A driver reaches no admin procedure. axe-core
 * (WCAG 2.1 A/AA/AAA + best practices) finds nothing on any page or state visited.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../cloud/src/auth/auth-service.ts';
import type { Stack } from '../../scripts/lib/stack.ts';
import { expectNoAxeViolations } from './support/axe.ts';
import { PHONE, type StackSession, startStackSession } from './support/stack-session.ts';

describe('fleet administration (real stack, production build)', () => {
  let session: StackSession;
  let run: string;
  const driver = { email: '', password: `pw-${randomBytes(12).toString('hex')}` };
  let page: Page;
  let admin: BrowserContext;
  let stack: Stack;
  let db: pg.Pool;

  beforeAll(async () => {
    session = await startStackSession({ name: 'admin', services: 'real' });
    ({ run, stack, db } = session);
    driver.email = `fay-${run}@fleet.test`;
    await createUser(db, { tenantId: session.tenantId, name: 'Fay Driver', role: 'driver', ...driver });
    ({ context: admin, page } = await session.signIn(stack.admin.email, stack.admin.password));
  }, 600_000);

  afterAll(async () => {
    await admin?.close();
    await session?.stop();
  });

  const nav = () => page.getByRole('navigation', { name: 'Dashboard' });

  it('an admin sees the administration links and creates a group', async () => {
    await nav().getByRole('link', { name: 'Groups' }).waitFor({ timeout: 30_000 });
    for (const name of ['Vehicles', 'Drivers', 'Import'])
      expect(await nav().getByRole('link', { name }).count()).toBe(1);
    await nav().getByRole('link', { name: 'Groups' }).click();
    await page.getByRole('heading', { level: 1, name: 'Groups' }).waitFor();
    await expectNoAxeViolations(page, 'groups, empty');
    await page.getByRole('button', { name: 'Create group' }).click();
    await page.locator('#group-name-error').waitFor();
    await expectNoAxeViolations(page, 'groups, a missing name');
    await page.getByLabel('Name', { exact: true }).fill('Depot North');
    await page.getByRole('button', { name: 'Create group' }).click();
    await page.locator('tr[data-group-id]').filter({ hasText: 'Depot North' }).waitFor();
    await expectNoAxeViolations(page, 'groups with one');
  });

  it('adds a vehicle with a calibration table; a table that does not rise is refused beside its row', async () => {
    await page.goto(`${stack.webUrl}/admin/vehicles/new`);
    await page.getByLabel('Plate').fill(`E2E-${run}`.toUpperCase());
    await page.getByLabel('Tank capacity (litres)').fill('300');
    await page.getByLabel('Group').selectOption({ label: 'Depot North' });
    for (const [pct, litres] of [
      ['0', '0'],
      ['50', '160'],
      ['60', '150'],
      ['100', '300'],
    ]) {
      await page.getByRole('button', { name: 'Add a row' }).click();
      const row = await page.locator('.calibration-table tbody tr').count();
      await page.getByLabel(`Row ${row} sender %`).fill(pct!);
      await page.getByLabel(`Row ${row} litres`).fill(litres!);
    }
    await page.getByRole('button', { name: 'Add vehicle' }).click();
    const rowError = page.locator('#cal-2-error');
    await expect(rowError.textContent()).resolves.toContain(
      "row 3: litres must be greater than row 2's (160)",
    );
    expect(await page.getByLabel('Row 3 litres').getAttribute('aria-invalid')).toBe('true');
    await expectNoAxeViolations(page, 'new vehicle with a refused calibration');
    expect(
      (await db.query('SELECT 1 FROM vehicles WHERE plate = $1', [`E2E-${run}`.toUpperCase()])).rowCount,
    ).toBe(0);
    await page.getByLabel('Row 3 litres').fill('190');
    await page.getByRole('button', { name: 'Add vehicle' }).click();
    await page.waitForURL((u) => u.pathname.startsWith('/admin/vehicles/veh-'), { timeout: 30_000 });
    await page.getByText(/Vehicle veh-[0-9a-f]+ added\./).waitFor();
    await expectNoAxeViolations(page, 'vehicle page');
    const { rows } = await db.query<{ tank_calibration: unknown; group: string }>(
      `SELECT v.tank_calibration, g.name AS group FROM vehicles v JOIN vehicle_groups g ON g.id = v.group_id
        WHERE v.plate = $1`,
      [`E2E-${run}`.toUpperCase()],
    );
    expect(rows[0]).toEqual({
      group: 'Depot North',
      tank_calibration: [
        { pct: 0, litres: 0 },
        { pct: 50, litres: 160 },
        { pct: 60, litres: 190 },
        { pct: 100, litres: 300 },
      ],
    });
    await page.goto(`${stack.webUrl}/admin/vehicles`);
    await page
      .locator('tr[data-vehicle-id]')
      .filter({ hasText: `E2E-${run}`.toUpperCase() })
      .waitFor();
    await expectNoAxeViolations(page, 'vehicle register');
  });

  it('imports drivers from a CSV file: the bad row by line, the rest created', async () => {
    await page.goto(`${stack.webUrl}/admin/import`);
    await page.getByRole('heading', { level: 1 }).waitFor();
    await expectNoAxeViolations(page, 'import');
    const csv = `email,name,groups\nana-${run}@fleet.test,"Ana, the first",Depot North\nnot-an-email,Bob,\n`;
    await page
      .getByLabel('CSV file of drivers')
      .setInputFiles({ name: 'drivers.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.getByRole('button', { name: 'Import drivers' }).click();
    const report = page.locator('[data-import-report="drivers"]');
    await expect(report.textContent()).resolves.toMatch(
      /2 rows read: 1 drivers created, 0 already there.*1 refused/,
    );
    await expect(
      page.locator('[data-table="drivers-import-errors"] tbody tr').textContent(),
    ).resolves.toMatch(/^3.*email/);
    await expectNoAxeViolations(page, 'import with a report');
  });

  it('assigns a driver and gives Fay the depot; the history shows it', async () => {
    await page.goto(`${stack.webUrl}/admin/drivers`);
    await page.locator('tr[data-driver-id]').first().waitFor();
    await expectNoAxeViolations(page, 'drivers');
    await page
      .getByLabel('Driver', { exact: true })
      .selectOption({ label: `Ana, the first (ana-${run}@fleet.test)` });
    await page.getByLabel('Vehicle', { exact: true }).selectOption({ label: 'veh-001' });
    await page.getByRole('button', { name: 'Assign', exact: true }).click();
    await page.getByText('Ana, the first drives veh-001 from now on.').waitFor();
    await page.getByRole('button', { name: 'Groups of Fay Driver' }).click();
    await page.getByLabel('Depot North').check();
    await page.getByRole('button', { name: 'Save groups' }).click();
    await page.getByText('Groups of Fay Driver saved.').waitFor();
    await page.locator('[data-table="assignments"] tbody tr').filter({ hasText: 'veh-001' }).waitFor();
    await expectNoAxeViolations(page, 'drivers after an assignment');
  });

  it('the driver checks in from the PWA to a vehicle of her group, and reaches no admin procedure', async () => {
    const { context: phone, page: p } = await session.signIn(driver.email, driver.password, PHONE);
    expect(new URL(p.url()).pathname).toBe('/driver');
    const card = p.getByTestId('check-in');
    await card.getByText('You are not checked in to a vehicle.').waitFor({ timeout: 30_000 });
    await card.getByRole('radio', { name: new RegExp(`E2E-${run} \\(Depot North\\)`, 'i') }).check();
    await expectNoAxeViolations(p, 'driver check-in');
    await card.getByRole('button', { name: 'Check in' }).click();
    await expect
      .poll(() => card.getByTestId('current-vehicle').textContent(), { timeout: 30_000 })
      .toMatch(new RegExp(`You are checked in to E2E-${run}`, 'i'));
    await expectNoAxeViolations(p, 'driver checked in');
    const forbidden = await p.evaluate(async () => (await fetch('/api/trpc/registry.list')).status);
    expect(forbidden).toBe(403);
    const { rows } = await db.query<{ source: string; current: boolean }>(
      `SELECT a.source, a.ends_at IS NULL AS current FROM vehicle_assignments a JOIN users u ON u.id = a.user_id
        WHERE u.email = $1`,
      [driver.email],
    );
    expect(rows).toEqual([{ source: 'check-in', current: true }]);
    await phone.close();
  });
});
