/**
 * The gpsd client against a real gpsd (Debian's 3.22) reading a simulated receiver:
 *
 *   firmware-sim vehicle --nmea DEVICE ──▶ pty <==socat==> /dev/pts/N ──▶ gpsd -N -n ──▶ GpsdClient
 *                                                                                   └──▶ fleet-agent gps --gpsd
 *
 * Every fix must be an epoch the simulator wrote (truth file): same time, lat/lon within 1e-6.
 * gpsd spends its first ~2 s probing the pty for binary protocols, so the first epochs are not
 * reported; from the first one it reports, none may be missing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLogger } from '@fleet/shared/log';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliIo, runGpsCommand } from '../src/cli/gps.ts';
import { GpsdClient } from '../src/gps/gpsd-client.ts';
import type { GpsFix } from '../src/gps/nmea/rmc.ts';
import {
  freePort,
  ptyPair,
  readTruth,
  requireTool,
  type Started,
  startGpsd,
  startSimVehicle,
  waitFor,
} from './support/gps-tools.ts';

const EPOCHS = 60;
const TICK_MS = 100;
const START = '2024-05-01T08:00:00Z';

describe('GpsdClient with a real gpsd fed by firmware-sim over a pty', () => {
  let dir: string;
  let truthFile: string;
  const fixes: GpsFix[] = [];
  const cliLines: string[] = [];
  let pty: Awaited<ReturnType<typeof ptyPair>>;
  let gpsd: Started;
  let sim: Started;
  let client: GpsdClient;
  let running: Promise<void>;
  let port: number;
  let cli: Promise<number>;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gps-gpsd-'));
    truthFile = path.join(dir, 'truth.jsonl');
    pty = await ptyPair(dir);
    port = await freePort();
    gpsd = await startGpsd(pty.host, port, dir);
    client = new GpsdClient(
      { host: '127.0.0.1', port, minBackoffMs: 50 },
      (f) => fixes.push(f),
      createLogger('gps-gpsd-test'),
    );
    running = client.run();
    await waitFor('the client to be watching', () => client.stats.messages >= 3); // VERSION, DEVICES, WATCH
    const io: CliIo = { out: (l) => cliLines.push(l), err: (l) => cliLines.push(`stderr: ${l}`) };
    cli = runGpsCommand({ gpsd: `127.0.0.1:${port}`, count: '5', json: true }, io);
    sim = startSimVehicle({
      id: 'gps-gpsd-1',
      nmea: pty.device,
      truth: truthFile,
      epochs: EPOCHS,
      tickMs: TICK_MS,
      startTime: START,
      extra: ['--sentences', 'all', '--talker', 'GN', '--seed', '7'],
    });
    await waitFor(
      `the simulator to write ${EPOCHS} epochs (${sim.stderr().slice(-500)})`,
      () => readTruth(truthFile).length,
      (n) => n === EPOCHS,
    );
    const last = readTruth(truthFile).at(-1)!.ts;
    await waitFor('gpsd to report the last epoch', () => fixes.at(-1)?.ts === last, Boolean, 5000);
  });

  afterAll(async () => {
    await client?.stop();
    await running;
    await sim?.stop();
    await gpsd?.stop();
    await pty?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reports every epoch from the first one gpsd reported, with the simulator’s time and position', () => {
    const truth = readTruth(truthFile);
    expect(truth).toHaveLength(EPOCHS);
    expect(truth[0]!.ts).toBe(Date.parse(START));
    const byTs = new Map(truth.map((t) => [t.ts, t]));
    expect(fixes.length, 'fixes reported by gpsd').toBeGreaterThanOrEqual(EPOCHS / 2);
    for (const fix of fixes) {
      const t = byTs.get(fix.ts);
      expect(t, `a truth epoch at ${new Date(fix.ts).toISOString()}`).toBeDefined();
      expect(Math.abs(fix.lat - t!.lat), `lat at epoch ${t!.epoch}`).toBeLessThanOrEqual(1e-6);
      expect(Math.abs(fix.lon - t!.lon), `lon at epoch ${t!.epoch}`).toBeLessThanOrEqual(1e-6);
      // RMC carries knots with 2 decimals (0.005 m/s), gpsd prints m/s with 3.
      expect(Math.abs(fix.speedKmh! / 3.6 - t!.speedKmh / 3.6), `speed at epoch ${t!.epoch}`).toBeLessThan(
        0.01,
      );
      expect(fix).toMatchObject({ mode: 3, source: 'gpsd' });
      expect(fix.satellitesUsed).toBeGreaterThan(0);
    }
    const first = truth.findIndex((t) => t.ts === fixes[0]!.ts);
    expect(fixes.map((f) => f.ts)).toEqual(truth.slice(first).map((t) => t.ts));
    expect(client.stats.badLines).toBe(0);
  });

  it('fleet-agent gps --gpsd prints the same fixes as JSON lines and exits 0', async () => {
    expect(await cli).toBe(0);
    expect(cliLines).toHaveLength(5);
    const truth = new Map(readTruth(truthFile).map((t) => [t.ts, t]));
    for (const line of cliLines) {
      const fix = JSON.parse(line) as GpsFix;
      expect(Math.abs(fix.lat - truth.get(fix.ts)!.lat)).toBeLessThanOrEqual(1e-6);
    }
  });
});

describe('missing tools', () => {
  it('fail loudly with the apt command, never skip', () => {
    expect(() => requireTool('/usr/sbin/gpsd-not-installed', 'gpsd')).toThrow(
      '/usr/sbin/gpsd-not-installed is missing: this integration test needs it. Install it with: apt-get install -y gpsd',
    );
  });
});
