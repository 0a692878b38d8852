import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export function hasSocat(): boolean {
  return spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;
}

export interface VirtualSerialPair {
  /** The end the simulated device opens. */
  device: string;
  /** The end the agent opens, as it would a /dev/ttyUSB0. */
  host: string;
  close(): void;
}

/** A linked pair of pseudo-terminals from socat: what a USB serial adapter looks like to the agent. */
export async function createVirtualSerialPair(device: string, host: string): Promise<VirtualSerialPair> {
  const socat = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${device}`, `pty,raw,echo=0,link=${host}`], {
    stdio: 'ignore',
  });
  const deadline = Date.now() + 5000;
  while (!(existsSync(device) && existsSync(host))) {
    if (socat.exitCode !== null)
      throw new Error(`socat exited (${socat.exitCode}) creating ${device} <-> ${host}`);
    if (Date.now() > deadline) throw new Error(`socat did not create ${device} <-> ${host} within 5 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { device, host, close: () => socat.kill('SIGTERM') };
}
