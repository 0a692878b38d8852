import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';

export const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');

export interface Supervised {
  name: string;
  child: ChildProcess;
  /** Resolves on the first stdout line, or stderr JSON log `msg`, that matches. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Runs a TypeScript entry point (through tsx) or a binary as a child process; stdout and stderr
 * go to `logDir/NAME.log` and are also scanned for readiness lines.
 */
export function supervise(
  name: string,
  command: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; logDir: string; onExit?: (code: number | null) => void },
): Supervised {
  mkdirSync(opts.logDir, { recursive: true });
  const log = createWriteStream(path.join(opts.logDir, `${name}.log`), { flags: 'a' });
  const child = spawn(command, args, {
    cwd: opts.cwd ?? REPO_ROOT,
    // Children log at info into their files: the launcher waits on some of those lines.
    env: { ...process.env, LOG_LEVEL: process.env.FLEET_CHILD_LOG_LEVEL ?? 'info', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const listeners = new Set<(line: string) => void>();
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => {
      // 'exit' can come before the last lines of a killed child's pipes: they are dropped.
      if (!log.writableEnded) log.write(`${line}\n`);
      for (const l of listeners) l(line);
    });
  }
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) =>
    child.once('exit', (code) => {
      exited = true;
      log.end();
      opts.onExit?.(code);
      resolve();
    }),
  );
  return {
    name,
    child,
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`${name}: no ${pattern} within ${timeoutMs} ms (see ${opts.logDir}/${name}.log)`));
        }, timeoutMs);
        const check = (line: string) => {
          if (!pattern.test(line)) return;
          clearTimeout(timer);
          listeners.delete(check);
          resolve(line);
        };
        listeners.add(check);
        child.once('exit', (code) => {
          if (!listeners.has(check)) return;
          clearTimeout(timer);
          listeners.delete(check);
          reject(new Error(`${name} exited with code ${code} before ready (see ${opts.logDir}/${name}.log)`));
        });
      });
    },
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exitedPromise;
      clearTimeout(killer);
    },
  };
}

/** `node --import tsx FILE`: how every TypeScript process of the stack is started. */
export function tsxArgs(file: string, args: string[] = []): [string, string[]] {
  return [process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, file), ...args]];
}

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

export async function waitForHttp(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
      lastError = `HTTP ${res.status}`;
    } catch (err) {
      lastError = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} not answering after ${timeoutMs} ms: ${lastError}`);
}
