/**
 * OpenID Connect sign-in against a real identity provider: oidc-provider (the certified Node
 * implementation) on localhost, with its development login and consent pages, driven in Debian's
 * Chromium. (oidc-provider 9 prefers Node 22 and says so on start; it is the test's IdP only.)
 */
import { createLogger } from '@fleet/shared/log';
import Provider from 'oidc-provider';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiServer, startApiServer } from '../src/api/server.ts';
import { OidcLogin } from '../src/auth/oidc.ts';
import { freePort } from './support/private-services.ts';
import type { openTestPool } from './support/services.ts';
import { openPoolWithUser } from './support/sessions.ts';

const log = createLogger('oidc-test').child({}, { level: 'fatal' });
let db: Awaited<ReturnType<typeof openTestPool>>;
let api: ApiServer;
let idp: { close(): void };
let browser: Browser;

beforeAll(async () => {
  db = await openPoolWithUser('t_oidc', {
    email: 'manager@acme.test',
    role: 'fleet_manager',
    password: 'unused-password-123',
  });

  const [idpPort, apiPort] = [await freePort(), await freePort()];
  const issuer = `http://127.0.0.1:${idpPort}`;
  const redirectUri = `http://127.0.0.1:${apiPort}/auth/oidc/callback`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'fleet',
        client_secret: 'fleet-client-secret-0123456789abcdef',
        redirect_uris: [redirectUri],
      },
    ],
    // The login form takes any account name: here, the email the IdP vouches for.
    findAccount: async (_ctx: unknown, id: string) => ({
      accountId: id,
      claims: async () => ({ sub: id, email: id, email_verified: true }),
    }),
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    pkce: { required: () => true },
  });
  idp = provider.listen(idpPort);
  api = await startApiServer({
    pool: db.pool,
    host: '127.0.0.1',
    port: apiPort,
    log,
    oidc: new OidcLogin(
      {
        issuer,
        clientId: 'fleet',
        clientSecret: 'fleet-client-secret-0123456789abcdef',
        redirectUri,
        afterLogin: '/healthz',
        allowInsecure: true,
      },
      db.pool,
    ),
  });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await api?.close();
  idp?.close();
  await db?.drop();
});

/** Through the provider's login and consent pages as `account`; the page where the browser lands. */
async function signInAt(account: string) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${api.url}/auth/oidc/start`);
  await page.locator('input[name="login"]').fill(account);
  await page.locator('input[name="password"]').fill('anything');
  await page.locator('button[type="submit"]').click();
  await page.locator('button[type="submit"]').click({ timeout: 10_000 }); // consent: Continue
  await page.waitForURL((u) => u.port === new URL(api.url).port, { timeout: 10_000 });
  const cookies = await context.cookies(api.url);
  const url = page.url();
  await context.close();
  return { url, session: cookies.find((c) => c.name === 'fleet_session') };
}

describe('OpenID Connect sign-in (oidc-provider + Chromium)', () => {
  it('a user the IdP vouches for gets an httpOnly session of their own account', async () => {
    const { url, session } = await signInAt('manager@acme.test');
    expect(new URL(url).pathname).toBe('/healthz');
    expect(session?.httpOnly).toBe(true);
    // Lax, not Strict: the provider's redirect back is cross-site (session-cookie.ts); no Secure
    // over this test's plain http.
    expect([session?.sameSite, session?.secure]).toEqual(['Lax', false]);
    const me = await fetch(`${api.url}/trpc/auth.me`, {
      headers: { cookie: `fleet_session=${session!.value}` },
    });
    const body = (await me.json()) as { result: { data: { email: string; role: string; tenantId: string } } };
    expect(body.result.data).toMatchObject({
      email: 'manager@acme.test',
      role: 'fleet_manager',
      tenantId: 'acme',
    });
    const { rows } = await db.pool.query(`SELECT action FROM audit_log WHERE action = 'auth.login-oidc'`);
    expect(rows).toHaveLength(1);
    const methods = await fetch(`${api.url}/trpc/auth.methods`);
    expect(((await methods.json()) as { result: { data: unknown } }).result.data).toEqual({
      password: true,
      oidc: true,
    });
  }, 60_000);

  it('an identity with no account here is sent back to sign-in with the reason, without a session', async () => {
    const { url, session } = await signInAt('stranger@elsewhere.test');
    expect(new URL(url).pathname).toBe('/login');
    expect(new URL(url).searchParams.get('error')).toMatch(/no active account for stranger@elsewhere.test/);
    expect(session).toBeUndefined();
  }, 60_000);

  it('a callback with a forged state is refused', async () => {
    const res = await fetch(`${api.url}/auth/oidc/callback?code=abc&state=forged`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toMatch(/^\/login\?error=unknown%20or%20expired/);
    expect(res.headers.get('set-cookie')).toBeNull();
  });
});
