/**
 * The manager's dashboard against the real stack (simulated vehicles -> agents -> Mosquitto ->
 * cloud -> PostgreSQL -> tRPC -> Next.js production build), in Debian's Chromium through
 * playwright-core: the sign-in page, the fleet overview updating live over SSE and its table on a
 * 1280 px screen and a 360 px phone, a fuel chart with a refuel and a drain marked, acknowledging an
 * alert, the fuel purchases filtered, a faceted search with a saved search, drawing a geofence by
 * keyboard. axe-core (WCAG 2.1 A/AA/AAA + best practices) must find nothing on every page visited.
 *
 * Seeded directly in PostgreSQL (the vehicles would take hours to produce them): an afternoon of
 * minute rollups for veh-001 with a drain and a refuel, the two events (the drain's alert comes
 * from the database trigger, as in production), and two fuel-card purchases.
 */
import type pg from 'pg';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedEvents, vehicleEvent } from '../../cloud/test/support/seed.ts';
import type { Stack } from '../../scripts/lib/stack.ts';
import type { VehicleEventType } from '../../shared/src/index.ts';
import { expectNoAxeViolations } from './support/axe.ts';
import { waitUntil } from './support/services.ts';
import { type StackSession, startStackSession } from './support/stack-session.ts';

const MIN = 60_000;
const DRAIN_L = 15;
const REFUEL_L = 40;

