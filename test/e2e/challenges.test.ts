/**
 * The drivers' programme pages in Chromium against the real stack (production build): /challenges
 * with a challenge's standings shown and /rewards with a pending request, axe (WCAG 2.1 AAA rules)
 * finding nothing on each; approving the request in the page changes its status.
 *
 * And issue 19 must-show 6: a challenge's result pushed to the driver's PWA. The driver's browser
 * subscription names a push endpoint of this test on loopback, with keys this test holds (Chromium
 * cannot reach a real push service here); the cloud freezes the challenge, sends the encrypted
 * push there, the test decrypts it (RFC 8291 aes128gcm) and hands the plaintext to the driver's
 * service worker through DevTools' ServiceWorker.deliverPushMessage, as the push service would;
 * the worker shows it in the driver's language.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCaller } from '../../cloud/src/api/root.ts';
import { createUser } from '../../cloud/src/auth/auth-service.ts';
import { startPushEndpoint, vapidKeys } from '../../cloud/test/support/notify-servers.ts';
import type { Stack } from '../../scripts/lib/stack.ts';
import { expectNoAxeViolations } from './support/axe.ts';
import { waitUntil } from './support/services.ts';
import { type StackSession, startStackSession } from './support/stack-session.ts';

describe('drivers programme pages (real stack, production build)', () => {
  let session: StackSession;
  let tenantId: string;
  let stack: Stack;
  let db: pg.Pool;
  let driverId: string;
  let driverEmail: string;
  let pushEndpoint: Awaited<ReturnType<typeof startPushEndpoint>>;

  beforeAll(async () => {
    pushEndpoint = await startPushEndpoint();
    const vapid = vapidKeys();
    session = await startStackSession({
      name: 'challenges',
      services: 'real',
      vehicles: 0,
      stack: {
        cloudEnv: {
          FLEET_VAPID_PUBLIC_KEY: vapid.publicKey,
          FLEET_VAPID_PRIVATE_KEY: vapid.privateKey,
          FLEET_VAPID_SUBJECT: 'mailto:ops@fleet.test',
          // The test's push endpoint is on loopback, which the SSRF guard refuses unless allowed.
          FLEET_NOTIFY_ALLOW_ADDRESSES: '127.0.0.1',
          FLEET_DRIVER_PROGRAMME_SWEEP_MS: '1000',
        },
      },
    });
    ({ tenantId, stack, db } = session);
    driverEmail = `dana-${session.run}@example.test`;
    driverId = await createUser(db, {
      tenantId,
      email: driverEmail,
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

  afterAll(async () => {
    await session?.stop();
    await pushEndpoint?.close();
  });

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

  it("a frozen challenge's result is pushed to the driver's PWA, decrypted here and shown by its worker in Spanish", async () => {
    const { context, page } = await session.signIn(driverEmail, 'danas-password-1');
    await context.grantPermissions(['notifications'], { origin: stack.webUrl! });
    await page.goto(`${stack.webUrl}/driver`);
    // Spanish, from the settings card; the push is written in the language saved there.
    const language = page.getByRole('combobox', { name: 'Language' });
    await language.waitFor({ timeout: 30_000 });
    await page.waitForFunction((el) => !(el as HTMLSelectElement).disabled, await language.elementHandle());
    await language.selectOption('es');
    await page.getByText('Ajustes guardados.').waitFor({ timeout: 30_000 });
    // The notifications card: the three kinds on by default, and a way to subscribe (VAPID keys set).
    const card = page.getByTestId('push-settings');
    await card.getByRole('button', { name: 'Activar notificaciones en este teléfono' }).waitFor();
    expect(await card.getByRole('checkbox', { name: 'Resultados de los retos' }).isChecked()).toBe(true);
    await expectNoAxeViolations(page, '/driver with the notifications card');

    // The driver worker, and the DevTools handle on its registration.
    const cdp = await context.newCDPSession(page);
    const registrationId = new Promise<string>((resolve) => {
      cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations }) => {
        const r = registrations.find((x: { scopeURL: string }) => x.scopeURL === `${stack.webUrl}/driver`);
        if (r) resolve(r.registrationId);
      });
    });
    await cdp.send('ServiceWorker.enable');
    await page.evaluate(async () => {
      await navigator.serviceWorker.register('/sw.js', { scope: '/driver' });
      await navigator.serviceWorker.ready;
    });
    // The subscription the browser would have made, saved through the API as the driver's own.
    const saved = await page.evaluate(async (sub) => {
      const r = await fetch('/api/trpc/notifications.subscribePush', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(sub),
      });
      return `${r.status} ${await r.text()}`;
    }, pushEndpoint.subscription);
    expect(saved).toMatch(/^200 /);

    // A challenge that has just ended, no grace: the cloud's programme sweep freezes it.
    await db.query(
      `INSERT INTO challenges (tenant_id, name, kind, metric, direction, target, min_km, time_zone, starts_at,
                               ends_at, grace_minutes, reward_points, created_by)
       VALUES ($1, 'Sprint de noviembre', 'individual', 'distance_km', 'at_least', 0, 0, 'UTC',
               now() - interval '7 days', now() - interval '1 minute', 0, 5, 'e2e')`,
      [tenantId],
    );
    const plain = await waitUntil(
      'the push at the test endpoint',
      async () => pushEndpoint.got,
      (got) => got.length >= 1,
      60_000,
    );
    const push = JSON.parse(plain[0]!) as { key: string; title: string; body: string };
    expect(push.title).toBe('Resultados del reto: Sprint de noviembre');
    expect(push.key).toMatch(/^driver\.challenge_results\./);

    await cdp.send('ServiceWorker.deliverPushMessage', {
      origin: stack.webUrl!,
      registrationId: await registrationId,
      data: plain[0]!,
    });
    const shown = await waitUntil(
      'the notification',
      () =>
        page.evaluate(async () => {
          const reg = await navigator.serviceWorker.getRegistration('/driver');
          return (await reg!.getNotifications()).map((n) => ({ title: n.title, body: n.body, tag: n.tag }));
        }),
      (list) => list.length >= 1,
      15_000,
    );
    expect(shown).toEqual([{ title: push.title, body: push.body, tag: push.key }]);
    // Once: the freeze and its pushes commit together, so later sweeps queue nothing more.
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM notification_deliveries WHERE tenant_id = $1`,
      [tenantId],
    );
    expect(rows[0]!.n).toBe(1);
    expect(pushEndpoint.got).toHaveLength(1);
    await context.close();
  }, 180_000);
});
