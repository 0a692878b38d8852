import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { SerialPort } from 'serialport';

export const SOCAT = '/usr/bin/socat';

/** A pty pair joined by socat: the simulator opens `device`, the host (agent, test) opens `host`. */
export interface PtyPair {
  device: string;
  host: string;
  close(): Promise<void>;
}

export async function createPtyPair(device: string, host: string): Promise<PtyPair> {
  const child: ChildProcess = spawn(
    SOCAT,
    ['-d', '-d', `pty,raw,echo=0,link=${device}`, `pty,raw,echo=0,link=${host}`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  const deadline = Date.now() + 5000;
  while (!(existsSync(device) && existsSync(host))) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGTERM');
      throw new Error(`socat did not create ${device} / ${host}: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    device,
    host,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM'); // only the socat this helper started
      }),
  };
}

/** The host side of a pty: send a command, read until the ELM327 prompt. */
export async function openHost(path: string): Promise<{
  port: SerialPort;
  ask(cmd: string, timeoutMs?: number): Promise<string>;
  received(): string;
  close(): Promise<void>;
}> {
  const port = new SerialPort({ path, baudRate: 38400, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  let buffer = '';
  let all = '';
  port.on('data', (b: Buffer) => {
    buffer += b.toString('latin1');
    all += b.toString('latin1');
  });
  return {
    port,
    async ask(cmd, timeoutMs = 3000) {
      buffer = '';
      port.write(`${cmd}\r`);
      const deadline = Date.now() + timeoutMs;
      while (!buffer.endsWith('>')) {
        if (Date.now() > deadline) throw new Error(`no prompt after ${cmd}: ${JSON.stringify(buffer)}`);
        await new Promise((r) => setTimeout(r, 5));
      }
      return buffer;
    },
    received: () => all,
    close: () => new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve())),
  };
}