describe('manager dashboard (real stack, production build)', () => {
  let session: StackSession;
  let tenantId: string;
  let stack: Stack;
  let db: pg.Pool;
  let browser: Browser;
  let context: BrowserContext;
  const cspRefusals: string[] = [];

  const open = async (
    pathname: string,
    viewport?: { width: number; height: number },
    from: BrowserContext = context,
  ): Promise<Page> => {
    const page = await from.newPage();
    if (viewport) await page.setViewportSize(viewport);
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) cspRefusals.push(`${pathname}: ${m.text()}`);
    });
    await page.goto(`${stack.webUrl}${pathname}`);
    return page;
  };

  beforeAll(async () => {
    session = await startStackSession({ name: 'dash', services: 'real', vehicles: 2 });
    ({ tenantId, stack, db, browser } = session);
    await waitUntil(
      'both vehicles to report a position',
      async () =>
        (
          await db.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM vehicle_latest WHERE lat IS NOT NULL AND fuel_level_pct IS NOT NULL',
          )
        ).rows[0]!.n,
      (n) => n === 2,
      120_000,
    );
    await seed(db, tenantId);
    // One signed-in context for the whole file: the pages open in it as new tabs.
    const signedIn = await session.signIn(stack.admin.email, stack.admin.password);
    context = signedIn.context;
    await signedIn.page.close();
  });

  afterAll(() => session?.stop());

  it('sign-in page: passes axe empty and with a wrong password answered', async () => {
    const visitor = await browser.newContext({ reducedMotion: 'reduce' });
    const page = await open('/login', undefined, visitor);
    await page.getByLabel('Password').waitFor();
    await expectNoAxeViolations(page, 'sign-in');
    await page.getByLabel('Email').fill(stack.admin.email);
    await page.getByLabel('Password').fill(`${stack.admin.password}-wrong`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#login-error[role="alert"]').waitFor({ timeout: 15_000 });
    await expectNoAxeViolations(page, 'sign-in with an error');
    await visitor.close();
  });

  it('fleet overview: status counts, map and table, updated live over SSE without a reload', async () => {
    const liveRequests: string[] = [];
    context.on('request', (r) => {
      if (r.url().includes('/api/trpc/live.positions')) liveRequests.push(r.url());
    });
    const page = await open('/');
    const rows = page.locator('tr[data-vehicle-id]');
    await expect.poll(() => rows.count(), { timeout: 30_000 }).toBe(2);
    // The live feed (an EventSource through the Next proxy) is up.
    await page.locator('[data-field="liveFeed"][data-value="true"]').waitFor({ timeout: 30_000 });
    expect(liveRequests.length).toBeGreaterThan(0);
    // Status counts add up to the fleet, and each status is a word.
    const counts = await page
      .locator('[data-status-count]')
      .evaluateAll((lis) => lis.map((li) => Number(li.querySelector('strong')?.textContent ?? 'NaN')));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(2);
    // The map draws both vehicles with a text label (the base map came from this origin).
    await expect
      .poll(() => page.locator('.map .map-vehicle-label').allTextContents(), { timeout: 15_000 })
      .toEqual(
        expect.arrayContaining([expect.stringMatching(/^veh-001 · /), expect.stringMatching(/^veh-002 · /)]),
      );
    expect(await page.locator('.map path.leaflet-interactive, .map svg path').count()).toBeGreaterThan(10);

    // From here on the polls fail (aborted in the browser): whatever changes now came over SSE.
    const polls = /\/api\/trpc\/[^?]*(vehicles\.list|telemetry\.fleet)/;
    let pollsAborted = 0;
    await page.route(polls, (route) => {
      pollsAborted++;
      return route.abort();
    });
    // A new telemetry row moves the vehicle: the table shows it without a reload.
    const position = () =>
      page.locator('tr[data-vehicle-id="veh-001"] [data-field="position"]').getAttribute('data-value');
    const ts = () =>
      page.locator('tr[data-vehicle-id="veh-001"] [data-field="ts"]').getAttribute('data-value');
    const before = { position: await position(), ts: await ts() };
    await expect.poll(ts, { timeout: 30_000, interval: 250 }).not.toBe(before.ts);
    const navigations: string[] = [];
    page.on('framenavigated', (f) => navigations.push(f.url()));
    await expect.poll(position, { timeout: 90_000, interval: 500 }).not.toBe(before.position);
    expect(navigations, 'no reload').toEqual([]);
    await page.unroute(polls);
    // Every poll in that window failed, so the changes above came over SSE. A failed poll is
    // said in text; the next good one clears it.
    if (pollsAborted > 0)
      await expect.poll(() => page.locator('.fleet-error p').count(), { timeout: 30_000 }).toBe(0);

    await expectNoAxeViolations(page, 'fleet overview');
    await page.close();
  });

  it('fleet table: every column fits at 1280x800 and scrolls, visibly, in its own region at 360x740', async () => {
    const columns = [
      'Vehicle',
      'Connection',
      'Status',
      'Speed (km/h)',
      'RPM',
      'Fuel (%)',
      'Position (lat, lon)',
      'Last update',
    ];
    /** The boxes that decide whether a header can be seen: its own, its scroll region's, the page's. */
    const measure = (page: Page) =>
      page.locator('table.fleet-table').evaluate((table) => {
        const region = table.closest('.table-scroll__viewport') as HTMLElement;
        const box = (e: Element) => {
          const r = e.getBoundingClientRect();
          return { left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width };
        };
        const hint = document.querySelector('[data-scroll-hint]');
        return {
          headers: Array.from(table.querySelectorAll('thead th'), (th) => ({
            text: th.textContent,
            ...box(th),
          })),
          region: { ...box(region), scrollWidth: region.scrollWidth, clientWidth: region.clientWidth },
          overflowX: getComputedStyle(region).overflowX,
          pageWidth: document.documentElement.scrollWidth,
          windowWidth: window.innerWidth,
          hint: hint ? { text: hint.textContent, ...box(hint) } : null,
          shades: { ...(region.parentElement as HTMLElement).dataset },
          role: region.getAttribute('role'),
          tabIndex: region.tabIndex,
        };
      });

    const desk = await open('/', { width: 1280, height: 800 });
    await desk.locator('tr[data-vehicle-id]').first().waitFor({ timeout: 30_000 });
    const wide = await measure(desk);
    expect(wide.headers.map((h) => h.text)).toEqual(columns);
    // Every header lies inside the table's region and the window, nothing needs scrolling.
    for (const h of wide.headers) {
      expect(h.width, h.text!).toBeGreaterThan(0);
      expect(h.left, h.text!).toBeGreaterThanOrEqual(wide.region.left);
      expect(h.right, h.text!).toBeLessThanOrEqual(wide.region.right + 0.5);
      expect(h.right, h.text!).toBeLessThanOrEqual(wide.windowWidth);
    }
    expect(wide.region.scrollWidth).toBeLessThanOrEqual(wide.region.clientWidth + 1);
    expect(wide.pageWidth).toBeLessThanOrEqual(wide.windowWidth);
    expect(wide.hint).toBeNull();
    expect(wide.role).toBeNull();
    await desk.close();

    const phone = await open('/', { width: 360, height: 740 });
    await phone.locator('tr[data-vehicle-id]').first().waitFor({ timeout: 30_000 });
    const narrow = await measure(phone);
    expect(narrow.headers.map((h) => h.text)).toEqual(columns);
    // The page itself never scrolls sideways: the table scrolls inside its region, which ends
    // inside the window.
    expect(narrow.pageWidth).toBeLessThanOrEqual(narrow.windowWidth);
    expect(narrow.region.right).toBeLessThanOrEqual(narrow.windowWidth);
    expect(narrow.region.scrollWidth).toBeGreaterThan(narrow.region.clientWidth);
    expect(narrow.overflowX).toBe('auto');
    // Clipped columns are announced: the hint is on screen, above the table, and the right edge
    // is shaded; the region is a named keyboard stop.
    expect(narrow.hint?.text).toContain('Scroll sideways to see every column');
    expect(narrow.hint!.width).toBeGreaterThan(0);
    expect(narrow.hint!.right).toBeLessThanOrEqual(narrow.windowWidth);
    expect(narrow.hint!.bottom).toBeLessThanOrEqual(narrow.region.top);
    expect(narrow.shades).toMatchObject({ moreStart: 'false', moreEnd: 'true' });
    expect(narrow.role).toBe('region');
    expect(narrow.tabIndex).toBe(0);
    const region = phone.getByRole('region', { name: /^Latest state of each vehicle/ });
    expect(await region.count()).toBe(1);
    // Some headers start out of view; by keyboard, every one comes into the region's box.
    expect(narrow.headers.some((h) => h.right > narrow.region.right)).toBe(true);
    await region.focus();
    const seen = new Set<string>();
    for (let step = 0; step < 60 && seen.size < columns.length; step++) {
      for (const h of (await measure(phone)).headers)
        if (h.left >= narrow.region.left - 0.5 && h.right <= narrow.region.right + 0.5) seen.add(h.text!);
      await phone.keyboard.press('ArrowRight');
    }
    expect([...seen].sort()).toEqual([...columns].sort());
    await expect.poll(async () => (await measure(phone)).shades.moreStart).toBe('true');
    await expectNoAxeViolations(phone, 'fleet overview on a phone');
    await phone.close();
  });

  it('vehicle detail: the fuel chart marks the refuel and the drain with text, with table alternatives', async () => {
    const page = await open('/vehicles/veh-001');
    const chart = page.locator('svg[data-chart="fuel-level"]');
    await chart.waitFor({ timeout: 30_000 });
    const refuel = chart.locator('[data-marker="refuel"]');
    const drain = chart.locator('[data-marker="fuel_drain"]');
    await expect.poll(() => refuel.count(), { timeout: 15_000 }).toBe(1);
    expect(await drain.count()).toBe(1);
    // Words and a shape, not colour alone.
    expect(await refuel.locator('text').textContent()).toBe(`▲ Refuel +${REFUEL_L.toFixed(1)} L`);
    expect(await drain.locator('text').textContent()).toBe(`▼ Drain −${DRAIN_L.toFixed(1)} L`);
    // The drain sits left of the refuel (it happened first) and the line is drawn from rollups.
    const x = async (g: typeof refuel) => Number(await g.locator('line').getAttribute('x1'));
    expect(await x(drain)).toBeLessThan(await x(refuel));
    // 6 h of minute rollups in 7 days' 30-minute buckets: a dozen points, not 360 raw minutes.
    const points = (await chart.locator('.series-line').getAttribute('d'))!.split('L').length;
    expect(points).toBeGreaterThanOrEqual(10);
    expect(points).toBeLessThanOrEqual(20);
    // The chart's text alternative: a marker table and every point in a table.
    const markerRows = page.locator('table[data-table="fuel-markers"] tbody tr');
    expect(await markerRows.count()).toBe(2);
    expect(await page.getByText(/Fuel level values as a table \(\d+ rows\)/).count()).toBe(1);
    // Consumption from the API: the refuel and the drain volumes.
    const consumption = page.locator('[data-section="consumption"]');
    expect(await consumption.textContent()).toContain(`${REFUEL_L.toFixed(1)} L`);
    expect(await consumption.textContent()).toContain(`${DRAIN_L.toFixed(1)} L`);
    // The trouble code seeded with the drain shows under DTCs.
    expect(await page.locator('table[data-table="dtcs"]').textContent()).toContain('P0455');
    // The seeded trip, from the rollups: 40 driving minutes, 30 km, 45 km/h at most. (The live
    // simulator may have added a trip of its own since the stack started: newer, listed first.)
    const trip = page.locator('table[data-table="trips"] tbody tr', { hasText: '40 min' });
    expect(await trip.count()).toBe(1);
    expect(await trip.textContent()).toMatch(/30\.0 km.*45 km\/h/);

    // Keyboard: the range buttons are reachable and pressable; the chart redraws for 30 days.
    await page.getByRole('button', { name: '30 days' }).focus();
    await page.keyboard.press('Enter');
    await expect
      .poll(() => page.getByRole('button', { name: '30 days' }).getAttribute('aria-pressed'))
      .toBe('true');
    await expect.poll(() => chart.locator('title').textContent()).toContain('30 days');
    await expect.poll(() => chart.locator('[data-marker="refuel"]').count()).toBe(1);
    // Open the data table so axe checks it too.
    await page.getByText(/Fuel level values as a table/).click();
    await expectNoAxeViolations(page, 'vehicle detail');
    await page.close();
  });

  it('alerts inbox: the drain alert is acknowledged by keyboard, in the page and in PostgreSQL', async () => {
    const page = await open('/alerts');
    const row = page.locator('tr[data-alert-id]', { hasText: `Fuel drain: ${DRAIN_L.toFixed(1)} L lost` });
    await row.waitFor({ timeout: 30_000 });
    expect(await row.getAttribute('data-status')).toBe('open');
    await expectNoAxeViolations(page, 'alerts inbox');

    const button = row.getByRole('button', { name: /^Acknowledge Fuel drain/ });
    await button.focus();
    await page.keyboard.press('Enter');
    await page.getByText(/is now acknowledged/).waitFor({ timeout: 15_000 });
    const id = Number(await row.getAttribute('data-alert-id'));
    await expect.poll(() => row.getAttribute('data-status')).toBe('acknowledged');
    const { rows } = await db.query<{ status: string; acknowledged_by: string | null }>(
      'SELECT status, acknowledged_by FROM alerts WHERE id = $1',
      [id],
    );
    expect(rows[0]?.status).toBe('acknowledged');
    expect(rows[0]?.acknowledged_by).toMatch(/^user:/);

    // Filter: only resolved alerts -> the acknowledged one is not listed.
    await page.getByRole('checkbox', { name: /^Open/ }).uncheck();
    await page.getByRole('checkbox', { name: /^Acknowledged/ }).uncheck();
    await page.getByRole('checkbox', { name: /^Resolved/ }).check();
    await page.getByRole('button', { name: 'Apply filter' }).click();
    await expect.poll(() => page.locator(`tr[data-alert-id="${id}"]`).count()).toBe(0);
    await expectNoAxeViolations(page, 'alerts inbox after acknowledging');
    await page.close();
  });

  it('fuel: the purchases with their reconciliation, filtered by fuel type', async () => {
    const page = await open('/fuel');
    const rows = page.locator('tr[data-transaction-id]');
    await expect.poll(() => rows.count(), { timeout: 30_000 }).toBe(2);
    const shell = rows.filter({ hasText: 'Shell Karlsplatz' });
    expect(await shell.locator('td.num').allTextContents()).toEqual([REFUEL_L.toFixed(1), '70.00 EUR']);
    expect(await shell.locator('a').textContent()).toBe('veh-001');
    // Every row says how it reconciles in words.
    for (const text of await rows.locator('.badge').allTextContents())
      expect(text).toMatch(/Matched|Flagged|Unmatched|Pending/);
    await expectNoAxeViolations(page, 'fuel purchases');

    await page.getByLabel('Fuel type').fill('petrol');
    await page.getByRole('button', { name: 'Apply filter' }).click();
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain('Aral Isartor');
    expect(await page.getByRole('button', { name: /^Show more/ }).count()).toBe(0);
    await expectNoAxeViolations(page, 'fuel purchases filtered');
    await page.close();
  });

  it('search: full text and facets narrow the hits; a saved search comes back', async () => {
    const page = await open('/search');
    const total = async () =>
      Number((await page.locator('[data-field="total"]').textContent())!.replace(/\D/g, ''));
    await page.locator('[data-field="total"]').waitFor({ timeout: 30_000 });
    const all = await total();
    expect(all).toBeGreaterThanOrEqual(5); // 2 vehicles, 1+ alerts, 2 purchases

    // Facet: fuel type diesel -> only the diesel purchase.
    const dieselFacet = page.locator('[data-facet="fuelType"]').getByRole('checkbox', { name: /^diesel/ });
    await dieselFacet.check();
    await expect.poll(total).toBe(1);
    expect(await page.locator('[data-list="hits"] li').allTextContents()).toEqual([
      expect.stringContaining('Shell Karlsplatz'),
    ]);
    await dieselFacet.uncheck();
    await expect.poll(total).toBe(all);

    // Full text plus a facet: the words "fuel drain" among alerts only.
    await page.getByLabel('Words').fill('drain');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await expect.poll(total).toBe(1);
    expect(await page.locator('[data-list="hits"] li').first().getAttribute('data-hit-kind')).toBe('alert');
    await page
      .locator('[data-facet="kind"]')
      .getByRole('checkbox', { name: /^Alert/ })
      .check();
    await expect.poll(total).toBe(1);

    // Save it, clear, apply it again.
    await page.getByLabel('Name for this search').fill('Drains');
    await page.getByRole('button', { name: 'Save search' }).click();
    await page.locator('[data-saved-search="Drains"]').waitFor({ timeout: 15_000 });
    await page.getByLabel('Words').fill('');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page
      .locator('[data-facet="kind"]')
      .getByRole('checkbox', { name: /^Alert/ })
      .uncheck();
    await expect.poll(total).toBe(all);
    await page.getByRole('button', { name: 'Drains (apply)' }).click();
    await expect.poll(total).toBe(1);
    expect(await page.getByLabel('Words').inputValue()).toBe('drain');
    await expectNoAxeViolations(page, 'search with facets');
    await page.close();
  });

  it('geofences: corners typed by keyboard make a geofence the list and PostgreSQL show', async () => {
    const page = await open('/geofences');
    await page.getByText('No geofences yet.').waitFor({ timeout: 30_000 });
    const corners: [number, number][] = [
      [48.13, 11.56],
      [48.13, 11.59],
      [48.15, 11.59],
      [48.15, 11.56],
    ];
    for (const [lat, lon] of corners) {
      await page.getByLabel(/^Latitude/).fill(String(lat));
      await page.getByLabel(/^Longitude/).fill(String(lon));
      await page.getByLabel(/^Longitude/).press('Enter');
    }
    expect(await page.locator('.corner-list li').count()).toBe(4);
    // A bad coordinate is refused with a message, not added.
    await page.getByLabel(/^Latitude/).fill('91');
    await page.getByLabel(/^Longitude/).fill('11');
    await page.getByRole('button', { name: 'Add corner' }).click();
    await page.getByText('Latitude must be a number from -90 to 90.').waitFor();
    expect(await page.locator('.corner-list li').count()).toBe(4);
    await page.getByLabel('Name', { exact: true }).fill('Altstadt');
    await page.getByRole('button', { name: 'Save geofence' }).click();
    await page.locator('tr[data-geofence="Altstadt"]').waitFor({ timeout: 15_000 });
    const { rows } = await db.query<{ n: number }>(
      "SELECT cardinality(lats)::int AS n FROM geofences WHERE name = 'Altstadt'",
    );
    expect(rows[0]?.n).toBe(4);
    await page.getByLabel(/^Latitude/).fill('');
    await page.getByLabel(/^Longitude/).fill('');
    await expectNoAxeViolations(page, 'geofences');
    await page.close();
  });

  it('alert rules: a missing threshold is a field error; a rule previews its last 7 days and saves', async () => {
    const page = await open('/alerts/rules');
    await page.getByText('No rules yet: alerts show in the inbox only.').waitFor({ timeout: 30_000 });
    await page.getByLabel('Name', { exact: true }).fill('Motorway speeding');
    await page.getByLabel('When', { exact: true }).selectOption('overspeed');
    await page.getByLabel('Severity', { exact: true }).selectOption('warning');
    await page.getByRole('button', { name: 'Save rule' }).click();
    // The API's field error lands next to its field, tied to it for screen readers.
    const threshold = page.getByLabel('Above (km/h)');
    await page.locator('#err-condition-thresholdKmh').waitFor({ timeout: 15_000 });
    expect(await threshold.getAttribute('aria-invalid')).toBe('true');
    await expectNoAxeViolations(page, 'alert rules with a field error');
    await threshold.fill('100');
    await page.getByRole('button', { name: 'Preview the last 7 days' }).click();
    await page
      .getByText(/Over the last 7 days this rule would have opened \d+ alerts?/)
      .waitFor({ timeout: 15_000 });
    await page.getByRole('button', { name: 'Save rule' }).click();
    await page.locator('tr[data-rule="Motorway speeding"]').waitFor({ timeout: 15_000 });
    const { rows } = await db.query<{ source: string; threshold: number }>(
      "SELECT source, (definition -> 'condition' ->> 'thresholdKmh')::int AS threshold FROM alert_rules",
    );
    expect(rows).toEqual([{ source: 'overspeed', threshold: 100 }]);
    await expectNoAxeViolations(page, 'alert rules');
    await page.close();
  });

  it('notification settings: a bad phone number is a field error; quiet hours are saved', async () => {
    const page = await open('/settings/notifications');
    const phone = page.getByLabel('Phone number for text messages');
    // The stored settings fill the form when they arrive: type only after that.
    await page.getByText(/Empty: your account address/).waitFor({ timeout: 30_000 });
    await page.getByLabel('Text messages (SMS)').check();
    await phone.fill('not a phone');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.locator('#phone-error').waitFor({ timeout: 15_000 });
    expect(await phone.getAttribute('aria-invalid')).toBe('true');
    await expectNoAxeViolations(page, 'notification settings with a field error');
    await phone.fill('+4915112345678');
    await page.getByLabel('From (HH:MM)').fill('22:00');
    await page.getByLabel('Until (HH:MM)').fill('06:30');
    await page.getByLabel('Your time zone').fill('Europe/Berlin');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('Saved.').waitFor({ timeout: 15_000 });
    const { rows } = await db.query<{ phone: string; quiet_start: string; time_zone: string }>(
      'SELECT phone, quiet_start::text, time_zone FROM notification_settings',
    );
    expect(rows).toEqual([{ phone: '+4915112345678', quiet_start: '22:00:00', time_zone: 'Europe/Berlin' }]);
    await expectNoAxeViolations(page, 'notification settings');
    await page.close();
  });

  it('undelivered notifications: a dead letter is listed and queued again by keyboard', async () => {
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO notification_deliveries (tenant_id, recipient, channel, target, severity, subject, body_text,
                                            idempotency_key, status, attempts, last_error)
       VALUES ($1, 'email:ops@example.com', 'email', 'ops@example.com', 'critical', 'Fuel drain on van-9',
               'van-9 lost 30 L', 'e2e-dead-letter-1', 'dead', 3, '550 mailbox unavailable') RETURNING id`,
      [tenantId],
    );
    const page = await open('/notifications/dead-letters');
    const redeliver = page.getByRole('button', { name: /Redeliver/ });
    await redeliver.waitFor({ timeout: 30_000 });
    await expectNoAxeViolations(page, 'undelivered notifications');
    await redeliver.focus();
    await page.keyboard.press('Enter');
    await page.getByText('“Fuel drain on van-9” is queued again.').waitFor({ timeout: 15_000 });
    // The worker may already have tried it again (no SMTP server in this stack): the log says it was queued again.
    const after = await db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM notification_delivery_log WHERE delivery_id = $1 AND event = 'redelivered'",
      [rows[0]!.id],
    );
    expect(after.rows[0]!.n).toBe(1);
    await expectNoAxeViolations(page, 'undelivered notifications after redelivery');
    await page.close();
  });

  it('ran every page under the strict CSP without a refusal', () => {
    expect(cspRefusals).toEqual([]);
  });
});

/**
 * An afternoon of veh-001's fuel level as minute rollups (what ingest writes), ending 30 minutes
 * ago so the live minutes never collide: 70% falling slowly, a 15 L drain (-20%) at -4 h, a 40 L
 * refuel (+53%) at -2 h. Tank: 75 L. Event ids far above the agents' own. One trip in it: 40
 * minutes at 45 km/h from -3 h (30 km).
 */
async function seed(db: pg.Pool, tenantId: string) {
  const now = Date.now();
  const end = Math.floor((now - 30 * MIN) / MIN) * MIN;
  const start = end - 6 * 60 * MIN;
  const drainAt = end - 4 * 60 * MIN;
  const refuelAt = end - 2 * 60 * MIN;
  const minutes: number[] = [];
  const levels: number[] = [];
  const speeds: (number | null)[] = [];
  const tripStart = end - 3 * 60 * MIN;
  let level = 70;
  for (let t = start; t < end; t += MIN) {
    level -= 0.03;
    if (t >= drainAt && t < drainAt + 10 * MIN) level -= 2; // 10 minutes, -20 %
    if (t >= refuelAt && t < refuelAt + 5 * MIN) level += 10.6; // 5 minutes, +53 %
    minutes.push(t);
    levels.push(Math.round(level * 10) / 10);
    speeds.push(t >= tripStart && t < tripStart + 40 * MIN ? 45 : null);
  }
  await db.query(
    `INSERT INTO telemetry_minute (tenant_id, vehicle_id, minute, samples, speed_n, speed_min, speed_max,
                                   speed_sum, rpm_n, rpm_sum, fuel_min, fuel_max)
     SELECT $1, 'veh-001', to_timestamp(m / 1000.0), 60, CASE WHEN v IS NULL THEN 0 ELSE 60 END, v, v,
            coalesce(v * 60, 0), 0, 0, f - 0.2, f + 0.2
       FROM unnest($2::float8[], $3::float8[], $4::float8[]) AS u(m, f, v)
     ON CONFLICT (vehicle_id, minute) DO NOTHING`,
    [tenantId, minutes, levels, speeds],
  );
  // As the event ingest stores them, with their alerts.
  const event = (
    id: number,
    type: VehicleEventType,
    at: number,
    minutes: number,
    volume: number | null,
    details = {},
  ) =>
    seedEvents(db, tenantId, 'veh-001', [
      vehicleEvent({
        id,
        type,
        start: at,
        end: at + minutes * MIN,
        ...(volume === null ? {} : { volumeL: volume }),
        lat: 48.1391,
        lon: 11.5659,
        details,
      }),
    ]);
  await event(9_000_001, 'fuel_drain', drainAt, 10, DRAIN_L, { rateLph: 90 });
  await event(9_000_002, 'refuel', refuelAt, 5, REFUEL_L);
  await event(9_000_003, 'dtc', drainAt + 5 * MIN, 0, null, { code: 'P0455' });
  await db.query(
    `INSERT INTO fuel_transactions (tenant_id, vehicle_id, source, external_id, ts, litres, amount, currency,
                                    fuel_type, station)
     VALUES ($1, 'veh-001', 'csv', 'e2e-1', to_timestamp($2 / 1000.0), $3, 70.00, 'EUR', 'diesel', 'Shell Karlsplatz'),
            ($1, 'veh-002', 'csv', 'e2e-2', to_timestamp($2 / 1000.0), 30, 52.50, 'EUR', 'petrol', 'Aral Isartor')`,
    [tenantId, refuelAt + 10 * MIN, REFUEL_L],
  );
}
