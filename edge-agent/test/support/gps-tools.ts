/**
 * Real GPS plumbing for the integration tests:
 *
 *   firmware-sim vehicle --nmea DEVICE ──▶ pty <==socat==> pty (HOST) ──▶ gpsd -N -n ──TCP──▶ code under test
 *                        │                                         └──────────────────────▶ code under test (raw NMEA)
 *                        └── truth file: one JSON line per epoch
 *
 * Every process started here is stopped by its own handle (pid), never by name.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export const REPO_ROOT = path.resolve(import.meta.dirname, '../../..');
export const GPSD_LOGS = path.resolve(REPO_ROOT, '..', 'shared', 'data', 'gpsd-logs');
export const SOCAT = '/usr/bin/socat';
export const GPSD = '/usr/sbin/gpsd';
export const GPSFAKE = '/usr/bin/gpsfake';

/** Fails loudly (never skips) when a tool this machine should have is missing. */
export function requireTool(binary: string, aptPackage: string): void {
  if (!existsSync(binary)) {
    throw new Error(
      `${binary} is missing: this integration test needs it. Install it with: apt-get install -y ${aptPackage}`,
    );
  }
}

export async function waitFor<T>(
  what: string,
  probe: () => T | Promise<T>,
  done: (value: T) => boolean = Boolean,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A started process: its stderr so far, and a stop that waits for it to exit. */
export interface Started {
  child: ChildProcess;
  stderr(): string;
  stop(): Promise<void>;
}

function start(command: string, args: string[], options: { cwd?: string } = {}): Started {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: options.cwd });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  child.stdout?.on('data', () => {});
  return {
    child,
    stderr: () => stderr,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const force = setTimeout(() => child.kill('SIGKILL'), 3000);
        child.once('exit', () => {
          clearTimeout(force);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/** A linked pty pair: the simulator opens `device`, the host side (gpsd, a reader) opens `host`. */
export async function ptyPair(dir: string): Promise<{ device: string; host: string; stop(): Promise<void> }> {
  requireTool(SOCAT, 'socat');
  const device = path.join(dir, 'gps-device');
  const host = path.join(dir, 'gps-host');
  const socat = start(SOCAT, ['-d', '-d', `pty,raw,echo=0,link=${device}`, `pty,raw,echo=0,link=${host}`]);
  await waitFor(
    `socat to create ${device} and ${host} (${socat.stderr()})`,
    () => existsSync(device) && existsSync(host),
  );
  return { device, host, stop: socat.stop };
}

/**
 * gpsd in the foreground reading one device at once (-n, no client needed first), serving JSON on
 * `port`. It needs the real /dev/pts/N path: it does not follow socat's symlink.
 */
export async function startGpsd(device: string, port: number, dir: string): Promise<Started> {
  requireTool(GPSD, 'gpsd');
  const gpsd = start(GPSD, [
    '-N',
    '-n',
    '-S',
    String(port),
    '-F',
    path.join(dir, 'gpsd.sock'),
    realpathSync(device),
  ]);
  await waitFor(
    `gpsd to listen on ${port} (${gpsd.stderr()})`,
    () =>
      new Promise<boolean>((resolve) => {
        const s = net.connect({ host: '127.0.0.1', port });
        s.once('connect', () => {
          s.destroy();
          resolve(true);
        });
        s.once('error', () => resolve(false));
      }),
  );
  return gpsd;
}

/**
 * `gpsfake` replaying a capture once (one sentence per `cycleS` seconds) to its own gpsd on
 * `port`; -n: that gpsd reads the capture from its first line, whether a client is there or not.
 */
export function startGpsfake(log: string, port: number, cycleS = 0.01): Started {
  requireTool(GPSFAKE, 'gpsd-clients');
  requireTool(GPSD, 'gpsd');
  return start(GPSFAKE, ['-1', '-q', '-n', '-W', '2', '-c', String(cycleS), '-P', String(port), log]);
}

/** One simulated vehicle (firmware-sim's CLI) writing NMEA to `nmea`; OBD on a TCP port nobody uses. */
export function startSimVehicle(args: {
  id: string;
  nmea: string;
  truth: string;
  epochs: number;
  tickMs: number;
  startTime: string;
  extra?: string[];
}): Started {
  return start(
    process.execPath,
    [
      '--import',
      'tsx',
      'firmware-sim/src/main.ts',
      'vehicle',
      '--id',
      args.id,
      '--nmea',
      args.nmea,
      '--elm',
      'tcp://127.0.0.1:0',
      '--truth',
      args.truth,
      '--epochs',
      String(args.epochs),
      '--tick-ms',
      String(args.tickMs),
      '--start-time',
      args.startTime,
      ...(args.extra ?? []),
    ],
    { cwd: REPO_ROOT },
  );
}

/** What the simulator says it sent, one line per GPS epoch (firmware-sim/README.md). */
export interface TruthLine {
  epoch: number;
  ts: number;
  lat: number;
  lon: number;
  speedKmh: number;
}

export function readTruth(file: string): TruthLine[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as TruthLine);
}
