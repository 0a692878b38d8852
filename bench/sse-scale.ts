/**
 * The live feed at scale (issue 20, must-show 3): 10,000 concurrent SSE clients of
 * `live.positions` (cloud/src/api/live-feed.ts) on ONE API process over loopback, then on TWO,
 * next to a bare node:http SSE server measured in the same run with the same clients.
 *
 *   seed     PostgreSQL (database `test`, a schema of its own, dropped at the end): tenant `bench`,
 *            BENCH_VEHICLES vehicles with a latest state, a scoped API token (vehicles:read)
 *   servers  child processes (this file, BENCH_ROLE=api|bare), started with `ulimit -n` raised:
 *              api   the real API (startApiServer: token, tRPC SSE, the shared poller, inTenant +
 *                    RLS), the live poll at BENCH_POLL_MS, the rate limits lifted for this load
 *              bare  node:http writing `data: {...}\n\n` to every open response when told to
 *   clients  BENCH_CLIENT_PROCS child processes (BENCH_ROLE=client) share the connections: raw
 *            node:http requests (no agent, one socket each), each process from its own loopback
 *            source address (127.0.0.1x) so 30,000 connections in a run never run out of ports
 *   events   BENCH_EVENTS events, one every BENCH_EVENT_GAP_MS: api: one vehicle's latest state
 *            UPDATEd in PostgreSQL with `ts` = the publish time (what the ingest's COMMIT does);
 *            bare: the same JSON shape with the publish time. Every client takes `now - lastSeen`
 *            per event: event latency = publish → parsed by the client (for the API that includes
 *            waiting for the next poll: at most BENCH_POLL_MS); the clients are read until each
 *            has every event or BENCH_DRAIN_MS (30 s) after the last one: `delivered` < `expected`
 *            means events still missing then (or streams that failed after opening)
 *   memory   each server's RSS after a forced GC, with the clients connected minus before them,
 *            divided by the clients
 *
 *   node --import tsx bench/sse-scale.ts            (about 3-5 min on a quiet 2-core box)
 *   BENCH_CLIENTS=10000 BENCH_CLIENT_PROCS=4 BENCH_EVENTS=10 BENCH_EVENT_GAP_MS=1000 BENCH_POLL_MS=100
 *
 * File descriptors: each server and client process is started through `sh -c 'ulimit -n 65536 ||
 * ulimit -n <hard limit>; exec node ...'`: 10,000 streams need a hard limit above ~10,100 for the
 * one API or bare process (raise it before running where it is lower: `ulimit -Hn`, limits.conf).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

const ROLE = process.env.BENCH_ROLE ?? 'main';
const DB_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 10_000);
const CLIENT_PROCS = Number(process.env.BENCH_CLIENT_PROCS ?? 4);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 10);
const EVENT_GAP_MS = Number(process.env.BENCH_EVENT_GAP_MS ?? 1000);
const POLL_MS = Number(process.env.BENCH_POLL_MS ?? 100);
/** How long after the last event the clients may still receive (then undelivered = lost). */
const DRAIN_MS = Number(process.env.BENCH_DRAIN_MS ?? 30_000);
const VEHICLES = Number(process.env.BENCH_VEHICLES ?? 20);
const FD_LIMIT = 65_536;
/** Which scenarios: bare, api1, api2 (comma-separated), default all three. */
const SCENARIOS = (process.env.BENCH_SCENARIOS ?? 'bare,api1,api2').split(',');

type Msg =
  | { kind: 'ready'; url: string }
  | { kind: 'mem'; rss: number; heap: number; snapshotQueries?: number; polls?: number }
  | { kind: 'connected'; ok: number; failed: number; firstError?: string }
  | { kind: 'latencies'; values: number[]; events: number; streams: number; dropped: number }
  | { kind: 'count'; received: number };

const send = (m: Msg) => process.send?.(m);
const gcRss = () => {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed };
};

