/**
 * Issue 15, must-show 1: a fleet onboarded in the browser on a fresh system started as the README's
 * `npm start` does (embedded aedes + PGlite, the cloud, the production web build), in Debian's
 * Chromium:
 *
 *   admin: signs in -> adds a vehicle with a tank calibration -> provisions its device (credentials
 *          shown once) -> [the test installs it: firmware-sim + `fleet-agent run` on exactly those
 *          credentials] -> sees its live data and agent health, the VIN it reports flagged against
 *          the register, corrects the register -> invites a manager and a driver
 *   manager: follows the link in a browser of her own, sets a password, is signed in -> creates a
 *          group with the new vehicle -> gives the driver the group, assigns him a vehicle
 *   driver: follows his link on a phone -> checks in to the new vehicle from the PWA
 *
 * Nothing is mocked and the test never touches the database: every step goes through the pages
 * (and the API behind them, to confirm what a page says). axe-core (WCAG 2.1 AAA)
 * runs on the states this flow adds: the credentials shown, the health panel and the register
 * with a VIN flag.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vinForVehicle } from '../../firmware-sim/src/vehicle/vin.ts';
import { expectNoAxeViolations } from './support/axe.ts';
import { type ProvisionedVehicle, startProvisionedVehicle } from './support/provisioned-vehicle.ts';
import { hydrated, PHONE, type StackSession, startStackSession } from './support/stack-session.ts';

const AGENT_VERSION = (
  JSON.parse(readFileSync(new URL('../../edge-agent/package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;
/** A query procedure through the web app's proxy, as the signed-in page (its cookie). */
async function api(page: Page, procedure: string, input: unknown): Promise<unknown> {
  const url = `/api/trpc/${procedure}?input=${encodeURIComponent(JSON.stringify(input))}`;
  const answer = await page.evaluate(async (u) => {
    const r = await fetch(u);
    return { status: r.status, body: await r.json() };
  }, url);
  if (answer.status !== 200) throw new Error(`${procedure}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return (answer.body as { result: { data: unknown } }).result.data;
}

/** An invitation link followed: a password chosen, and signed in where the role belongs. */
async function accept(page: Page, link: string, password: string, lands: '/' | '/driver') {
  await page.goto(link);
  const submit = page.getByRole('button', { name: 'Set password and sign in' });
  await hydrated(submit);
  await page.getByLabel('Choose a password').fill(password);
  await page.getByLabel('Type it again').fill(password);
  await submit.click();
  await page.waitForURL((u) => u.pathname === lands, { timeout: 30_000 });
}

/** A valid VIN that is not the one the simulated ECU answers: the register's typo. */
const TYPED_VIN = 'WVWZZZ1JZXW000001';

describe('onboarding a fleet in the browser (embedded stack, as `npm start` runs it)', () => {
  let session: StackSession;
  let admin: { context: BrowserContext; page: Page };
  let vehicle: ProvisionedVehicle | undefined;
  let vehicleId: string;
  let plate: string;
  const invited: Record<'manager' | 'driver', { email: string; name: string; link: string }> = {
    manager: { email: '', name: 'Mona Manager', link: '' },
    driver: { email: '', name: 'Dan Driver', link: '' },
  };
  let manager: { context: BrowserContext; page: Page };
  let driver: { context: BrowserContext; page: Page };
  const web = (p: string) => `${session.stack.webUrl}${p}`;

  beforeAll(async () => {
    session = await startStackSession({ name: 'onboard', services: 'embedded', vehicles: 1 });
    plate = `ONB-${session.run}`.toUpperCase();
    invited.manager.email = `mona-${session.run}@fleet.test`;
    invited.driver.email = `dan-${session.run}@fleet.test`;
  }, 300_000);

  afterAll(async () => {
    await vehicle?.stop();
    await session?.stop();
  });

  it('the admin signs in and adds a vehicle with a tank calibration', async () => {
    admin = await session.signIn(session.stack.admin.email, session.stack.admin.password);
    const { page } = admin;
    await page.getByRole('navigation', { name: 'Dashboard' }).getByRole('link', { name: 'Vehicles' }).click();
    await page.getByRole('link', { name: 'Add a vehicle' }).click();
    await hydrated(page.getByRole('form', { name: 'New vehicle' }));
    await page.getByLabel('Plate').fill(plate);
    await page.getByLabel('VIN').fill(TYPED_VIN);
    await page.getByLabel('Make').fill('Iveco');
    await page.getByLabel('Model').fill('Daily');
    await page.getByLabel('Tank capacity (litres)').fill('90');
    for (const [pct, litres] of [
      ['0', '0'],
      ['50', '40'],
      ['100', '90'],
    ]) {
      await page.getByRole('button', { name: 'Add a row' }).click();
      const row = await page.locator('.calibration-table tbody tr').count();
      await page.getByLabel(`Row ${row} sender %`).fill(pct!);
      await page.getByLabel(`Row ${row} litres`).fill(litres!);
    }
    await page.getByRole('button', { name: 'Add vehicle' }).click();
    await page.waitForURL((u) => /^\/admin\/vehicles\/veh-[0-9a-f]+$/.test(u.pathname), { timeout: 60_000 });
    vehicleId = decodeURIComponent(new URL(page.url()).pathname.split('/').at(-1)!);
    await page.getByText(`Vehicle ${vehicleId} added.`).waitFor();
    expect(await api(page, 'registry.get', { vehicleId })).toMatchObject({
      plate,
      vin: TYPED_VIN,
      tankLitres: 90,
      calibration: [
        { pct: 0, litres: 0 },
        { pct: 50, litres: 40 },
        { pct: 100, litres: 90 },
      ],
    });
  });

  it('provisions its device: the credentials are shown once, and an agent started on them alone sends data', async () => {
    const { page } = admin;
    await page.goto(web('/admin/devices'));
    const provision = page.getByRole('button', { name: `Provision a device for ${vehicleId}` });
    await hydrated(provision);
    await provision.click();
    const shown = page.getByTestId('device-credentials');
    const credentials = (await shown.textContent())!;
    expect(credentials).toContain(`FLEET_VEHICLE_ID=${vehicleId}`);
    expect(credentials).toMatch(/^MQTT_PASSWORD=\S{16,}$/m);
    await expectNoAxeViolations(page, '/admin/devices with the credentials shown');
    // Shown once: gone from the page after a reload.
    await page.reload();
    await page.getByRole('table', { name: 'Devices and agent health' }).waitFor();
    expect(await shown.count()).toBe(0);
    const password = /^MQTT_PASSWORD=(\S+)$/m.exec(credentials)![1]!;
    expect(await page.content()).not.toContain(password);
    // Before its agent runs, the vehicle's page says so (not "could not load this vehicle").
    await page.goto(web(`/vehicles/${vehicleId}`));
    await page.getByText(`No data from ${vehicleId} yet`).waitFor();
    const health = page.locator('[data-section="agent-health"] [data-field="vin"]');
    expect(await health.getAttribute('data-vin-status')).toBe('unreported');

    vehicle = await startProvisionedVehicle({
      credentials,
      dir: path.join(session.stack.logDir, '..', vehicleId),
      logDir: session.stack.logDir,
    });
    // The broker let it in with those credentials (a refused login never gets here).
    await vehicle.connected;
  });

  it('the admin sees its live data and its agent health, with the VIN it reports flagged', async () => {
    const { page } = admin;
    const latest = page.locator('[data-section="latest"]');
    const position = latest
      .locator('div', { has: page.locator('dt', { hasText: 'Position' }) })
      .locator('dd');
    const fuel = latest.locator('[data-field="fuelLevelPct"]');
    const vinRow = page.locator('[data-section="agent-health"] [data-field="vin"]');
    // The vehicle page reads once per visit: come back until the first samples and the VIN are in.
    await expect
      .poll(
        async () => {
          await page.goto(web(`/vehicles/${vehicleId}`));
          await page.locator('[data-section="agent-health"]').waitFor({ timeout: 15_000 });
          const text = async (l: Locator) => ((await l.count()) ? await l.textContent() : '') ?? '';
          return {
            position: /^-?\d+\.\d{5}, -?\d+\.\d{5}$/.test(await text(position)),
            fuel: /^\d+(\.\d)? %$/.test(await text(fuel)),
            vin: await vinRow.getAttribute('data-vin-status'),
          };
        },
        { timeout: 90_000, interval: 2000 },
      )
      .toEqual({ position: true, fuel: true, vin: 'mismatch' });
    const health = page.locator('[data-section="agent-health"]');
    expect(await health.textContent()).toContain(`Agent version${AGENT_VERSION}`);
    expect(await vinRow.textContent()).toContain(
      `${vinForVehicle(vehicleId)} — not the registered VIN (${TYPED_VIN})`,
    );
    await expectNoAxeViolations(page, '/vehicles/[id] with live data and a VIN mismatch');

    // The register flags it too; correcting the register clears the flag.
    await page.goto(web('/admin/vehicles'));
    const row = page.locator(`tr[data-vehicle-id="${vehicleId}"]`);
    const flag = row.locator('[data-vin-status="mismatch"]');
    await flag.waitFor({ timeout: 30_000 });
    expect(await flag.textContent()).toContain(`Agent reports ${vinForVehicle(vehicleId)}`);
    await expectNoAxeViolations(page, '/admin/vehicles with a VIN mismatch');
    await row.getByRole('link', { name: vehicleId }).click();
    await hydrated(page.getByRole('form', { name: `Edit vehicle ${vehicleId}` }));
    await page.getByLabel('VIN').fill(vinForVehicle(vehicleId));
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText(`Vehicle ${vehicleId} saved.`).waitFor();
    await page.goto(web('/admin/vehicles'));
    await row.locator('[data-vin-status="match"]').waitFor();
  });

  it('the admin invites a manager and a driver; each follows the link in a browser of their own and is signed in', async () => {
    const { page } = admin;
    const linkShown = async () => ((await page.getByTestId('handover-link').textContent()) ?? '').trim();
    await page.goto(web('/admin/users'));
    await hydrated(page.getByRole('button', { name: 'Create invitation link' }));
    for (const [who, role, drives] of [
      ['manager', 'Fleet manager', null],
      ['driver', 'Driver', vehicleId],
    ] as const) {
      await page.getByLabel('E-mail').fill(invited[who].email);
      await page.getByLabel('Name').fill(invited[who].name);
      await page.getByLabel('Role').selectOption({ label: role });
      if (drives) await page.getByLabel('Vehicle the driver drives').selectOption(drives);
      await page.getByRole('button', { name: 'Create invitation link' }).click();
      // The second link replaces the first on the page: wait for the new one.
      const before = who === 'driver' ? invited.manager.link : '';
      await expect
        .poll(linkShown, { timeout: 30_000 })
        .toSatisfy((link: string) => link !== before && /\/invite#token=[A-Za-z0-9_-]{43}$/.test(link));
      invited[who].link = await linkShown();
    }
    expect(invited.manager.link).not.toBe(invited.driver.link);

    const context = await session.browser.newContext({ reducedMotion: 'reduce' });
    const p = await context.newPage();
    // What the page asked the API, to tell a slow start from a refused call if the links never come.
    const answers: string[] = [];
    p.on('response', (r) => {
      if (r.url().includes('/api/trpc')) answers.push(`${r.status()} ${new URL(r.url()).pathname}`);
    });
    await accept(p, invited.manager.link, 'monas-own-password', '/');
    const nav = p.getByRole('navigation', { name: 'Dashboard' });
    await nav
      .getByRole('link', { name: 'Groups' })
      .waitFor({ timeout: 60_000 })
      .catch(async (err) => {
        throw new Error(`${err}\nnav: ${await nav.textContent().catch(() => '?')}\n${answers.join('\n')}`);
      });
    expect(await nav.getByRole('link', { name: 'Users' }).count()).toBe(0);
    manager = { context, page: p };

    // The driver, on his phone: the PWA, on the vehicle his invitation named.
    const phone = await session.browser.newContext({ reducedMotion: 'reduce', ...PHONE });
    const d = await phone.newPage();
    await accept(d, invited.driver.link, 'dans-own-password', '/driver');
    // Named by its label once the card's vehicle list has it (the list is read from the first
    // paint, so usually at once), by its id before.
    await expect
      .poll(() => d.getByTestId('current-vehicle').textContent(), { timeout: 30_000 })
      .toMatch(new RegExp(`^You are checked in to (${vehicleId}|${plate} .+)\\.$`));
    driver = { context: phone, page: d };
  });

  it('the manager creates a group with the new vehicle, gives the driver the group and assigns him a vehicle', async () => {
    const { page } = manager;
    await page.goto(web('/admin/groups'));
    await hydrated(page.getByRole('button', { name: 'Create group' }));
    await page.getByLabel('Name', { exact: true }).fill('Depot East');
    await page.getByRole('button', { name: 'Create group' }).click();
    await page.locator('tr[data-group-id]').filter({ hasText: 'Depot East' }).waitFor();
    await page.goto(web(`/admin/vehicles/${vehicleId}`));
    await hydrated(page.getByRole('form', { name: `Edit vehicle ${vehicleId}` }));
    await page.getByLabel('Group').selectOption({ label: 'Depot East' });
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText(`Vehicle ${vehicleId} saved.`).waitFor();

    // His invitation made the driver the new vehicle's; today he is to take veh-001 instead.
    await page.goto(web('/admin/drivers'));
    const groupsOfDriver = page.getByRole('button', { name: `Groups of ${invited.driver.name}` });
    await hydrated(groupsOfDriver);
    await groupsOfDriver.click();
    await page.getByLabel('Depot East').check();
    await page.getByRole('button', { name: 'Save groups' }).click();
    await page.getByText(`Groups of ${invited.driver.name} saved.`).waitFor();
    await page
      .getByLabel('Driver', { exact: true })
      .selectOption({ label: `${invited.driver.name} (${invited.driver.email})` });
    await page.getByLabel('Vehicle', { exact: true }).selectOption('veh-001');
    await page.getByRole('button', { name: 'Assign', exact: true }).click();
    await page.getByText(`${invited.driver.name} drives veh-001 from now on.`).waitFor();
  });

  it('the driver checks in to the new vehicle from the PWA', async () => {
    const { page: p } = driver;
    await p.reload();
    const card = p.getByTestId('check-in');
    await hydrated(card.getByRole('button', { name: 'Check in' }));
    const current = () => card.getByTestId('current-vehicle').textContent();
    await expect.poll(current, { timeout: 30_000 }).toBe('You are checked in to veh-001.');
    await card.getByRole('radio', { name: `${plate} Iveco Daily (Depot East)` }).check();
    await card.getByRole('button', { name: 'Check in' }).click();
    await expect
      .poll(current, { timeout: 30_000 })
      .toBe(`You are checked in to ${plate} Iveco Daily (Depot East).`);
    await expectNoAxeViolations(p, '/driver checked in to the new vehicle');
    await driver.context.close();

    // The manager's history (newest first): the check-in current, the two before it ended.
    const { page } = manager;
    await page.goto(web('/admin/drivers'));
    const history = page
      .locator('[data-table="assignments"] tbody tr')
      .filter({ hasText: invited.driver.name });
    await history.first().waitFor();
    const cells = await history.evaluateAll((trs) =>
      trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent?.trim())),
    );
    const newOne = `${plate} (${vehicleId})`;
    expect(cells.map(([v, , , to]) => [v, to === 'Now (current)'])).toEqual([
      [newOne, true],
      ['veh-001', false],
      [newOne, false],
    ]);
    expect(cells[0]![4]).toBe('Driver checked in');
    expect(cells[1]![4]).toBe('Assigned by a manager');
    await expectNoAxeViolations(page, '/admin/drivers with the history');
    await page.goto(web('/admin/vehicles'));
    await page
      .locator(`tr[data-vehicle-id="${vehicleId}"]`)
      .filter({ hasText: invited.driver.name })
      .waitFor();
    await manager.context.close();
    await admin.context.close();
  });
});
