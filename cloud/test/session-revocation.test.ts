/**
 * Sign-out and token revocation across API processes: two real cloud services (cloud/src/main.ts,
 * each its own OS process and session cache) on one PostgreSQL schema. A session or API token
 * ended through process A is refused by process B within B's cache window
 * (FLEET_SESSION_CACHE_MS), and a value of that variable that is not a number stops the service
 * at start (it used to become NaN, and B then believed the revoked token forever).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MQTT_URL, type openTestPool, POSTGRES_URL, requireServices, uniqueId } from './support/services.ts';
import { openPoolWithUser } from './support/sessions.ts';

const MAIN = path.join(import.meta.dirname, '../src/main.ts');
const CACHE_MS = 1500;
const children: ChildProcess[] = [];
let db: Awaited<ReturnType<typeof openTestPool>>;

/** `node --import tsx cloud/src/main.ts` with `env`; its exit code and output once it exits. */
function startCloud(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    cwd: path.join(import.meta.dirname, '..'),
    env: { ...process.env, LOG_LEVEL: 'error', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (d) => {
    output += d;
  });
  child.stderr!.on('data', (d) => {
    output += d;
  });
  const exited = new Promise<{ code: number | null; output: string }>((resolve) =>
    child.once('exit', (code) => resolve({ code, output })),
  );
  /** The API's URL from the "ready" line the launcher waits on. */
  const ready = async (): Promise<string> => {
    const until = Date.now() + 60_000;
    for (;;) {
      const m = /fleet cloud ready api=(\S+)/.exec(output);
      if (m) return m[1]!;
      if (child.exitCode !== null || Date.now() > until)
        throw new Error(`cloud did not start (exit ${child.exitCode}):\n${output.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { ready, exited };
}

const serviceEnv = () => ({
  DATABASE_URL: POSTGRES_URL,
  DATABASE_SCHEMA: db.schema,
  DATABASE_POOL_SIZE: '3',
  MQTT_URL,
  FLEET_BASE_TOPIC: uniqueId('revocation'),
  FLEET_INGEST_CONNECTIONS: '1',
  FLEET_API_PORT: '0',
  FLEET_SESSION_CACHE_MS: String(CACHE_MS),
});

beforeAll(async () => {
  await requireServices({ mqtt: true });
  db = await openPoolWithUser('t_revocation', {
    email: 'admin@acme.test',
    role: 'admin',
    password: 'a-long-password',
  });
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await db?.drop();
});

describe('FLEET_SESSION_CACHE_MS', () => {
  it('a value that is not a number stops the service at start, saying which and why', async () => {
    const { code, output } = await startCloud({ ...serviceEnv(), FLEET_SESSION_CACHE_MS: 'five' }).exited;
    expect(code).toBe(1);
    expect(output).toContain(
      'FLEET_SESSION_CACHE_MS="five": expected an integer of milliseconds from 0 to 3600000',
    );
    expect(output).not.toContain('fleet cloud ready');
  }, 60_000);

  it('a session and a token ended through one API process are refused by another within its cache window', async () => {
    const [a, b] = await Promise.all([startCloud(serviceEnv()).ready(), startCloud(serviceEnv()).ready()]);
    const call = (
      api: string,
      procedure: string,
      auth: { cookie?: string; token?: string },
      body?: unknown,
    ) =>
      fetch(`${api}/trpc/${procedure}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: {
          ...(auth.cookie ? { cookie: auth.cookie } : {}),
          ...(auth.token ? { authorization: `Bearer ${auth.token}` } : {}),
          'content-type': 'application/json',
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    /** ms from now until `api` answers 401 to `auth` (asked every 50 ms, at most 3 windows). */
    const refusedAfter = async (api: string, auth: { cookie?: string; token?: string }) => {
      const started = Date.now();
      while (Date.now() - started < 3 * CACHE_MS) {
        if ((await call(api, 'vehicles.list', auth)).status === 401) return Date.now() - started;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`${api} still accepts the ended credential after ${3 * CACHE_MS} ms`);
    };

    const login = await call(a, 'auth.login', {}, { email: 'admin@acme.test', password: 'a-long-password' });
    expect(login.status).toBe(200);
    const session = { cookie: login.headers.get('set-cookie')!.split(';')[0]! };
    const created = await call(a, 'tokens.create', session, { name: 'erp', permissions: ['vehicles:read'] });
    const { id, token } = ((await created.json()) as { result: { data: { id: string; token: string } } })
      .result.data;
    const apiToken = { token };

    // B confirms both with the database once, and from then on believes its cache.
    expect((await call(b, 'vehicles.list', session)).status).toBe(200);
    expect((await call(b, 'vehicles.list', apiToken)).status).toBe(200);

    expect((await call(a, 'tokens.revoke', session, { tokenId: id })).status).toBe(200);
    expect((await call(a, 'vehicles.list', apiToken)).status).toBe(401); // A cleared its cache
    expect(await refusedAfter(b, apiToken)).toBeLessThanOrEqual(CACHE_MS + 500);

    expect((await call(a, 'auth.logout', session, {})).status).toBe(200);
    expect((await call(a, 'vehicles.list', session)).status).toBe(401);
    expect(await refusedAfter(b, session)).toBeLessThanOrEqual(CACHE_MS + 500);
  }, 120_000);
});