// ---------------------------------------------------------------------------------------------
// api: the real API server in a process of its own
async function apiRole() {
  const { startApiServer } = await import('../cloud/src/api/server.ts');
  const { LiveFeed } = await import('../cloud/src/api/live-feed.ts');
  const { openPool } = await import('../cloud/src/db/pool.ts');
  const { createLogger } = await import('../shared/src/log.ts');
  const log = createLogger('bench-api');
  log.level = 'error';
  LiveFeed.configure({ pollMs: POLL_MS });
  const pool = await openPool({ url: DB_URL, schema: process.env.BENCH_SCHEMA!, max: 10 });
  const api = await startApiServer({
    pool,
    host: '127.0.0.1',
    port: 0,
    log,
    // 10,000 streams from one address and one token: lift the budgets for this server only.
    limits: { perIp: 1e9, perUser: 1e9, loginPerIp: 1e9 },
  });
  // The live feed's own counts: snapshot queries against polls show one query per poll, not per stream.
  const feedStats = () => {
    const { snapshotQueries, polls } = LiveFeed.for(pool).stats;
    return { snapshotQueries, polls };
  };
  serverLoop(
    api.url,
    async () => {
      await api.close();
      await pool.end();
    },
    feedStats,
  );
}

// bare: the ceiling of one Node process holding SSE responses and writing an event to each
function bareRole() {
  const open = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.write(': connected\n\n');
    open.add(res);
    req.on('close', () => open.delete(res));
  });
  // The API's backlog (server.ts LISTEN_BACKLOG): both take the same burst of handshakes.
  server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => {
    const { port } = server.address() as AddressInfo;
    serverLoop(`http://127.0.0.1:${port}`, async () => {
      for (const r of open) r.destroy();
      server.close();
    });
  });
  process.on('message', (m: { kind: string; ts?: number }) => {
    if (m.kind !== 'publish') return;
    const data = `data: ${JSON.stringify({ snapshot: false, vehicles: [bareVehicle(m.ts!)] })}\n\n`;
    for (const r of open) r.write(data);
  });
}

/** The same shape as a live.positions update of one vehicle. */
const bareVehicle = (ts: number) => ({
  vehicleId: 'bench-0001',
  status: 'moving',
  lastSeen: ts,
  lat: 48.1,
  lon: 11.5,
  speedKmh: 50,
  fuelLevelPct: 60,
  online: true,
});

function serverLoop(url: string, close: () => Promise<void>, stats: () => object = () => ({})) {
  send({ kind: 'ready', url });
  process.on('message', (m: { kind: string }) => {
    if (m.kind === 'mem') send({ kind: 'mem', ...gcRss(), ...stats() });
    if (m.kind === 'stop') void close().finally(() => process.exit(0));
  });
}

