/**
 * The administration pages in Chromium against the real stack (production build): axe with the
 * AAA rules on each (users with the invitation link shown and with field errors, devices, the
 * accept-invite page empty and with an error, the reset page, a vehicle's health panel); an
 * invitation link works in the browser and signs the new manager in; a driver sees no admin link
 * and "Not allowed" on the admin pages; a role changed to driver asks for the vehicle in the form;
 * personal API tokens are created (shown once), listed, work, and are revoked.
 */
import type pg from 'pg';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../cloud/src/auth/auth-service.ts';
import type { Stack } from '../../scripts/lib/stack.ts';
import { expectNoAxeViolations } from './support/axe.ts';
import { type StackSession, startStackSession } from './support/stack-session.ts';

describe('administration pages (real stack, production build)', () => {
  let session: StackSession;
  let run: string;
  let tenantId: string;
  let stack: Stack;
  let db: pg.Pool;
  let browser: Browser;

  const signedIn = (email: string, password: string) => session.signIn(email, password);

  /** The role, and the vehicle of the user's current assignment (what a driver drives). */
  const roleOf = async (userId: string) =>
    (
      await db.query(
        `SELECT role, (SELECT a.vehicle_id FROM vehicle_assignments a
                        WHERE a.user_id = users.id AND a.ends_at IS NULL) AS vehicle_id
           FROM users WHERE id = $1`,
        [userId],
      )
    ).rows[0];

  beforeAll(async () => {
    session = await startStackSession({ name: 'admin', services: 'real' });
    ({ run, tenantId, stack, db, browser } = session);
  }, 300_000);

  afterAll(() => session?.stop());

  it('users: invite form with a field error, then the link shown; the link signs the invitee in; axe finds nothing', async () => {
    const { context, page } = await signedIn(stack.admin.email, stack.admin.password);
    await page.goto(`${stack.webUrl}/admin/users`);
    await page.getByRole('heading', { name: 'Invite someone' }).waitFor();
    await expectNoAxeViolations(page, '/admin/users');
    // A bad e-mail: the field says so.
    await page.getByLabel('E-mail').fill('not-an-email');
    await page.getByLabel('Name').fill('Nora Manager');
    await page.getByRole('button', { name: 'Create invitation link' }).click();
    await page.locator('#email-error').waitFor();
    expect(await page.getByLabel('E-mail').getAttribute('aria-invalid')).toBe('true');
    await expectNoAxeViolations(page, '/admin/users with a field error');

    await page.getByLabel('E-mail').fill(`nora-${run}@example.test`);
    await page.getByRole('button', { name: 'Create invitation link' }).click();
    const link = (await page.getByTestId('handover-link').textContent())!.trim();
    expect(link).toMatch(/\/invite#token=[A-Za-z0-9_-]{43}$/);
    await expectNoAxeViolations(page, '/admin/users with the link shown');
    await context.close();

    // The invitee, in a browser of their own.
    const guest = await browser.newContext({ reducedMotion: 'reduce' });
    const p = await guest.newPage();
    await p.goto(link);
    await p.getByLabel('Choose a password').waitFor();
    await expectNoAxeViolations(p, '/invite');
    await p.getByLabel('Choose a password').fill('short');
    await p.getByRole('button', { name: 'Set password and sign in' }).click();
    await p.locator('#password-error').waitFor();
    await expectNoAxeViolations(p, '/invite with a field error');
    await p.getByLabel('Choose a password').fill('noras-own-password');
    await p.getByLabel('Type it again').fill('noras-own-password');
    await p.getByRole('button', { name: 'Set password and sign in' }).click();
    await p.waitForURL((u) => u.pathname === '/', { timeout: 30_000 });
    // A manager: the devices page, not the users page.
    const nav = p.getByRole('navigation', { name: 'Dashboard' });
    await nav.getByRole('link', { name: 'Devices' }).waitFor();
    expect(await nav.getByRole('link', { name: 'Users' }).count()).toBe(0);
    await guest.close();
  });

  it('devices page and a vehicle health panel pass axe; reset-password page too', async () => {
    const { context, page } = await signedIn(stack.admin.email, stack.admin.password);
    await page.goto(`${stack.webUrl}/admin/devices`);
    await page.getByRole('table', { name: 'Devices and agent health' }).waitFor();
    await expectNoAxeViolations(page, '/admin/devices');
    await page.goto(`${stack.webUrl}/vehicles/veh-001`);
    await page.getByRole('heading', { name: 'Agent health' }).waitFor();
    await page.locator('[data-section="agent-health"]').waitFor();
    await expectNoAxeViolations(page, '/vehicles/veh-001 with agent health');
    // The fleet's health panel on the overview.
    await page.goto(`${stack.webUrl}/`);
    await page.locator('[data-section="fleet-agent-health"]').waitFor({ timeout: 30_000 });
    await expectNoAxeViolations(page, '/ with the fleet agent health');
    await page.goto(`${stack.webUrl}/reset-password#token=${'x'.repeat(43)}`);
    await page.getByLabel('New password').waitFor();
    await expectNoAxeViolations(page, '/reset-password');
    await context.close();
  });

  it('a role changed to driver asks for the vehicle in the form, not a prompt; axe finds nothing', async () => {
    const fredId = await createUser(db, {
      tenantId,
      email: `fred-${run}@example.test`,
      name: 'Fred Fixer',
      role: 'technician',
      password: 'freds-password-123',
    });
    const { context, page } = await signedIn(stack.admin.email, stack.admin.password);
    page.on('dialog', (d) => {
      throw new Error(`unexpected ${d.type()} dialog: ${d.message()}`);
    });
    await page.goto(`${stack.webUrl}/admin/users`);
    await page.getByLabel('Role of Fred Fixer').selectOption('driver');
    const vehicle = page.getByLabel('Vehicle Fred Fixer drives');
    await vehicle.waitFor();
    // Choosing in the list changed nothing yet.
    expect(await roleOf(fredId)).toEqual({ role: 'technician', vehicle_id: null });
    await page.getByRole('button', { name: 'Change role of Fred Fixer' }).click();
    await page.locator(`#vehicleId-error-${fredId}`).waitFor();
    expect(await vehicle.getAttribute('aria-invalid')).toBe('true');
    await expectNoAxeViolations(page, '/admin/users with the vehicle field in error');
    await vehicle.selectOption('veh-001');
    await page.getByRole('button', { name: 'Change role of Fred Fixer' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: 'Role of Fred Fixer changed to Driver.' })
      .waitFor({ state: 'attached' });
    expect(await roleOf(fredId)).toEqual({ role: 'driver', vehicle_id: 'veh-001' });
    await context.close();
  });

  it('personal API tokens: created and shown once, listed, working, revoked; axe finds nothing', async () => {
    const { context, page } = await signedIn(stack.admin.email, stack.admin.password);
    await page.goto(`${stack.webUrl}/`);
    await page
      .getByRole('navigation', { name: 'Dashboard' })
      .getByRole('link', { name: 'API tokens' })
      .click();
    await page.getByRole('heading', { name: 'Create a token' }).waitFor();
    await expectNoAxeViolations(page, '/tokens');
    // Nothing named, nothing chosen: both fields say so.
    await page.getByRole('button', { name: 'Create token' }).click();
    await page.locator('#token-name-error').waitFor();
    await page.locator('#token-permissions-error').waitFor();
    expect(await page.getByLabel('Token name').getAttribute('aria-invalid')).toBe('true');
    await expectNoAxeViolations(page, '/tokens with field errors');

    await page.getByLabel('Token name').fill('Fuel spreadsheet');
    await page.getByLabel('Vehicles and their latest state').check();
    await page.getByRole('button', { name: 'Create token' }).click();
    const token = (await page.getByTestId('new-token').textContent())!.trim();
    expect(token).toMatch(/^flt_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    const row = page.locator('tr', { hasText: 'Fuel spreadsheet' });
    await row.getByText('✓ Active').waitFor();
    await expectNoAxeViolations(page, '/tokens with the new token shown');
    const vehicles = () =>
      fetch(`${stack.apiUrl}/trpc/vehicles.list`, { headers: { authorization: `Bearer ${token}` } });
    expect((await vehicles()).status).toBe(200);
    // Shown once: gone after a reload, the list shows it without the secret.
    await page.reload();
    await row.waitFor();
    expect(await page.getByTestId('new-token').count()).toBe(0);
    expect(await page.content()).not.toContain(token);

    await row.getByRole('button', { name: 'Revoke token Fuel spreadsheet' }).click();
    await row.getByText('✗ Revoked').waitFor();
    expect((await vehicles()).status).toBe(401);
    await expectNoAxeViolations(page, '/tokens with a revoked token');
    await context.close();
  });

  it('a driver sees no admin link, and "Not allowed" on the admin pages', async () => {
    await createUser(db, {
      tenantId,
      email: `driver-${run}@example.test`,
      name: 'Dora Driver',
      role: 'driver',
      password: 'doras-password-123',
      vehicleId: 'veh-001',
    });
    const { context, page } = await signedIn(`driver-${run}@example.test`, 'doras-password-123');
    for (const admin of ['/admin/users', '/admin/devices', '/tokens']) {
      await page.goto(`${stack.webUrl}${admin}`);
      await page.getByText(/^Not allowed:/).waitFor();
      const nav = page.getByRole('navigation', { name: 'Dashboard' });
      expect(await nav.getByRole('link', { name: 'Users' }).count()).toBe(0);
      expect(await nav.getByRole('link', { name: 'Devices' }).count()).toBe(0);
      expect(await nav.getByRole('link', { name: 'API tokens' }).count()).toBe(0);
      await expectNoAxeViolations(page, `${admin} as a driver`);
    }
    await context.close();
  });
});
