import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Running bin/firmware-sim.js as a child process, for the CLI integration tests. */
export const BIN = fileURLToPath(new URL('../bin/firmware-sim.js', import.meta.url));

export interface Run {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exit: Promise<number | null>;
}

const children: ChildProcess[] = [];
export const cleanups: (() => Promise<void> | void)[] = [];

/** For afterEach: kill what is still running, then undo in reverse order. */
export async function cleanUp(): Promise<void> {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const f of cleanups.splice(0).reverse()) await f();
}

export function runCli(args: string[]): Run {
  // The "firmware-sim ready" line is an info log: vitest's LOG_LEVEL=warn would hide it.
  const child = spawn(process.execPath, [BIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LOG_LEVEL: 'info' },
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (b: Buffer) => {
    out += b.toString();
  });
  child.stderr?.on('data', (b: Buffer) => {
    err += b.toString();
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exit };
}

export async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The "firmware-sim ready" JSON log line, once printed. */
export function readyLine(run: Run): Record<string, unknown> | undefined {
  for (const line of run.stderr().split('\n')) {
    if (!line.includes('firmware-sim ready')) continue;
    return JSON.parse(line) as Record<string, unknown>;
  }
  return undefined;
}

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fsim-cli-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
