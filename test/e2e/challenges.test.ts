/**
 * The drivers' programme pages in Chromium against the real stack (production build): /challenges
 * with a challenge's standings shown and /rewards with a pending request, axe (WCAG 2.1 AAA rules)
 * finding nothing on each; approving the request in the page changes its status.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCaller } from '../../cloud/src/api/root.ts';
import { createUser } from '../../cloud/src/auth/auth-service.ts';
import type { Stack } from '../../scripts/lib/stack.ts';
import { expectNoAxeViolations } from './support/axe.ts';
import { type StackSession, startStackSession } from './support/stack-session.ts';

describe('drivers programme pages (real stack, production build)', () => {
  let session: StackSession;
  let tenantId: string;
  let stack: Stack;
  let db: pg.Pool;

  beforeAll(async () => {
    session = await startStackSession({ name: 'challenges', services: 'real', vehicles: 0 });
    ({ tenantId, stack, db } = session);
    const driverId = await createUser(db, {
      tenantId,
      email: `dana-${session.run}@example.test`,
      name: 'Dana Driver',
      role: 'driver',
      password: 'danas-password-1',
    });
    const as = (userId: string, role: 'admin' | 'driver') =>
      createCaller({
        db,
        session: { userId, tenantId, email: 'x@example.test', name: 'x', role, vehicleId: null },
      });
    const { rows } = await db.query<{ id: string }>(
      `SELECT id FROM users WHERE tenant_id = $1 AND role = 'admin'`,
      [tenantId],
    );
    const admin = as(rows[0]!.id, 'admin');
    await admin.challenges.create({
      name: 'Smooth December',
      metric: 'harsh_per_100km',
      direction: 'at_most',
      target: 2,
      minKm: 0,
      timeZone: 'UTC',
      startsLocal: '2026-12-01T00:00',
      endsLocal: '2027-01-01T00:00',
      rewardPoints: 50,
    });
    const reward = await admin.rewards.create({ name: 'Coffee voucher', costPoints: 10 });
    await db.query(
      `INSERT INTO points_ledger (tenant_id, user_id, delta, reason, idem_key, created_by, balance_after)
       VALUES ($1, $2, 100, 'adjustment', 'e2e-opening', 'test', 0)`,
      [tenantId, driverId],
    );
    await as(driverId, 'driver').rewards.redeem({ rewardId: reward.id });
  }, 300_000);

  afterAll(() => session?.stop());

  it('/challenges and /rewards: axe finds nothing; a request is approved from the page', async () => {
    const { context, page } = await session.signIn(stack.admin.email, stack.admin.password);
    await page.goto(`${stack.webUrl}/challenges`);
    await page
      .getByRole('heading', { name: 'New challenge' })
      .or(page.getByText('New challenge'))
      .first()
      .waitFor();
    await page.getByRole('button', { name: /Show standings of Smooth December/ }).click();
    await page.getByRole('heading', { name: 'Smooth December' }).waitFor();
    await expectNoAxeViolations(page, '/challenges with standings');

    await page.goto(`${stack.webUrl}/rewards`);
    const approve = page.getByRole('button', { name: /Approve Coffee voucher for Dana Driver/ });
    await approve.waitFor();
    await expectNoAxeViolations(page, '/rewards with a pending request');
    await approve.click();
    await page.getByText('Request of Dana Driver approved.').waitFor();
    // The list is read again after the decision: the row then says so.
    await page.locator('tr[data-redemption-id] td', { hasText: 'Approved' }).waitFor();
    expect(await page.getByRole('button', { name: /Approve Coffee voucher/ }).count()).toBe(0);
    await expectNoAxeViolations(page, '/rewards after a decision');
    await context.close();
  }, 60_000);
});
