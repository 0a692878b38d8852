/**
 * The session cookie over real HTTP (startApiServer, real PostgreSQL): SameSite=Strict from
 * password sign-in and sign-out, and `Secure` on both exactly when the public URL is https
 * (FLEET_PUBLIC_URL -> secureCookies). The OpenID Connect callback's Lax cookie is built by the
 * same function (session-cookie.test.ts) and signed in through Chromium in oidc.test.ts.
 */
import { createLogger } from '@fleet/shared/log';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiServer, startApiServer } from '../src/api/server.ts';
import type { openTestPool } from './support/services.ts';
import { openPoolWithUser } from './support/sessions.ts';

const log = createLogger('api-cookies-test').child({}, { level: 'error' });
let db: Awaited<ReturnType<typeof openTestPool>>;
const servers: ApiServer[] = [];

beforeAll(async () => {
  db = await openPoolWithUser('t_api_cookies', {
    email: 'manager@acme.test',
    role: 'fleet_manager',
    password: 'a-long-password',
  });
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await db?.drop();
});

/** Signs in and out on a server started with `secureCookies`; both Set-Cookie headers. */
async function signInAndOut(secureCookies: boolean) {
  const api = await startApiServer({ pool: db.pool, host: '127.0.0.1', port: 0, log, secureCookies });
  servers.push(api);
  const login = await fetch(`${api.url}/trpc/auth.login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'manager@acme.test', password: 'a-long-password' }),
  });
  expect(login.status).toBe(200);
  const signedIn = login.headers.get('set-cookie')!;
  const logout = await fetch(`${api.url}/trpc/auth.logout`, {
    method: 'POST',
    headers: { cookie: signedIn.split(';')[0]!, 'content-type': 'application/json' },
  });
  expect(logout.status).toBe(200);
  return { signedIn, signedOut: logout.headers.get('set-cookie')! };
}

describe('session cookie attributes', () => {
  it('served over https (FLEET_PUBLIC_URL=https://...): Secure on sign-in and sign-out', async () => {
    const { signedIn, signedOut } = await signInAndOut(true);
    expect(signedIn).toMatch(
      /^fleet_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Secure; Max-Age=\d+$/,
    );
    expect(signedOut).toBe('fleet_session=; Path=/; HttpOnly; SameSite=Strict; Secure; Max-Age=0');
  });

  it('served over plain http (development): no Secure (a browser keeps no Secure cookie from plain http)', async () => {
    const { signedIn, signedOut } = await signInAndOut(false);
    expect(signedIn).toMatch(
      /^fleet_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/,
    );
    expect(signedOut).toBe('fleet_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0');
  });
});
