/**
 * The raw NMEA path on a real serial device: firmware-sim's receiver (GN talker, RMC VTG GGA GSA
 * GSV every epoch) on a socat pty pair, read by the NmeaReader the agent uses and by
 * `fleet-agent gps --nmea`:
 *
 *   firmware-sim vehicle --nmea DEVICE ──▶ pty <==socat==> pty HOST ──▶ NmeaReader (openByteStream)
 *   firmware-sim vehicle --nmea DEVICE ──▶ pty <==socat==> pty HOST ──▶ fleet-agent gps --nmea HOST --json
 *
 * One fix per epoch, exactly the simulator's time and position (truth file).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLogger } from '@fleet/shared/log';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliIo, runGpsCommand } from '../src/cli/gps.ts';
import type { GpsFix } from '../src/gps/nmea/rmc.ts';
import { NmeaReader } from '../src/gps/nmea-reader.ts';
import { openByteStream } from '../src/transport/open.ts';
import {
  ptyPair,
  readTruth,
  type Started,
  startSimVehicle,
  type TruthLine,
  waitFor,
} from './support/gps-tools.ts';

const EPOCHS = 40;
const TICK_MS = 100;
const START = '2024-05-01T08:00:00Z';

function expectTruth(fixes: GpsFix[], truth: TruthLine[]) {
  const byTs = new Map(truth.map((t) => [t.ts, t]));
  for (const fix of fixes) {
    const t = byTs.get(fix.ts);
    expect(t, `truth epoch at ${new Date(fix.ts).toISOString()}`).toBeDefined();
    expect(Math.abs(fix.lat - t!.lat), `lat at epoch ${t!.epoch}`).toBeLessThanOrEqual(1e-9);
    expect(Math.abs(fix.lon - t!.lon), `lon at epoch ${t!.epoch}`).toBeLessThanOrEqual(1e-9);
    // RMC/VTG carry knots with 2 decimals: 0.005 kn = 0.00926 km/h.
    expect(Math.abs(fix.speedKmh! - t!.speedKmh), `speed at epoch ${t!.epoch}`).toBeLessThanOrEqual(0.0093);
    expect(fix.mode).toBe(3);
    expect(fix.satellitesUsed).toBeGreaterThan(0);
    expect(fix.satellitesVisible).toBeGreaterThanOrEqual(fix.satellitesUsed!);
    expect(fix.hdop).toBeGreaterThan(0);
    expect(fix.altitudeM).not.toBeNull();
  }
  // No gaps and no repeats from the first epoch read.
  const first = truth.findIndex((t) => t.ts === fixes[0]!.ts);
  expect(fixes.map((f) => f.ts)).toEqual(truth.slice(first, first + fixes.length).map((t) => t.ts));
}

describe('NMEA receiver on a real pty (firmware-sim -> socat)', () => {
  let dir: string;
  const stops: (() => Promise<void>)[] = [];
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'gps-nmea-pty-'));
  });
  afterAll(async () => {
    for (const stop of stops.reverse()) await stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function vehicle(name: string): Promise<{ host: string; truthFile: string; sim: () => Started }> {
    const pty = await ptyPair(mkdtempSync(path.join(dir, `${name}-`)));
    stops.push(pty.stop);
    const truthFile = path.join(dir, `${name}.jsonl`);
    return {
      host: pty.host,
      truthFile,
      sim: () => {
        const sim = startSimVehicle({
          id: `gps-${name}`,
          nmea: pty.device,
          truth: truthFile,
          epochs: EPOCHS,
          tickMs: TICK_MS,
          startTime: START,
          extra: ['--sentences', 'all', '--talker', 'GN', '--seed', '11'],
        });
        stops.push(sim.stop);
        return sim;
      },
    };
  }

  it('NmeaReader: one merged fix per epoch, every sentence good, the last epoch closed by silence', async () => {
    const v = await vehicle('reader');
    const fixes: GpsFix[] = [];
    const reader = new NmeaReader(
      () => openByteStream(v.host, 9600),
      (f) => fixes.push(f),
      createLogger('pty-test'),
    );
    const running = reader.run();
    stops.push(async () => {
      await reader.stop();
      await running;
    });
    // (The simulator takes a second to start: the reader has the port open long before.)
    const sim = v.sim();
    await waitFor(
      `all ${EPOCHS} epochs (${sim.stderr().slice(-300)})`,
      () => readTruth(v.truthFile).length === EPOCHS,
    );
    const truth = readTruth(v.truthFile);
    // The last epoch has no successor: the idle timer (250 ms of silence) closes it.
    await waitFor('the last fix', () => fixes.at(-1)?.ts === truth.at(-1)!.ts, Boolean, 3000);
    expect(fixes.length).toBeGreaterThanOrEqual(EPOCHS - 5);
    expectTruth(fixes, truth);
    expect(reader.stats.badSentences).toBe(0);
    expect(reader.stats.noFixEpochs).toBe(0);
    expect(reader.stats.lateSentences).toBe(0);
  });

  it('fleet-agent gps --nmea PTY --baud 9600 --count 10 --json', async () => {
    const v = await vehicle('cli');
    const lines: string[] = [];
    const io: CliIo = { out: (l) => lines.push(l), err: (l) => lines.push(`stderr: ${l}`) };
    const done = runGpsCommand({ nmea: v.host, baud: '9600', count: '10', json: true }, io);
    const sim = v.sim();
    expect(await done, lines.join('\n')).toBe(0);
    await waitFor(
      `the simulator's truth file (${sim.stderr().slice(-300)})`,
      () => readTruth(v.truthFile).length >= 10,
    );
    const fixes = lines.map((l) => JSON.parse(l) as GpsFix);
    expect(fixes).toHaveLength(10);
    expectTruth(fixes, readTruth(v.truthFile));
  });
});
