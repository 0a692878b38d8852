/**
 * The browser tests' common start: the whole stack with the web app (production build) and
 * Debian's Chromium through playwright-core, plus a way to sign someone in.
 *
 *   services: 'real'     -> the local PostgreSQL (a schema of its own, dropped at stop) and
 *                           Mosquitto (a base topic of its own): what CI checks against
 *   services: 'embedded' -> aedes + PGlite, as the README's `npm start` runs it (fresh at each start)
 *
 * Every port is picked free, so several of these run side by side on one machine.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import {
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  chromium,
  type Locator,
  type Page,
} from 'playwright-core';
import { type Stack, type StackOptions, startStack } from '../../../scripts/lib/stack.ts';
import { REAL_MQTT_URL, REAL_POSTGRES_URL, requireRealServices } from './services.ts';
import { ensureWebBuild } from './web-build.ts';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// Flags that work here as root without network (environment.md).
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A phone for the driver PWA (what drivers carry). */
export const PHONE: BrowserContextOptions = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
};

export interface StackSessionOptions {
  /** Names the schema, base topic and working folder (`fleet-e2e-NAME-RUN`). */
  name: string;
  services: 'real' | 'embedded';
  /** Simulated vehicles the stack starts itself (veh-001, ...); default 1. */
  vehicles?: number;
  /** Anything else for startStack (scenarios, tick, cloud environment). */
  stack?: Omit<StackOptions, 'vehicles' | 'databaseUrl' | 'mqttUrl' | 'databaseSchema'>;
}

export interface StackSession {
  /** Random per start: names the tenant, schema and topics, and makes e-mails unique. */
  run: string;
  tenantId: string;
  /** The real PostgreSQL schema (null: embedded). */
  schema: string | null;
  stack: Stack;
  /** The stack's database, with the schema on the search path (as the owner: no RLS). */
  db: pg.Pool;
  browser: Browser;
  /** A fresh browser context signed in through the sign-in page (lands on / or /driver). */
  signIn(email: string, password: string, context?: BrowserContextOptions): Promise<SignedIn>;
  stop(): Promise<void>;
}

export interface SignedIn {
  context: BrowserContext;
  page: Page;
}

export async function signInOn(page: Page, webUrl: string, email: string, password: string): Promise<void> {
  await page.goto(`${webUrl}/login`);
  await hydrated(page.getByRole('button', { name: 'Sign in' }));
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => u.pathname === '/' || u.pathname === '/driver', { timeout: 30_000 });
}

/**
 * Waits until React has hydrated the element: before that, a server-rendered form takes typing and
 * clicks that React then drops (a click on its submit button posts the plain HTML form instead).
 * On a loaded 2-core machine hydration can trail the first paint by seconds.
 */
export async function hydrated(target: Locator, timeout = 30_000): Promise<void> {
  await target.waitFor({ timeout });
  await target
    .page()
    .waitForFunction(
      (el) => Object.keys(el as object).some((k) => k.startsWith('__reactProps$')),
      await target.elementHandle(),
      { timeout },
    );
}

/** Fails loudly (never skips) when a service or Chromium is missing; cleans up what it started. */
export async function startStackSession(options: StackSessionOptions): Promise<StackSession> {
  if (options.services === 'real') await requireRealServices();
  if (!existsSync(CHROMIUM))
    throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium`);
  ensureWebBuild();
  const run = randomBytes(4).toString('hex');
  const real = options.services === 'real';
  const schema = real ? `e2e_${options.name.replaceAll('-', '_')}_${run}` : null;
  const tenantId = real ? `t${run}` : (options.stack?.tenantId ?? 'demo');
  const label = `fleet-e2e-${options.name}-${run}`;
  let stack: Stack | undefined;
  let db: pg.Pool | undefined;
  let browser: Browser | undefined;
  const stop = async () => {
    await browser?.close().catch(() => {});
    if (db && schema) await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
    await db?.end().catch(() => {});
    await stack?.stop();
  };
  try {
    stack = await startStack({
      apiPort: 0,
      webPort: 0,
      // Embedded: off the README's default ports, which a developer's `npm start` may hold.
      mqttPort: 0,
      pgPort: 0,
      dataDir: path.join(os.tmpdir(), label),
      ...options.stack,
      vehicles: options.vehicles ?? 1,
      tenantId,
      ...(real
        ? {
            databaseUrl: REAL_POSTGRES_URL,
            mqttUrl: REAL_MQTT_URL,
            databaseSchema: schema!,
            baseTopic: label,
          }
        : {}),
    });
    db = new pg.Pool({
      connectionString: stack.databaseUrl,
      max: 2,
      ...(schema ? { options: `-c search_path=${schema}` } : {}),
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  } catch (err) {
    await stop();
    throw err;
  }
  const started = { stack, db, browser };
  return {
    run,
    tenantId,
    schema,
    ...started,
    async signIn(email, password, context = {}) {
      const ctx = await started.browser.newContext({ reducedMotion: 'reduce', ...context });
      const page = await ctx.newPage();
      await signInOn(page, started.stack.webUrl!, email, password);
      return { context: ctx, page };
    },
    stop,
  };
}
