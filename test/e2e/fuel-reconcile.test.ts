/**
 * Issue 17 must-show 5, reconciliation on arrival: a fuel-card purchase posted to the signed
 * webhook and a refuel a driver logs in the PWA are each matched or flagged within seconds, with
 * their reasons, on /fuel — through the whole stack (API, inbox drain, refuels.log, web app), with
 * nothing run by hand: no `fleet-cloud fuel reconcile`, no sweep (switched off here).
 *
 * The vehicle's detected refuel is written as the event ingest writes it (the detector and the
 * event lane have their own end-to-end tests); no simulated vehicle runs, to keep this short.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../cloud/src/auth/auth-service.ts';
import { insertVehicleEvents } from '../../cloud/src/db/queries/insert-vehicle-events.ts';
import { putTenantSecret } from '../../cloud/src/db/queries/tenant-secrets.ts';
import { FUEL_CARD_SOURCE } from '../../cloud/src/fuel/webhook-inbox.ts';
import { SecretBox } from '../../cloud/src/security/secret-box.ts';
import { signWebhook } from '../../cloud/src/webhooks/signature.ts';
import { expectNoAxeViolations } from './support/axe.ts';
import { hydrated, PHONE, type StackSession, startStackSession } from './support/stack-session.ts';

const KEY = randomBytes(32);
const SECRET = `whsec_${randomBytes(16).toString('hex')}`;
const STATION = { lat: 48.137, lon: 11.575 };

describe('reconciliation on arrival, on /fuel', () => {
  let session: StackSession;
  let db: pg.Pool;
  let manager: Page;
  const driver = { email: '', password: `pw-${randomBytes(12).toString('hex')}` };
  const now = Date.now();

  beforeAll(async () => {
    session = await startStackSession({
      name: 'fuel-recon',
      services: 'real',
      vehicles: 0,
      stack: {
        cloudEnv: {
          // The webhook secret is sealed with this key; the sweep is off so arrival alone decides.
          FLEET_SECRET_KEYS: `k1:${KEY.toString('base64')}`,
          FLEET_FUEL_RECONCILE_SWEEP_MS: '0',
        },
      },
    });
    db = session.db;
    const tenantId = session.tenantId;
    await db.query(`INSERT INTO vehicles (id, tenant_id, tank_litres) VALUES ('van-7', $1, 80)`, [tenantId]);
    driver.email = `dana-${session.run}@fleet.test`;
    await createUser(db, { tenantId, name: 'Dana Driver', role: 'driver', vehicleId: 'van-7', ...driver });
    const c = await db.connect();
    try {
      await putTenantSecret(c, new SecretBox([{ id: 'k1', key: KEY }]), {
        tenantId,
        name: `webhook:${FUEL_CARD_SOURCE}`,
        value: SECRET,
        actor: 'user:admin',
      });
      // The tank rose 40 L ten minutes ago, as the agent's detector reported it.
      await insertVehicleEvents(c, [
        {
          tenantId,
          vehicleId: 'van-7',
          event: {
            id: 1,
            type: 'refuel',
            start: now - 10 * 60_000,
            end: now - 5 * 60_000,
            volumeL: 40,
            ...STATION,
            driverId: null,
            confidence: 0.9,
            modelVersion: null,
            details: { levelBeforeL: 20, levelAfterL: 60 },
          },
        },
      ]);
    } finally {
      c.release();
    }
    ({ page: manager } = await session.signIn(session.stack.admin.email, session.stack.admin.password));
  }, 300_000);

  afterAll(async () => {
    await session?.stop();
  });

  it('a signed webhook purchase and a driver-logged refuel show their verdicts and reasons within seconds', async () => {
    // 1. The card provider posts the purchase of that fill.
    const body = JSON.stringify({
      externalId: `tx-${session.run}`,
      ts: new Date(now - 4 * 60_000).toISOString(),
      litres: 40.5,
      amount: 72.5,
      currency: 'EUR',
      fuelType: 'diesel',
      station: 'Aral Leopoldstr. 12',
      vehicleId: 'van-7',
      cardId: 'CARD-7',
      ...STATION,
    });
    const posted = Date.now();
    const res = await fetch(`${session.stack.apiUrl}/webhooks/${session.tenantId}/${FUEL_CARD_SOURCE}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'fleet-signature': signWebhook(SECRET, body) },
      body,
    });
    expect(res.status).toBeLessThan(300);

    // 2. The driver logs the same fill on the phone, with the wrong litres.
    const phone = await session.signIn(driver.email, driver.password, PHONE);
    // Typing or a click before hydration is dropped on a loaded machine: wait for React to own the form.
    const logRefuel = phone.page.getByRole('button', { name: 'Log refuel' });
    await hydrated(logRefuel);
    await phone.page.getByLabel('Litres (required)').fill('65');
    await phone.page.getByLabel('Station').fill('Aral Leopoldstr. 12');
    await logRefuel.click();
    // Stored once refuels.log answered (the page sends at once when online).
    let stored = 0;
    for (let i = 0; i < 300 && stored === 0; i++) {
      const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM refuel_logs');
      stored = rows[0]!.n;
      if (stored === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(stored, 'the driver-logged refuel is stored').toBe(1);
    const logged = Date.now();

    // 3. /fuel shows both verdicts; reload until they are there (no reconcile run by hand).
    await manager.goto(`${session.stack.webUrl}/fuel`);
    const purchase = manager.locator('table[data-table="fuel-transactions"] tr[data-status="matched"]');
    const log = manager.locator('table[data-table="driver-refuels"] tr[data-status="flagged"]');
    const deadline = Date.now() + 20_000;
    while ((await purchase.count()) === 0 || (await log.count()) === 0) {
      if (Date.now() > deadline) break;
      await manager.waitForTimeout(500);
      await manager.reload();
      await manager.locator('table[data-table="driver-refuels"], main p').first().waitFor();
    }
    expect(await purchase.count(), 'the webhook purchase is matched on /fuel').toBe(1);
    expect(await purchase.locator('[data-reasons]').textContent()).toBe('a refuel on the vehicle agrees');
    expect(await log.count(), 'the driver-logged refuel is flagged on /fuel').toBe(1);
    expect(await log.locator('[data-reasons]').textContent()).toMatch(
      /^Volume mismatch; logged 65\.0 L, the card purchase #\d+ says 40\.5 L: 24\.5 L apart, tolerance 6\.5 L$/,
    );
    // Within seconds of arriving (the inbox drains every 2 s; the log is judged as it is stored).
    expect(Date.now() - posted).toBeLessThan(15_000);
    console.log(
      `verdicts on /fuel: ${Date.now() - posted} ms after the webhook, ${Date.now() - logged} ms after the log`,
    );
    await expectNoAxeViolations(manager, '/fuel with a purchase and a driver refuel');
    await phone.context.close();
  });
});
