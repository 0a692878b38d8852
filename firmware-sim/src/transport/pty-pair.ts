import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { SimError, SimErrorCode } from '../errors.ts';

/** Where socat usually lives; `SOCAT` in the environment overrides it. */
export const SOCAT_PATH = process.env.SOCAT ?? '/usr/bin/socat';

/** A pty pair joined by socat: the simulator opens `device`, the host (agent, gpsd) opens `host`. */
export interface PtyPair {
  device: string;
  host: string;
  close(): Promise<void>;
}

/**
 * `socat -d -d pty,raw,echo=0,link=DEVICE pty,raw,echo=0,link=HOST`: two ptys whose masters
 * socat copies between, with stable symlinks. Resolves once both links exist.
 */
export async function createPtyPair(device: string, host: string, timeoutMs = 5000): Promise<PtyPair> {
  if (!existsSync(SOCAT_PATH)) {
    throw new SimError(
      SimErrorCode.PtyPairFailed,
      `socat not found at ${SOCAT_PATH} (apt-get install socat, or set SOCAT=/path/to/socat)`,
    );
  }
  const child: ChildProcess = spawn(
    SOCAT_PATH,
    ['-d', '-d', `pty,raw,echo=0,link=${device}`, `pty,raw,echo=0,link=${host}`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => {
    stderr = (stderr + b.toString()).slice(-2000);
  });
  const deadline = Date.now() + timeoutMs;
  while (!(existsSync(device) && existsSync(host))) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGTERM');
      throw new SimError(
        SimErrorCode.PtyPairFailed,
        `socat did not create ${device} / ${host}: ${stderr.trim()}`,
      );
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
        child.kill('SIGTERM'); // only the socat this function started
      }),
  };
}