// ---------------------------------------------------------------------------------------------
// client: COUNT SSE streams, each taking `now - lastSeen` of every update it parses
function clientRole() {
  const urls = process.env.BENCH_URLS!.split(',');
  const count = Number(process.env.BENCH_COUNT);
  const token = process.env.BENCH_TOKEN ?? '';
  const localAddress = process.env.BENCH_LOCAL_ADDRESS!;
  const latencies: number[] = [];
  let events = 0;
  let dropped = 0;
  const requests: http.ClientRequest[] = [];
  let ok = 0;
  let failed = 0;
  let firstError: string | undefined;
  let started = 0;
  const settle = () => {
    if (ok + failed === count) send({ kind: 'connected', ok, failed, ...(firstError ? { firstError } : {}) });
  };
  const open = () => {
    const i = started++;
    const url = new URL(urls[i % urls.length]!);
    let settled = false;
    const done = (good: boolean, err?: string) => {
      if (settled) return;
      settled = true;
      if (good) ok++;
      else {
        failed++;
        firstError ??= err;
      }
      settle();
      if (started < count) open();
    };
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        localAddress,
        agent: false,
        headers: { accept: 'text/event-stream', authorization: `Bearer ${token}` },
      },
      (res) => {
        if (res.statusCode !== 200) {
          done(false, `HTTP ${res.statusCode}`);
          res.resume();
          return;
        }
        res.setEncoding('utf8');
        let buf = '';
        res.on('data', (chunk: string) => {
          buf += chunk;
          let end = buf.indexOf('\n\n');
          while (end >= 0) {
            const block = buf.slice(0, end);
            buf = buf.slice(end + 2);
            end = buf.indexOf('\n\n');
            const data = block
              .split('\n')
              .filter((l) => l.startsWith('data:'))
              .map((l) => l.slice(5).trimStart())
              .join('\n');
            // Open once its first message arrived (API: the snapshot; bare: its comment); an error
            // event first (tRPC's `serialized-error`: no database connection in time) is a failure.
            if (/(^|\n)event: *serialized-error/.test(block)) {
              done(false, `stream error: ${data.slice(0, 200)}`);
              continue;
            }
            if (!settled && (block.startsWith(':') || data.includes('"snapshot":true'))) done(true);
            if (!data || /(^|\n)event:/.test(block)) continue;
            const now = Date.now();
            try {
              const m = JSON.parse(data) as { snapshot?: boolean; vehicles?: { lastSeen: number | null }[] };
              if (m.snapshot !== false || !m.vehicles) continue;
              events++;
              for (const v of m.vehicles) if (v.lastSeen !== null) latencies.push(now - v.lastSeen);
            } catch {
              dropped++;
            }
          }
        });
        res.on('error', () => {});
      },
    );
    req.on('error', (e) => done(false, e.message));
    req.end();
    requests.push(req);
  };
  // Progress on stderr while streams open (a slow server shows as a slow count, not silence).
  const progress = setInterval(() => {
    if (ok + failed < count)
      console.error(
        `client ${localAddress}: ${ok} open, ${failed} failed, ${started - ok - failed} opening of ${count}`,
      );
    else clearInterval(progress);
  }, 15_000);
  progress.unref();
  // At most 200 handshakes in flight per process: a burst of 10,000 SYNs overflows the backlog.
  for (let k = 0; k < Math.min(200, count); k++) open();
  process.on('message', (m: { kind: string }) => {
    if (m.kind === 'count') send({ kind: 'count', received: latencies.length });
    if (m.kind === 'report') send({ kind: 'latencies', values: latencies, events, streams: ok, dropped });
    if (m.kind === 'stop') {
      for (const r of requests) r.destroy();
      setTimeout(() => process.exit(0), 100);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// main: seed, run the scenarios, print the figures
interface Child {
  proc: ChildProcess;
  next(kind: Msg['kind'], timeoutMs?: number): Promise<Msg>;
  tell(m: object): void;
  /** Sends {kind} and waits for the answer of that kind. */
  ask<K extends Msg['kind']>(kind: K, timeoutMs?: number): Promise<Extract<Msg, { kind: K }>>;
}

/** Every child started, so a failed run leaves none behind. */
const children = new Set<ChildProcess>();

function child(role: string, env: Record<string, string>): Child {
  const self = path.resolve(import.meta.filename);
  const proc = spawn(
    '/bin/sh',
    [
      '-c',
      `ulimit -n ${FD_LIMIT} 2>/dev/null || ulimit -n "$(ulimit -H -n)"; exec "$0" --expose-gc --import tsx "$1"`,
      process.execPath,
      self,
    ],
    { env: { ...process.env, ...env, BENCH_ROLE: role }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  const inbox: Msg[] = [];
  const waiters: ((m: Msg) => void)[] = [];
  proc.on('message', (m: Msg) => {
    const w = waiters.shift();
    if (w) w(m);
    else inbox.push(m);
  });
  const next = (kind: Msg['kind'], timeoutMs = 300_000) =>
    new Promise<Msg>((resolve, reject) => {
      const take = (m: Msg) =>
        m.kind === kind ? resolve(m) : reject(new Error(`${role}: got ${m.kind}, wanted ${kind}`));
      const m = inbox.shift();
      if (m) return take(m);
      const timer = setTimeout(
        () => reject(new Error(`${role}: no ${kind} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      waiters.push((x) => {
        clearTimeout(timer);
        take(x);
      });
    });
  return {
    proc,
    tell: (m) => proc.send(m),
    async ask(kind, timeoutMs) {
      proc.send({ kind });
      return (await next(kind, timeoutMs)) as never;
    },
    next,
  };
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Figures {
  name: string;
  servers: number;
  streams: number;
  failed: number;
  delivered: number;
  expected: number;
  p50: number;
  p99: number;
  max: number;
  kibPerClient: number;
  connectS: number;
  /** API: snapshot queries the live feed ran while the streams opened, and its polls meanwhile. */
  snapshotQueries?: number;
  polls?: number;
}

async function scenario(
  name: string,
  servers: Child[],
  urls: string[],
  token: string,
  publish: (ts: number) => Promise<void>,
): Promise<Figures> {
  const before = await Promise.all(servers.map((s) => s.ask('mem')));
  const began = performance.now();
  const per = Math.ceil(CLIENTS / CLIENT_PROCS);
  const clients = Array.from({ length: CLIENT_PROCS }, (_, i) =>
    child('client', {
      BENCH_URLS: urls.map((u) => `${u}${token ? '/trpc/live.positions' : '/sse'}`).join(','),
      BENCH_COUNT: String(Math.min(per, CLIENTS - i * per)),
      BENCH_TOKEN: token,
      BENCH_LOCAL_ADDRESS: `127.0.0.${10 + i}`,
    }),
  );
  const connected = (await Promise.all(clients.map((c) => c.next('connected', 600_000)))) as Extract<
    Msg,
    { kind: 'connected' }
  >[];
  const connectS = (performance.now() - began) / 1000;
  const ok = connected.reduce((n, c) => n + c.ok, 0);
  const failed = connected.reduce((n, c) => n + c.failed, 0);
  const firstError = connected.find((c) => c.firstError)?.firstError;
  if (failed > 0) console.error(`${name}: ${failed} streams failed to open (first: ${firstError})`);
  const after = await Promise.all(servers.map((s) => s.ask('mem')));
  const grew = after.reduce((n, m, i) => n + (m.rss - before[i]!.rss), 0);

  await sleep(Math.max(500, POLL_MS * 3)); // the poller's first round past the snapshots
  for (let e = 0; e < EVENTS; e++) {
    await publish(Date.now());
    await sleep(EVENT_GAP_MS);
  }
  // Until every open stream has every event, or DRAIN_MS after the last publish: a late event
  // is a slow one, not a lost one (those left out after it show as delivered < expected).
  const drainEnd = Date.now() + DRAIN_MS;
  await sleep(Math.max(1000, POLL_MS * 5));
  while (Date.now() < drainEnd) {
    const counts = await Promise.all(clients.map((c) => c.ask('count')));
    if (counts.reduce((n, c) => n + c.received, 0) >= ok * EVENTS) break;
    await sleep(1000);
  }
  const reports = await Promise.all(
    clients.map(async (c) => {
      c.tell({ kind: 'report' });
      return (await c.next('latencies')) as Extract<Msg, { kind: 'latencies' }>;
    }),
  );
  for (const c of clients) c.tell({ kind: 'stop' });
  await Promise.all(clients.map((c) => new Promise((r) => c.proc.once('exit', r))));
  const all = reports.flatMap((r) => r.values).sort((a, b) => a - b);
  return {
    name,
    servers: servers.length,
    streams: ok,
    failed,
    delivered: all.length,
    expected: ok * EVENTS,
    p50: pct(all, 50),
    p99: pct(all, 99),
    max: all.at(-1) ?? NaN,
    kibPerClient: grew / Math.max(1, ok) / 1024,
    connectS,
    ...(after[0]!.snapshotQueries !== undefined
      ? {
          snapshotQueries: after.reduce(
            (n, m, i) => n + m.snapshotQueries! - (before[i]!.snapshotQueries ?? 0),
            0,
          ),
          polls: after.reduce((n, m, i) => n + m.polls! - (before[i]!.polls ?? 0), 0),
        }
      : {}),
  };
}

async function stopAll(servers: Child[]) {
  for (const s of servers) s.tell({ kind: 'stop' });
  await Promise.all(servers.map((s) => new Promise((r) => s.proc.once('exit', r))));
}

async function main() {
  const { openPool } = await import('../cloud/src/db/pool.ts');
  const { migrate } = await import('../cloud/src/db/migrate.ts');
  const { createApiToken } = await import('../cloud/src/auth/auth-service.ts');
  const { createLogger } = await import('../shared/src/log.ts');
  const log = createLogger('bench');
  log.level = 'error';
  const schema = `bench_sse_${randomBytes(4).toString('hex')}`;
  const pool = await openPool({ url: DB_URL, schema, max: 2 });
  const results: Figures[] = [];
  /** Each scenario's figures as soon as it ends: a later one failing (or too slow) keeps them. */
  const record = (r: Figures) => {
    results.push(r);
    console.log(`done: ${JSON.stringify(r)}`);
  };
  try {
    await migrate(pool, log);
    await pool.query(`INSERT INTO tenants (id, name) VALUES ('bench', 'bench')`);
    await pool.query(
      `INSERT INTO vehicles (id, tenant_id) SELECT 'bench-' || lpad(i::text, 4, '0'), 'bench' FROM generate_series(1, $1) i`,
      [VEHICLES],
    );
    await pool.query(
      `INSERT INTO vehicle_latest (vehicle_id, ts, lat, lon, speed_kmh, rpm, fuel_level_pct, coolant_c, received_at)
       SELECT id, now(), 48.1, 11.5, 50, 1500, 60, 90, now() - interval '1 minute' FROM vehicles`,
    );
    const { token } = await createApiToken(pool, {
      tenantId: 'bench',
      name: 'bench',
      permissions: ['vehicles:read'],
      createdBy: 'bench',
    });
    let n = 0;
    /** One vehicle's new latest state, stamped with the publish time (lastSeen in the update). */
    const publishDb = async (ts: number) => {
      const v = `bench-${String((n++ % VEHICLES) + 1).padStart(4, '0')}`;
      await pool.query(
        `UPDATE vehicle_latest SET ts = to_timestamp($1 / 1000.0), received_at = now() WHERE vehicle_id = $2`,
        [ts, v],
      );
    };
    console.log(
      `${CLIENTS} SSE clients in ${CLIENT_PROCS} client processes, ${EVENTS} events ${EVENT_GAP_MS} ms apart, live poll ${POLL_MS} ms`,
    );

    // Bare node:http first: the ceiling on this machine right now.
    if (SCENARIOS.includes('bare')) {
      const bare = child('bare', {});
      const bareUrl = ((await bare.next('ready')) as Extract<Msg, { kind: 'ready' }>).url;
      record(
        await scenario('bare node:http SSE', [bare], [bareUrl], '', async (ts) =>
          bare.tell({ kind: 'publish', ts }),
        ),
      );
      await stopAll([bare]);
    }

    for (const count of [1, 2].filter((c) => SCENARIOS.includes(`api${c}`))) {
      const apis = Array.from({ length: count }, () => child('api', { BENCH_SCHEMA: schema }));
      const urls = await Promise.all(
        apis.map(async (a) => ((await a.next('ready', 120_000)) as Extract<Msg, { kind: 'ready' }>).url),
      );
      record(await scenario(`API live.positions x${count}`, apis, urls, token, publishDb));
      await stopAll(apis);
    }
  } finally {
    for (const c of children) c.kill('SIGKILL');
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
    await pool.end();
  }

  const bareRun = results.find((r) => r.name.startsWith('bare'));
  const bareP99 = bareRun?.p99 ?? Number.NaN;
  const bareKib = bareRun?.kibPerClient ?? Number.NaN;
  console.log('');
  console.log(
    '| server | processes | streams open | events delivered | p50 ms | p99 ms | max ms | KiB/client (RSS) | p99 vs bare | memory vs bare | connect s | snapshot queries / polls while opening |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of results)
    console.log(
      `| ${r.name} | ${r.servers} | ${r.streams}${r.failed ? ` (${r.failed} failed)` : ''} | ${r.delivered}/${r.expected} | ${r.p50} | ${r.p99} | ${r.max} | ${r.kibPerClient.toFixed(1)} | ${(r.p99 / bareP99).toFixed(1)}x | ${(r.kibPerClient / bareKib).toFixed(1)}x | ${r.connectS.toFixed(1)} | ${r.snapshotQueries === undefined ? '-' : `${r.snapshotQueries} / ${r.polls}`} |`,
    );
}

if (ROLE === 'api') await apiRole();
else if (ROLE === 'bare') bareRole();
else if (ROLE === 'client') clientRole();
else
  await main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
