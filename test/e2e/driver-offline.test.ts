/// <reference lib="dom" />
/**
 * The driver PWA offline, in Chromium against the real stack (production build: `next build` +
 * the service worker from web/sw/build.ts, `next start`, the cloud API, PostgreSQL, Mosquitto,
 * a simulated vehicle through a real agent):
 *
 *   sign in as a driver -> /driver (service worker installs) -> offline -> log a refuel
 *   -> reload: the page, the queued refuel and the stale-labelled data are still there
 *   -> online: the refuel reaches PostgreSQL exactly once -> sent again twice: still one row.
 *
 * The offline refuel carries a receipt photo (a 2400x1600 PNG of a few MB made here): compressed
 * in the page to a JPEG of at most 1600 px, queued as a Blob beside the refuel with its SHA-256;
 * online, exactly one receipt row whose stored bytes hash to the stored SHA-256; a finance user
 * sees the image load on /fuel.
 *
 * axe (WCAG 2.1 A/AA/AAA) runs on the page online, offline with a queued refuel, and with errors.
 * Then the driver switches to US gallons, miles and Spanish: the figures and strings change, and
 * offline the score, the challenge progress and the rank are still shown (issue 19 §4), in Spanish.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import pg from 'pg';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCaller } from '../../cloud/src/api/root.ts';
import { createUser } from '../../cloud/src/auth/auth-service.ts';
import { REPO_ROOT } from '../../scripts/lib/processes.ts';
import { type Stack, startStack } from '../../scripts/lib/stack.ts';
import { en } from '../../web/app/driver/i18n/en.ts';
import { expectNoAxeViolations } from './support/axe.ts';
import { REAL_MQTT_URL, REAL_POSTGRES_URL, requireRealServices, waitUntil } from './support/services.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// Flags that work here as root without network (environment.md).
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const WEB = path.join(REPO_ROOT, 'web');

/** Newest modification time under `dir` (sources that a build depends on). */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.next')) continue;
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/**
 * The service worker runs only in a production build. `npm start` builds; a test run may come
 * first, so build here when there is no build or it is older than the web sources. Every
 * `next build` also writes the worker into the build folder (next.config.ts, web/sw/build.ts).
 */
function ensureProductionBuild(): void {
  const distDir = path.join(WEB, process.env.FLEET_WEB_DIST_DIR || '.next');
  const buildId = path.join(distDir, 'BUILD_ID');
  const sw = path.join(distDir, 'sw.js');
  const builtAt =
    existsSync(buildId) && existsSync(sw) ? Math.min(statSync(buildId).mtimeMs, statSync(sw).mtimeMs) : 0;
  const sources = Math.max(
    ...['app', 'lib', 'sw', 'components', 'public', 'proxy.ts', 'next.config.ts'].map((d) => {
      const full = path.join(WEB, d);
      if (!existsSync(full)) return 0;
      return statSync(full).isDirectory() ? newestMtime(full) : statSync(full).mtimeMs;
    }),
  );
  if (builtAt > sources) return;
  execFileSync('pnpm', ['--filter', '@fleet/web', 'build'], {
    cwd: REPO_ROOT,
    stdio: 'inherit',
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
  });
  if (!existsSync(sw)) throw new Error(`next build wrote no service worker at ${sw} (see web/sw/build.ts)`);
}

/**
 * A PNG as a phone camera's photo would be before compression: `width` x `height` RGB, a smooth
 * gradient with a little seeded noise (so it is a few MB, not a few kB). Encoded here with zlib:
 * no image library needed.
 */
function photoLikePng(width: number, height: number): Buffer {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  let seed = 0x2545f491;
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    raw[row] = 0; // filter: none
    for (let x = 0; x < width; x++) {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      const noise = seed & 7;
      const o = row + 1 + x * 3;
      raw[o] = ((x * 200) / width + noise) & 0xff;
      raw[o + 1] = ((y * 200) / height + noise) & 0xff;
      raw[o + 2] = (120 + noise * 3) & 0xff;
    }
  }
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

interface QueuedEntry {
  clientId: string;
  litres: number;
  [key: string]: unknown;
}

