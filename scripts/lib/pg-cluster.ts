/**
 * Throwaway PostgreSQL clusters on this machine, for tests and drills that must reconfigure a
 * server (streaming replication, stopping a node): the system cluster on 5432 is shared and stays
 * untouched. A primary is made with initdb, a streaming replica of it with `pg_basebackup -R`;
 * both listen on free loopback ports only, with their sockets and data in one temp directory.
 *
 * PostgreSQL refuses to run as root, and the tests run as root: every server binary then runs as
 * the `postgres` OS user (runuser), which owns the temp directory. Missing binaries fail loudly
 * with how to install them, never a skip.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, chmod, chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './processes.ts';

const run = promisify(execFile);

/** Debian's PostgreSQL 15 server binaries (package postgresql-15); PG_BIN overrides. */
export const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';
const OS_USER = 'postgres';

export interface PgNode {
  /** postgres://postgres@127.0.0.1:PORT/postgres (trust on loopback). */
  url(database?: string): string;
  port: number;
  dataDir: string;
  /** pg_ctl start / stop -m fast; a stopped node's clients see connection refused. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface PgCluster {
  primary: PgNode;
  /** Streaming replica (hot standby) of the primary, when asked for. */
  replica?: PgNode;
  dir: string;
  /** Waits until the replica has replayed everything the primary wrote so far. */
  waitForReplay(timeoutMs?: number): Promise<void>;
  /** Stops both and removes the temp directory. */
  destroy(): Promise<void>;
}

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** A PostgreSQL binary as the postgres OS user (directly when this process is not root). */
async function pgRun(bin: string, args: string[], timeoutMs = 60_000): Promise<string> {
  const file = path.join(PG_BIN, bin);
  const [cmd, argv] = asRoot ? ['runuser', ['-u', OS_USER, '--', file, ...args]] : [file, args];
  try {
    const { stdout } = await run(cmd, argv, { timeout: timeoutMs, cwd: '/' });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${bin} ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`);
  }
}

/** Throws, saying what to install, when the server binaries are not there. */
export function requirePgBinaries(): void {
  const missing = ['initdb', 'pg_ctl', 'pg_basebackup', 'postgres'].filter(
    (b) => !existsSync(path.join(PG_BIN, b)),
  );
  if (missing.length > 0)
    throw new Error(
      `PostgreSQL server binaries missing in ${PG_BIN}: ${missing.join(', ')}. ` +
        'Install them: apt-get install -y postgresql-15 (or set PG_BIN to their directory)',
    );
}

function node(dir: string, dataDir: string, port: number): PgNode {
  const log = path.join(dir, `${path.basename(dataDir)}.log`);
  return {
    port,
    dataDir,
    url: (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`,
    async start() {
      await pgRun('pg_ctl', ['-D', dataDir, '-l', log, '-w', '-t', '60', 'start']);
    },
    async stop() {
      await pgRun('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', '-t', '60', 'stop']);
    },
  };
}

/**
 * Settings for a small, fast throwaway server: loopback only, no fsync (data is disposable).
 * synchronous_commit stays on: a commit's WAL is then written before it returns, so waitForReplay
 * (which waits for the primary's WAL write position) covers every committed row.
 */
const serverConf = (port: number, socketDir: string) => `
# pg-cluster.ts: throwaway test server
listen_addresses = '127.0.0.1'
port = ${port}
unix_socket_directories = '${socketDir}'
wal_level = replica
max_wal_senders = 4
hot_standby = on
fsync = off
full_page_writes = off
shared_buffers = 32MB
max_connections = 40
logging_collector = off
`;

const HBA = `
local all all trust
host all all 127.0.0.1/32 trust
host replication all 127.0.0.1/32 trust
`;

/**
 * A primary (initdb) and, with `replica: true`, a streaming replica (pg_basebackup -R), both
 * started. Takes a few seconds; call `destroy()` in afterAll.
 */
export async function startPgCluster(opts: { replica?: boolean } = {}): Promise<PgCluster> {
  requirePgBinaries();
  const dir = await mkdtemp(path.join(tmpdir(), 'fleet-pg-'));
  const nodes: PgNode[] = [];
  const destroy = async () => {
    for (const n of nodes.reverse()) await n.stop().catch(() => {});
    await rm(dir, { recursive: true, force: true });
  };
  try {
    if (asRoot) {
      const { stdout } = await run('id', ['-u', OS_USER]);
      const { stdout: gid } = await run('id', ['-g', OS_USER]);
      await chown(dir, Number(stdout.trim()), Number(gid.trim()));
    }
    await chmod(dir, 0o700);
    const primaryDir = path.join(dir, 'primary');
    await pgRun('initdb', ['-D', primaryDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync']);
    const primaryPort = await freePort();
    await appendFile(path.join(primaryDir, 'postgresql.conf'), serverConf(primaryPort, dir));
    await writeFile(path.join(primaryDir, 'pg_hba.conf'), HBA);
    const primary = node(dir, primaryDir, primaryPort);
    await primary.start();
    nodes.push(primary);

    let replica: PgNode | undefined;
    if (opts.replica) {
      const replicaDir = path.join(dir, 'replica');
      // The copy carries the primary's postgresql.conf; -R adds primary_conninfo + standby.signal.
      await pgRun('pg_basebackup', [
        '-h',
        '127.0.0.1',
        '-p',
        String(primaryPort),
        '-U',
        'postgres',
        '-D',
        replicaDir,
        '-R',
        '-X',
        'stream',
        '-c',
        'fast',
        '--no-sync',
      ]);
      const replicaPort = await freePort();
      await appendFile(path.join(replicaDir, 'postgresql.conf'), `port = ${replicaPort}\n`);
      replica = node(dir, replicaDir, replicaPort);
      await replica.start();
      nodes.push(replica);
    }

    return {
      primary,
      ...(replica ? { replica } : {}),
      dir,
      destroy,
      async waitForReplay(timeoutMs = 30_000) {
        if (!replica) return;
        const p = new pg.Client({ connectionString: primary.url() });
        const r = new pg.Client({ connectionString: replica.url() });
        await p.connect();
        await r.connect();
        try {
          const { rows } = await p.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
          const target = rows[0]!.lsn;
          const deadline = Date.now() + timeoutMs;
          for (;;) {
            const { rows: got } = await r.query<{ behind: boolean }>(
              'SELECT pg_last_wal_replay_lsn() < $1::pg_lsn AS behind',
              [target],
            );
            if (!got[0]!.behind) return;
            if (Date.now() > deadline)
              throw new Error(`replica did not replay up to ${target} within ${timeoutMs} ms`);
            await new Promise((res) => setTimeout(res, 50));
          }
        } finally {
          await p.end();
          await r.end();
        }
      },
    };
  } catch (err) {
    await destroy();
    throw err;
  }
}
