/**
 * Private, throw-away Mosquitto and PostgreSQL instances for fault tests: they are killed,
 * restarted and cut at will, so the machine's shared services (1883, 5432) are never touched.
 * Every start registers its own cleanup; call `stopAll()` in afterAll (it also runs on failure).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const SHIPPED_MOSQUITTO_CONF = path.join(here, '../../../docker/mosquitto/mosquitto.conf');
const MOSQUITTO = '/usr/sbin/mosquitto';
const PG_BIN = '/usr/lib/postgresql/15/bin';

/** A port nobody listens on right now (the kernel's pick, released at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(500, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

async function waitPort(port: number, up: boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await reachable(port)) !== up) {
    if (Date.now() > deadline) throw new Error(`${what}: port ${port} not ${up ? 'open' : 'closed'}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const cleanups: (() => Promise<void> | void)[] = [];

/** Stops every private instance and removes its directory; safe to call twice. */
export async function stopAll(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) {
    try {
      await c();
    } catch (err) {
      console.warn(`cleanup failed: ${(err as Error).message}`);
    }
  }
}

const isRoot = () => process.getuid?.() === 0;

/**
 * The shipped broker config with its listeners, auth and TLS replaced by one anonymous
 * loopback listener and its persistence in `dataDir`; queue, inflight and persistence settings
 * kept as shipped. `overrides` replace (or add) single directives, e.g. `max_queued_messages 100`.
 */
export interface MosquittoAuth {
  /** mosquitto_passwd file; anonymous clients are then refused. */
  passwordFile: string;
  /** ACL file, e.g. the shipped docker/mosquitto/acl. */
  aclFile: string;
}

export function privateMosquittoConf(
  port: number,
  dataDir: string,
  overrides: string[] = [],
  auth?: MosquittoAuth,
): string {
  const drop =
    /^(listener|allow_anonymous|password_file|acl_file|certfile|keyfile|cafile|persistence_location|log_dest|log_type|connection_messages)\b/;
  const overridden = new Set(overrides.map((o) => o.split(/\s+/)[0]));
  const kept = readFileSync(SHIPPED_MOSQUITTO_CONF, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#') && !drop.test(l) && !overridden.has(l.split(/\s+/)[0]));
  return [
    ...kept,
    ...overrides,
    `listener ${port} 127.0.0.1`,
    ...(auth
      ? ['allow_anonymous false', `password_file ${auth.passwordFile}`, `acl_file ${auth.aclFile}`]
      : ['allow_anonymous true']),
    `persistence_location ${dataDir}/`,
    'log_dest stderr',
    'log_type error',
    // As root, mosquitto drops to the `mosquitto` user; keep root so the temp dir stays writable.
    ...(isRoot() ? ['user root'] : []),
    '',
  ].join('\n');
}

export interface PrivateMosquitto {
  port: number;
  url: string;
  dir: string;
  conf: string;
  /** Kills the broker (SIGKILL: nothing saved since the last autosave; SIGTERM: saves and exits). */
  kill(signal: 'SIGKILL' | 'SIGTERM'): Promise<void>;
  /** Starts it again on the same port with the same persistence directory. */
  start(): Promise<void>;
  /** The broker's stderr so far (for failure messages). */
  log(): string;
  /** SIGHUP: re-read the password and ACL files without dropping anyone. */
  reload(): void;
}

export async function startPrivateMosquitto(
  overrides: string[] = [],
  auth?: MosquittoAuth,
): Promise<PrivateMosquitto> {
  const dir = mkdtempSync(path.join(tmpdir(), 'fleet-mosq-'));
  const port = await freePort();
  const conf = path.join(dir, 'mosquitto.conf');
  writeFileSync(conf, privateMosquittoConf(port, dir, overrides, auth));
  let child: ChildProcess | undefined;
  let stderr = '';
  const broker: PrivateMosquitto = {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    dir,
    conf,
    log: () => stderr,
    reload() {
      child?.kill('SIGHUP');
    },
    async start() {
      if (child && child.exitCode === null && child.signalCode === null) return;
      const c = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
      child = c;
      c.stderr?.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      const exited = new Promise<never>((_, reject) =>
        c.once('exit', (code) => reject(new Error(`private mosquitto exited (${code}): ${stderr}`))),
      );
      exited.catch(() => {});
      await Promise.race([waitPort(port, true, 'private mosquitto'), exited]).catch((err: Error) => {
        throw new Error(`private Mosquitto (${MOSQUITTO} -c ${conf}) did not start: ${err.message}`);
      });
    },
    async kill(signal) {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const gone = new Promise<void>((r) => c.once('exit', () => r()));
      c.kill(signal);
      await gone;
      await waitPort(port, false, 'private mosquitto stop');
    },
  };
  cleanups.push(async () => {
    await broker.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  await broker.start();
  return broker;
}

export interface PrivatePostgres {
  port: number;
  /** URL of the `postgres` database (trust auth). */
  url: string;
  dir: string;
  start(): Promise<void>;
  /** `pg_ctl stop -m <mode>`: fast rolls back open transactions and closes every connection. */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
}

/** initdb + pg_ctl of PostgreSQL 15 in a temp dir, as the `postgres` user when we are root. */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const dir = mkdtempSync(path.join(tmpdir(), 'fleet-pg-'));
  const data = path.join(dir, 'data');
  const port = await freePort();
  const asOwner = (cmd: string, args: string[]) => {
    const [file, argv] = isRoot() ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
    try {
      return execFileSync(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 }).toString();
    } catch (err) {
      const e = err as { stderr?: Buffer; stdout?: Buffer; message: string };
      throw new Error(
        `private PostgreSQL: ${cmd} ${args.join(' ')} failed: ${e.stderr?.toString() || e.stdout?.toString() || e.message}`,
      );
    }
  };
  if (isRoot()) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
  }
  let running = false;
  const pgInstance: PrivatePostgres = {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    dir,
    async start() {
      asOwner(`${PG_BIN}/pg_ctl`, [
        '-D',
        data,
        '-o',
        `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
        '-l',
        path.join(dir, 'log'),
        'start',
        '-w',
      ]);
      running = true;
      await waitPort(port, true, 'private postgres');
    },
    async stop(mode = 'fast') {
      if (!running) return;
      asOwner(`${PG_BIN}/pg_ctl`, ['-D', data, 'stop', '-m', mode, '-w']);
      running = false;
    },
  };
  cleanups.push(async () => {
    await pgInstance.stop('immediate').catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });
  asOwner(`${PG_BIN}/initdb`, ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync']);
  await pgInstance.start();
  return pgInstance;
}