/** The driver's IndexedDB outbox as the page sees it (web/lib/offline/queue.ts). */
const readOutbox = (page: Page) =>
  page.evaluate(
    () =>
      new Promise<QueuedEntry[]>((resolve, reject) => {
        const open = indexedDB.open('fleet-driver');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          if (!db.objectStoreNames.contains('refuel-outbox')) return resolve([]);
          const req = db.transaction('refuel-outbox').objectStore('refuel-outbox').getAll();
          req.onsuccess = () => {
            resolve(req.result as QueuedEntry[]);
            db.close();
          };
          req.onerror = () => reject(req.error);
        };
      }),
  );

describe('driver PWA offline (real stack, production build, service worker)', () => {
  const run = randomBytes(4).toString('hex');
  const schema = `e2e_driver_${run}`;
  const tenantId = `t${run}`;
  const driver = { email: `driver-${run}@fleet.test`, password: `pw-${randomBytes(12).toString('hex')}` };
  const finance = { email: `finance-${run}@fleet.test`, password: `pw-${randomBytes(12).toString('hex')}` };
  const station = `E2E station ${run}`;
  const challengeName = `Distance week ${run}`;
  let stack: Stack;
  let db: pg.Pool;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let webUrl: string;

  const rowsFor = async (clientId: string) =>
    (
      await db.query<{ n: number }>('SELECT count(*)::int AS n FROM refuel_logs WHERE client_id = $1', [
        clientId,
      ])
    ).rows[0]!.n;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium`);
    await requireRealServices();
    ensureProductionBuild();
    stack = await startStack({
      vehicles: 1,
      tickMs: 250,
      apiPort: 0,
      webPort: 0,
      tenantId,
      transport: 'auto',
      dataDir: path.join(os.tmpdir(), `fleet-e2e-driver-${run}`),
      databaseUrl: REAL_POSTGRES_URL,
      mqttUrl: REAL_MQTT_URL,
      databaseSchema: schema,
      baseTopic: `fleet-e2e-${run}`,
    });
    webUrl = stack.webUrl!;
    db = new pg.Pool({ connectionString: stack.databaseUrl, max: 1, options: `-c search_path=${schema}` });
    // The driver is bound to the simulated vehicle, which exists once its first data arrived.
    await waitUntil(
      'the simulated vehicle to register',
      async () => (await db.query('SELECT 1 FROM vehicles WHERE id = $1', ['veh-001'])).rowCount,
      (n) => n === 1,
    );
    await createUser(db, {
      tenantId,
      name: 'Dana Driver',
      role: 'driver',
      vehicleId: 'veh-001',
      ...driver,
    });
    await createUser(db, { tenantId, name: 'Fin Ance', role: 'finance', ...finance });
    // A running distance challenge (target 10 km): the driver's progress and rank in it.
    const utcMinute = (ms: number) => new Date(ms).toISOString().slice(0, 16);
    await createCaller({
      db,
      session: {
        userId: 'e2e-admin',
        tenantId,
        email: 'admin@e2e.test',
        name: 'admin',
        role: 'admin',
        vehicleId: null,
      },
    }).challenges.create({
      name: challengeName,
      metric: 'distance_km',
      direction: 'at_least',
      target: 10,
      minKm: 0,
      timeZone: 'UTC',
      startsLocal: utcMinute(Date.now() - 86_400_000),
      endsLocal: utcMinute(Date.now() + 7 * 86_400_000),
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    // A phone: the driver's device (layout, touch targets and axe all judged at this size).
    context = await browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
    });
    page = await context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await db?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
    await db?.end();
    await stack?.stop();
  });

  it('is installable: a manifest with /driver, standalone, 192/512 and maskable PNG icons', async () => {
    const res = await fetch(`${webUrl}/manifest.webmanifest`);
    expect(res.status).toBe(200);
    const manifest = (await res.json()) as {
      start_url: string;
      display: string;
      theme_color: string;
      icons: { src: string; sizes: string; purpose: string }[];
    };
    expect(manifest.start_url).toBe('/driver');
    expect(manifest.display).toBe('standalone');
    expect(manifest.theme_color).toMatch(/^#[0-9a-f]{6}$/i);
    for (const size of [192, 512]) {
      for (const purpose of ['any', 'maskable']) {
        const icon = manifest.icons.find((i) => i.sizes === `${size}x${size}` && i.purpose === purpose);
        expect(icon, `${purpose} ${size}`).toBeDefined();
        const png = Buffer.from(await (await fetch(`${webUrl}${icon!.src}`)).arrayBuffer());
        // PNG signature, then the IHDR chunk's width and height.
        expect(png.subarray(1, 4).toString()).toBe('PNG');
        expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([size, size]);
      }
    }
  });

  it('signs a driver in and installs the service worker on /driver, under the strict CSP', async () => {
    const refused: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) refused.push(m.text());
    });
    await page.goto(`${webUrl}/login`);
    await page.getByLabel('Email').fill(driver.email);
    await page.getByLabel('Password').fill(driver.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // A driver lands in the driver app, not on the managers' dashboard.
    await page.waitForURL((u) => u.pathname === '/driver', { timeout: 30_000 });
    const res = await page.goto(`${webUrl}/driver`);
    expect(res!.headers()['content-security-policy']).toContain("worker-src 'self'");
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 60_000 });
    // The first visit's API answers came before the worker controlled the page: this load is
    // the one whose answers the worker keeps for offline use.
    await page.reload();
    await page.getByTestId('fuel-level').waitFor({ timeout: 60_000 });
    await page.getByTestId('score').waitFor({ timeout: 30_000 });
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('My vehicle');
    expect(await page.locator('.freshness--stale').count()).toBe(0);
    expect(refused, 'CSP violations').toEqual([]);
    await expectNoAxeViolations(page, 'driver home online');
  });

  it('announces form errors and passes axe with them shown', async () => {
    await page.getByLabel('Litres (required)').fill('-3');
    await page.getByRole('button', { name: 'Log refuel' }).click();
    const summary = page.locator('.form-errors[role="alert"]');
    await expect(summary.textContent()).resolves.toMatch(/Litres: Litres must be a number above 0/);
    // Focus goes to the first wrong field, which names its error.
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-invalid'))).toBe('true');
    await expectNoAxeViolations(page, 'driver home with form errors');
  });

  let clientId: string;
  /** The receipt as the phone queued it: sizes before and after compression, and its hash. */
  const photoSizes = { status: '', png: 0, jpeg: 0, sha256: '' };

  it('offline: logs a refuel into the outbox, and a reload still shows the page, the refuel and stale data', async () => {
    await context.setOffline(true);
    await page.getByText('Offline: showing the data saved on this phone').waitFor();
    await page.getByLabel('Litres (required)').fill('42.5');
    await page.getByLabel('Amount paid').fill('71.23');
    await page.getByLabel('Odometer (km)').fill('12345');
    await page.getByLabel('Station').fill(station);
    // The receipt: a few-MB PNG, chosen in the photo field (a camera on a phone), made smaller here.
    const png = photoLikePng(2400, 1600);
    expect(png.length).toBeGreaterThan(2 * 1024 * 1024);
    await page.getByLabel('Receipt photo (optional)').setInputFiles({
      name: 'receipt.png',
      mimeType: 'image/png',
      buffer: png,
    });
    const photoStatus = page.getByTestId('receipt-status');
    await expect
      .poll(() => photoStatus.textContent(), { timeout: 30_000 })
      .toMatch(/^Photo ready: [\d.]+ MB → [\d.,]+ (kB|MB)\.$/);
    photoSizes.status = (await photoStatus.textContent()) ?? '';
    await expectNoAxeViolations(page, 'refuel form with a receipt photo chosen');
    await page.getByRole('button', { name: 'Log refuel' }).click();
    const queued = page.locator('[data-testid="outbox"] li[data-state="waiting"]');
    await queued.waitFor();
    expect(await queued.textContent()).toMatch(/Waiting to sync.*42\.50 L diesel.*, with receipt photo/);
    expect(await page.getByTestId('announcer').textContent()).toMatch(/waiting to sync/);
    const outbox = await readOutbox(page);
    expect(outbox).toHaveLength(1);
    clientId = outbox[0]!.clientId;
    expect(clientId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await rowsFor(clientId)).toBe(0);
    // The photo waits in the same IndexedDB entry, as a JPEG Blob with the hash of its bytes.
    const receipt = await page.evaluate(
      () =>
        new Promise<{
          type: string;
          size: number;
          originalBytes: number;
          width: number;
          height: number;
          sha256: string;
          recomputed: string;
        }>((resolve, reject) => {
          const open = indexedDB.open('fleet-driver');
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const req = open.result.transaction('refuel-outbox').objectStore('refuel-outbox').getAll();
            req.onsuccess = async () => {
              open.result.close();
              const r = (
                req.result as {
                  receipt: {
                    blob: Blob;
                    sha256: string;
                    originalBytes: number;
                    width: number;
                    height: number;
                  };
                }[]
              )[0]!.receipt;
              const digest = await crypto.subtle.digest('SHA-256', await r.blob.arrayBuffer());
              resolve({
                type: r.blob.type,
                size: r.blob.size,
                originalBytes: r.originalBytes,
                width: r.width,
                height: r.height,
                sha256: r.sha256,
                recomputed: Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join(
                  '',
                ),
              });
            };
            req.onerror = () => reject(req.error);
          };
        }),
    );
    expect(receipt).toMatchObject({
      type: 'image/jpeg',
      originalBytes: png.length,
      width: 1600,
      height: 1067,
    });
    expect(receipt.size).toBeLessThan(png.length / 4);
    expect(receipt.recomputed).toBe(receipt.sha256);
    Object.assign(photoSizes, { png: png.length, jpeg: receipt.size, sha256: receipt.sha256 });

    // Reload with no network at all: the service worker serves the page and the last answers.
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'My vehicle' }).waitFor();
    await page.locator(`[data-testid="outbox"] li[data-client-id="${clientId}"]`).waitFor();
    await page.getByTestId('fuel-level').waitFor();
    const stale = page.locator('.freshness--stale').first();
    await stale.waitFor();
    expect(await stale.textContent()).toMatch(/^Stale: last updated \d\d:\d\d, offline$/);
    expect(await rowsFor(clientId)).toBe(0);
    await expectNoAxeViolations(page, 'driver home offline with a queued refuel');
  });

  it('online again: the refuel reaches PostgreSQL exactly once and leaves the outbox', async () => {
    await context.setOffline(false);
    await waitUntil(
      'the refuel row',
      () => rowsFor(clientId),
      (n) => n >= 1,
      60_000,
    );
    await page.getByTestId('outbox-empty').waitFor({ timeout: 30_000 });
    await page
      .locator(`[data-testid="recent-refuels"] li[data-client-id="${clientId}"]`)
      .waitFor({ timeout: 30_000 });
    const { rows } = await db.query(
      'SELECT litres, amount::float8 AS amount, currency, odometer_km, station, fuel_type, vehicle_id FROM refuel_logs WHERE client_id = $1',
      [clientId],
    );
    expect(rows).toEqual([
      {
        litres: 42.5,
        amount: 71.23,
        currency: 'EUR',
        odometer_km: 12345,
        station,
        fuel_type: 'diesel',
        vehicle_id: 'veh-001',
      },
    ]);
    // Its receipt: exactly one row, whose stored bytes hash to the stored SHA-256, the phone's.
    const receiptRows = () =>
      db.query<{ sha256: string; stored: string; size_bytes: number; content_type: string }>(
        `SELECT r.sha256, encode(sha256(r.bytes), 'hex') AS stored, r.size_bytes, r.content_type
           FROM refuel_receipts r JOIN refuel_logs l ON l.id = r.refuel_log_id WHERE l.client_id = $1`,
        [clientId],
      );
    await waitUntil(
      'the receipt row',
      async () => (await receiptRows()).rowCount,
      (n) => n === 1,
      30_000,
    );
    expect((await receiptRows()).rows).toEqual([
      {
        sha256: photoSizes.sha256,
        stored: photoSizes.sha256,
        size_bytes: photoSizes.jpeg,
        content_type: 'image/jpeg',
      },
    ]);
    console.log(
      `receipt: PNG ${photoSizes.png} B -> JPEG ${photoSizes.jpeg} B (${photoSizes.status}); sha256 ${photoSizes.sha256}`,
    );
  });

  it('finance sees the receipt photo load on /fuel, beside the refuel it belongs to', async () => {
    const office = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const fin = await office.newPage();
      await fin.goto(`${webUrl}/login`);
      await fin.getByLabel('Email').fill(finance.email);
      await fin.getByLabel('Password').fill(finance.password);
      await fin.getByRole('button', { name: 'Sign in' }).click();
      await fin.waitForURL((u) => u.pathname !== '/login', { timeout: 30_000 });
      await fin.goto(`${webUrl}/fuel`);
      const logId = (
        await db.query<{ id: number }>('SELECT id::int AS id FROM refuel_logs WHERE client_id = $1', [
          clientId,
        ])
      ).rows[0]!.id;
      const thumb = fin.locator(
        `[data-table="driver-refuels"] tr[data-refuel-log-id="${logId}"] img.receipt-thumb`,
      );
      await thumb.waitFor({ timeout: 30_000 });
      await thumb.scrollIntoViewIfNeeded();
      await expect
        .poll(() => thumb.evaluate((img: HTMLImageElement) => (img.complete ? img.naturalWidth : 0)), {
          timeout: 30_000,
        })
        .toBe(1600);
      // The bytes finance gets are the bytes the phone hashed.
      const served = await fin.evaluate(async (id) => {
        const res = await fetch(`/api/receipts/${id}`);
        const digest = await crypto.subtle.digest('SHA-256', await res.arrayBuffer());
        return {
          status: res.status,
          type: res.headers.get('content-type'),
          sha256: Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join(''),
        };
      }, logId);
      expect(served).toEqual({ status: 200, type: 'image/jpeg', sha256: photoSizes.sha256 });
      // The driver's own session does not read the office's receipts.
      expect(await page.evaluate(async (id) => (await fetch(`/api/receipts/${id}`)).status, logId)).toBe(403);
    } finally {
      await office.close();
    }
  });

  it('Background Sync: the service worker alone sends the outbox when the browser fires "sync"', async () => {
    // An entry the page has not seen (no load, no submit, no `online` event will send it): only
    // the worker's sync handler can. DevTools fires the event as Chromium does when the link returns.
    const me = await page.evaluate(
      async () =>
        ((await (await fetch('/api/trpc/auth.me')).json()) as { result: { data: { userId: string } } }).result
          .data,
    );
    const syncId = await page.evaluate(
      ([userId, stationName]) =>
        new Promise<string>((resolve, reject) => {
          const id = crypto.randomUUID();
          const open = indexedDB.open('fleet-driver');
          open.onsuccess = () => {
            const tx = open.result.transaction('refuel-outbox', 'readwrite');
            tx.objectStore('refuel-outbox').put({
              clientId: id,
              userId,
              vehicleId: 'veh-001',
              ts: Date.now() - 120_000,
              litres: 10,
              amount: null,
              currency: null,
              fuelType: 'adblue',
              station: stationName,
              odometerKm: null,
              queuedAt: Date.now(),
              attempts: 0,
              lastAttemptAt: null,
              rejected: null,
            });
            tx.oncomplete = () => resolve(id);
            tx.onerror = () => reject(tx.error);
          };
        }),
      [me.userId as string, `${station} (background)`] as const,
    );
    const cdp = await context.newCDPSession(page);
    const registrationId = new Promise<string>((resolve) => {
      cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations }) => {
        const r = registrations.find((x) => x.scopeURL === `${webUrl}/driver` && !x.isDeleted);
        if (r) resolve(r.registrationId);
      });
    });
    await cdp.send('ServiceWorker.enable');
    await cdp.send('ServiceWorker.dispatchSyncEvent', {
      origin: webUrl,
      registrationId: await registrationId,
      tag: 'fleet-refuel-outbox',
      lastChance: false,
    });
    await waitUntil(
      'the worker to send the refuel',
      () => rowsFor(syncId),
      (n) => n === 1,
      30_000,
    );
    await waitUntil(
      'the worker to empty the outbox',
      () => readOutbox(page),
      (o) => o.every((e) => e.clientId !== syncId),
      30_000,
    );
    await cdp.detach();
  });

  it('a refuel the cloud refuses for good stays on the phone, marked with the reason, until removed', async () => {
    // Older than the API's 31-day window: the form would not let it through, an old phone might.
    const me = await page.evaluate(
      async () =>
        ((await (await fetch('/api/trpc/auth.me')).json()) as { result: { data: { userId: string } } }).result
          .data,
    );
    const oldId = await page.evaluate(
      (userId) =>
        new Promise<string>((resolve, reject) => {
          const id = crypto.randomUUID();
          const open = indexedDB.open('fleet-driver');
          open.onsuccess = () => {
            const tx = open.result.transaction('refuel-outbox', 'readwrite');
            tx.objectStore('refuel-outbox').put({
              clientId: id,
              userId,
              vehicleId: 'veh-001',
              ts: Date.now() - 40 * 86_400_000,
              litres: 5,
              amount: null,
              currency: null,
              fuelType: 'diesel',
              station: null,
              odometerKm: null,
              queuedAt: Date.now(),
              attempts: 0,
              lastAttemptAt: null,
              rejected: null,
            });
            tx.oncomplete = () => resolve(id);
            tx.onerror = () => reject(tx.error);
          };
        }),
      me.userId,
    );
    await page.reload();
    const refused = page.locator(
      `[data-testid="outbox"] li[data-client-id="${oldId}"][data-state="rejected"]`,
    );
    await refused.waitFor({ timeout: 30_000 });
    expect(await refused.textContent()).toMatch(/Not accepted: refuel older than 31 days/);
    expect(await rowsFor(oldId)).toBe(0);
    await expectNoAxeViolations(page, 'driver home with a refused refuel');
    await refused.getByRole('button', { name: 'Remove this refuel' }).click();
    await refused.waitFor({ state: 'detached' });
    expect((await readOutbox(page)).some((e) => e.clientId === oldId)).toBe(false);
  });

  it('sending the same refuel again (lost answer, second tab) never makes a second row', async () => {
    // 1. The answer to the first send was "lost": the entry is back in the outbox and a page load
    //    sends it again through the app's own sync path.
    // The outbox sends only the signed-in driver's entries: the entry names them, as the form does.
    const me = await page.evaluate(
      async () =>
        ((await (await fetch('/api/trpc/auth.me')).json()) as { result: { data: { userId: string } } }).result
          .data,
    );
    await page.evaluate(
      ([id, userId, stationName]) =>
        new Promise<void>((resolve, reject) => {
          const open = indexedDB.open('fleet-driver');
          open.onsuccess = () => {
            const tx = open.result.transaction('refuel-outbox', 'readwrite');
            tx.objectStore('refuel-outbox').put({
              clientId: id,
              userId,
              vehicleId: 'veh-001',
              ts: Date.now() - 60_000,
              litres: 42.5,
              amount: 71.23,
              currency: 'EUR',
              fuelType: 'diesel',
              station: stationName,
              odometerKm: 12345,
              queuedAt: Date.now(),
              attempts: 0,
              lastAttemptAt: null,
              rejected: null,
            });
            tx.oncomplete = () => resolve();
            tx.onerror = () => reject(tx.error);
          };
        }),
      [clientId, me.userId as string, station] as const,
    );
    expect((await readOutbox(page)).map((e) => e.clientId)).toEqual([clientId]);
    await page.reload();
    await page.getByTestId('outbox-empty').waitFor({ timeout: 30_000 });
    await waitUntil(
      'the outbox to drain',
      () => readOutbox(page),
      (o) => o.length === 0,
      30_000,
    );

    // 2. Two more raw sends of the same key from the browser session: both answered with the
    //    existing row (created: false).
    for (let i = 0; i < 2; i++) {
      const answer = await page.evaluate(
        async ([id, stationName]) => {
          const res = await fetch('/api/trpc/refuels.log', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({
              clientId: id,
              vehicleId: 'veh-001',
              ts: Date.now() - 60_000,
              litres: 42.5,
              fuelType: 'diesel',
              station: stationName,
            }),
          });
          return {
            status: res.status,
            body: (await res.json()) as {
              result: { data: { created: boolean; refuel: { clientId: string } } };
            },
          };
        },
        [clientId, station] as const,
      );
      expect(answer.status).toBe(200);
      expect(answer.body.result.data.created).toBe(false);
      expect(answer.body.result.data.refuel.clientId).toBe(clientId);
    }
    await new Promise((r) => setTimeout(r, 500));
    expect(await rowsFor(clientId)).toBe(1);
    expect(
      (
        await db.query<{ n: number }>('SELECT count(*)::int AS n FROM refuel_logs WHERE station = $1', [
          station,
        ])
      ).rows[0]!.n,
    ).toBe(1);
  });

  it('US gallons, miles and Spanish: figures and strings change; offline the score, challenge progress and rank stay', async () => {
    const settings = page.getByTestId('settings');
    // One change at a time: each is saved, then read back (the worker keeps that answer for offline).
    const saved = () => page.waitForResponse((r) => r.url().includes('/api/trpc/auth.preferences'));
    for (const [label, value] of [
      ['Volume', 'gal'],
      ['Distance', 'mi'],
      ['Language', 'es'],
    ] as const)
      await Promise.all([saved(), settings.getByLabel(label).selectOption(value)]);
    // A fresh load: nothing said earlier in English stays in the live region.
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Mi vehículo' }).waitFor({ timeout: 30_000 });
    await page.locator('[data-testid="recent-refuels"]').waitFor({ timeout: 30_000 });
    // The first refuel (42.5 L) as the office has it: 42.5 / 3.785411784 = 11.23 US gallons.
    const refuel = page.locator(`[data-testid="recent-refuels"] li[data-client-id="${clientId}"]`);
    expect(await refuel.textContent()).toMatch(
      /Sincronizado 11,23 gal de diésel, .*71,23 EUR \(6,344 EUR\/gal\)/,
    );
    expect(await page.getByLabel('Cuentakilómetros (mi)').count()).toBe(1);
    expect(await page.getByLabel('Galones (obligatorio)').count()).toBe(1);
    // The challenge's 10 km target in miles (6.2 → "6 mi"), and the driver's rank among those ranked.
    const challenge = page.getByTestId('challenge-progress');
    await challenge.waitFor({ timeout: 30_000 });
    const online = (await challenge.textContent()) ?? '';
    expect(online).toContain(challengeName);
    expect(online).toMatch(/objetivo como mínimo 6 mi, puesto 1 de 1/);
    expect(await page.getByTestId('score').textContent()).toMatch(/^Puntuación de eficiencia: /);
    expect(await page.getByTestId('score-summary').textContent()).toMatch(/^[\d.,]+ mi recorridos, /);
    expect(await page.getByTestId('rolling-score').textContent()).toMatch(
      /^(Aún sin puntuación: [\d.,]+ mi de 62 mi recorridos|Puntuación [\d,]+ de 100; mejor que el \d+%)/,
    );
    // No fixed English sentence of the catalogue is left on the page (server data aside).
    const shown = (await page.locator('.driver').textContent()) ?? '';
    const fragments = Object.values(en)
      .flatMap((m) => (typeof m === 'string' ? [m] : [m.one, m.other]))
      .flatMap((m) => m.split(/\{\w+\}/))
      .map((f) => f.trim())
      .filter((f) => f.length >= 12);
    expect(fragments.length).toBeGreaterThan(100);
    expect(fragments.filter((f) => shown.includes(f))).toEqual([]);
    await expectNoAxeViolations(page, 'driver home in Spanish, gallons and miles');

    // Offline, a fresh load: everything from the worker's cache, in Spanish, marked stale.
    await context.setOffline(true);
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Mi vehículo' }).waitFor();
    await page.getByText('Sin conexión: se muestran los datos guardados en este teléfono').waitFor();
    await page.getByTestId('challenge-progress').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('challenge-progress').textContent()).toMatch(
      /objetivo como mínimo 6 mi, puesto 1 de 1/,
    );
    await page.getByTestId('rolling-score').waitFor();
    expect(await page.getByTestId('score').textContent()).toMatch(/^Puntuación de eficiencia: /);
    expect(await page.getByTestId('points-balance').textContent()).toMatch(/^Puntos: \d+$/);
    expect(await page.getByTestId('programme').locator('.freshness--stale').textContent()).toMatch(
      /^Desactualizado: última actualización \d\d:\d\d, sin conexión$/,
    );
    await expectNoAxeViolations(page, 'driver home offline in Spanish');
    await context.setOffline(false);
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Mi vehículo' }).waitFor();
  });

  it('sign-out deletes the cached driver data, so the next user of the phone cannot read it', async () => {
    expect(await page.evaluate(() => caches.has('fleet-driver-data-v1'))).toBe(true);
    await page.getByRole('button', { name: /^(Sign out|Cerrar sesión)$/ }).click();
    // A read still in flight when the session ends answers 401, whose handler also clears the
    // driver's data and goes to the sign-in page (with ?next=/driver): either way is a sign-out.
    await page.waitForURL(/\/login(\?next=%2Fdriver)?$/, { timeout: 30_000 });
    expect(await page.evaluate(() => caches.has('fleet-driver-data-v1'))).toBe(false);
    // The page itself (no personal data) stays cached for the next driver's offline use.
    expect(await page.evaluate(() => caches.has('fleet-driver-pages-v1'))).toBe(true);
  });
});
