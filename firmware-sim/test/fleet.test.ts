import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { openHost } from './socat.ts';

const BIN = fileURLToPath(new URL('../bin/firmware-sim.js', import.meta.url));

const children: ChildProcess[] = [];
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  // SIGTERM first: the fleet stops the socat processes it started (SIGKILL would orphan them).
  for (const c of children.splice(0)) {
    if (c.exitCode !== null || c.signalCode !== null) continue;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
  for (const f of cleanups.splice(0).reverse()) await f();
});

interface FleetLine {
  id: string;
  seed: number;
  vin: string;
  elm: string;
  nmea: string;
  truth: string;
  labels: string;
}

function startFleet(args: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'fsim-fleet-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const child = spawn(process.execPath, [BIN, 'fleet', '--dir', dir, ...args], {
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
  return {
    dir,
    child,
    exit,
    stderr: () => err,
    async lines(count: number, timeoutMs = 20_000): Promise<FleetLine[]> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const lines = out.split('\n').filter(Boolean);
        if (lines.length >= count) return lines.map((l) => JSON.parse(l) as FleetLine);
        if (Date.now() > deadline || child.exitCode !== null) {
          throw new Error(`fleet printed ${lines.length}/${count} lines; stderr: ${err}`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

/** Connect to tcp://HOST:PORT and send one command, resolving with the text up to the prompt. */
async function askTcp(url: string, cmd: string): Promise<string> {
  const { hostname, port } = new URL(url);
  const socket: Socket = await new Promise((resolve, reject) => {
    const s = connect(Number(port), hostname, () => resolve(s));
    s.once('error', reject);
  });
  cleanups.push(() => {
    socket.destroy();
  });
  let reply = '';
  socket.on('data', (b) => {
    reply += b.toString('latin1');
  });
  socket.write(`${cmd}\r`);
  const deadline = Date.now() + 5000;
  while (!reply.endsWith('>')) {
    if (Date.now() > deadline) throw new Error(`no prompt from ${url}: ${JSON.stringify(reply)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  socket.destroy();
  return reply;
}

describe('firmware-sim fleet', () => {
  it('runs N vehicles over TCP in one process, each answering ATZ on its own port', async () => {
    const fleet = startFleet(['--count', '4', '--tcp', '--seed', '10', '--tick-ms', '50', '--epochs', '20']);
    const vehicles = await fleet.lines(4);
    expect(vehicles.map((v) => v.id)).toEqual(['veh-001', 'veh-002', 'veh-003', 'veh-004']);
    expect(vehicles.map((v) => v.seed)).toEqual([10, 11, 12, 13]);
    const ports = new Set(vehicles.flatMap((v) => [v.elm, v.nmea]));
    expect(ports.size).toBe(8);
    for (const v of vehicles) {
      expect(v.elm).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
      expect(await askTcp(v.elm, 'ATZ')).toBe('ATZ\r\r\rELM327 v1.5\r\r>');
    }
    // Each writes its own truth file and a labels file with its meta line.
    const deadline = Date.now() + 15_000;
    while (
      vehicles.some((v) => !existsSync(v.truth) || readFileSync(v.truth, 'utf8').split('\n').length < 21)
    ) {
      if (Date.now() > deadline) throw new Error('truth files incomplete');
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const v of vehicles) {
      const first = JSON.parse(readFileSync(v.truth, 'utf8').split('\n')[0]!);
      expect(first).toMatchObject({ epoch: 0, vehicleId: v.id });
      expect(JSON.parse(readFileSync(v.labels, 'utf8').split('\n')[0]!)).toMatchObject({
        type: 'meta',
        vehicleId: v.id,
        seed: v.seed,
      });
    }
    fleet.child.kill('SIGTERM');
    expect(await fleet.exit).toBe(0);
  });

  it('creates socat pty pairs itself with --pty and prints the host sides', async () => {
    const fleet = startFleet([
      '--count',
      '2',
      '--pty',
      '--tick-ms',
      '100',
      '--protocol',
      'iso9141',
      '--start-delay-ms',
      '500',
    ]);
    const vehicles = await fleet.lines(2);
    for (const v of vehicles) {
      expect(v.elm).toBe(join(fleet.dir, v.id, 'elm-host'));
      expect(v.nmea).toBe(join(fleet.dir, v.id, 'gps-host'));
      const host = await openHost(v.elm);
      cleanups.push(() => host.close());
      expect(await host.ask('ATE0')).toBe('ATE0\rOK\r\r>');
      expect(await host.ask('ATDP')).toBe('AUTO\r\r>');
      const gps = await openHost(v.nmea);
      cleanups.push(() => gps.close());
      const deadline = Date.now() + 10_000;
      while (!gps.received().includes('$GPRMC')) {
        if (Date.now() > deadline) throw new Error(`no NMEA on ${v.nmea}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    fleet.child.kill('SIGTERM');
    expect(await fleet.exit).toBe(0);
    // Its socat processes went with it: the links are gone.
    const deadline = Date.now() + 5000;
    while (existsSync(vehicles[0]!.elm) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(vehicles[0]!.elm)).toBe(false);
  });

  it('exits 2 without exactly one of --tcp / --pty', async () => {
    const fleet = startFleet(['--count', '2']);
    expect(await fleet.exit).toBe(2);
    expect(fleet.stderr()).toContain('give exactly one of --tcp, --pty');
  });
});
