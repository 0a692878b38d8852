import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * A TypeScript helper script in a process of its own (node --import tsx), spoken to one line at
 * a time: it prints "ready" once set up, then answers each command on stdin with one line on
 * stdout (support/ingest-process.ts, bench/support/live-fleet.ts, bench/support/backlog-agent.ts).
 * stderr goes to ours.
 */
export interface LineChild {
  child: ChildProcess;
  /** The next line it prints; rejects when it exits first. */
  next(): Promise<string>;
  /** Writes `command`, answers the next line parsed as JSON. */
  ask<T>(command: string): Promise<T>;
}

export async function startLineChild(name: string, script: string, args: string[]): Promise<LineChild> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async () => {
    const line = await lines.next();
    if (line.done) throw new Error(`${name} ended (exit ${child.exitCode})`);
    return line.value as string;
  };
  const ready = await next();
  if (ready !== 'ready') throw new Error(`${name} did not start: ${ready}`);
  return {
    child,
    next,
    async ask<T>(command: string) {
      child.stdin!.write(`${command}\n`);
      return JSON.parse(await next()) as T;
    },
  };
}
