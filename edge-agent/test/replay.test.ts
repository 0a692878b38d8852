/**
 * `fleet-agent replay` as a technician runs it: the real CLI in a child process, on the Torque
 * Pro export in ../shared/data/torque, on the real carOBD trips in ../shared/data/carobd-dev and
 * on a labelled firmware-sim log.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { VehicleEvent } from '@fleet/shared';
import { afterAll, describe, expect, it } from 'vitest';
import { replay as replayLog } from '../src/cli/replay.ts';

const run = promisify(execFile);
const AGENT = join(import.meta.dirname, '../bin/fleet-agent.js');
const SIM = join(import.meta.dirname, '../../firmware-sim/bin/firmware-sim.js');
const TORQUE = join(import.meta.dirname, '../../../shared/data/torque/trackLog.csv');
const CAROBD_DEV = join(import.meta.dirname, '../../../shared/data/carobd-dev');
const dir = mkdtempSync(join(tmpdir(), 'replay-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function replay(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [AGENT, 'replay', ...args], {
      env: { ...process.env, LOG_LEVEL: 'warn' },
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function jsonLines(stdout: string): { events: VehicleEvent[]; summary: Record<string, unknown> } {
  const lines = stdout.trim().split('\n');
  const last = JSON.parse(lines.pop()!) as { summary: Record<string, unknown> };
  return { events: lines.map((l) => VehicleEvent.parse(JSON.parse(l))), summary: last.summary };
}

/** The export's own "Fuel used (trip)" figure: its last value minus its first, read independently. */
function torqueFuelUsed(): number {
  const rows = readFileSync(TORQUE, 'utf8').trim().split('\n');
  const col = rows[0]!.split(',').findIndex((h) => h.trim() === 'Fuel used (trip)(l)');
  const values = rows
    .slice(1)
    .map((r) => r.split(',')[col]!.trim())
    .filter((v) => v !== '-')
    .map(Number);
  return values[values.length - 1]! - values[0]!;
}

describe('fleet-agent replay', () => {
  it('replays the Torque Pro export; its consumption agrees with the log own "Fuel used (trip)" within 5 %', async () => {
    const r = await replay([TORQUE, '--format', 'torque', '--tank-liters', '50', '--json']);
    expect(r.code).toBe(0);
    const { events, summary } = jsonLines(r.stdout);
    const theirs = torqueFuelUsed();
    const ours = summary.litresUsed as number;
    console.log(
      `Torque trackLog.csv: replay ${ours.toFixed(3)} L (${summary.litresSource}) vs the log's Fuel used (trip) ${theirs.toFixed(3)} L: ` +
        `${((100 * (ours - theirs)) / theirs).toFixed(2)} %; ${summary.distanceKm} km, ${summary.lPer100Km} L/100 km, ${events.length} events`,
    );
    expect(theirs).toBeGreaterThan(2);
    expect(Math.abs(ours - theirs) / theirs).toBeLessThan(0.05);
    expect(summary.samples).toBe(2662);
    expect(summary.distanceKm as number).toBeGreaterThan(30);
    // No tank level in this export: nothing may be claimed about refuels or drains.
    expect(events.filter((e) => e.type === 'fuel_drain' || e.type === 'refuel')).toEqual([]);
  });

  it('replays every real carOBD trip (told by its header, gzip as it is) without one drain', async () => {
    // A 45 L Etios, no theft and no refuel inside any trip; its sender keeps settling for minutes
    // after each stop with the engine running, which the detectors used to call ~2 drains an hour.
    const trips = readdirSync(CAROBD_DEV)
      .filter((f) => f.endsWith('.csv.gz'))
      .map((f) => join(CAROBD_DEV, f));
    expect(trips.length).toBe(34);
    const r = await replay([...trips, '--tank-liters', '45', '--json']);
    expect(r.code).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { summary?: Record<string, unknown> });
    const summaries = lines.flatMap((l) => (l.summary ? [l.summary] : []));
    const events = lines.filter((l) => !l.summary).map((l) => VehicleEvent.parse(l));
    expect(summaries.map((s) => s.file)).toEqual(trips);
    for (const s of summaries) {
      expect(s.format).toBe('carobd');
      expect(s.samples as number).toBeGreaterThan(100);
    }
    // The detectors did run on them: the idle trips idle for longer than five minutes.
    expect(events.filter((e) => e.type === 'long_idle').length).toBeGreaterThan(5);
    expect(events.filter((e) => e.type === 'fuel_drain')).toEqual([]);
  });

  it('finds the theft in a labelled firmware-sim log with its volume, and prints a table without --json', async () => {
    const csv = join(dir, 'theft.csv');
    const labels = join(dir, 'theft.jsonl');
    await run(process.execPath, [
      SIM,
      'log',
      '--scenario',
      'fuel-theft',
      '--seed',
      '3',
      '--hours',
      '2',
      '--out',
      csv,
      '--labels',
      labels,
    ]);
    const thefts = readFileSync(labels, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((l) => l.type === 'fuel_theft' && !l.truncated);
    expect(thefts.length).toBeGreaterThan(0);
    const r = await replay([csv, '--tank-liters', '80', '--speed-limit', '50', '--json']);
    expect(r.code).toBe(0);
    const drains = jsonLines(r.stdout).events.filter((e) => e.type === 'fuel_drain');
    expect(drains).toHaveLength(thefts.length);
    for (const [i, t] of thefts.entries()) {
      expect(Math.abs(drains[i]!.volumeL! - t.volumeL) / t.volumeL).toBeLessThan(0.1);
      expect(drains[i]!.start).toBeLessThanOrEqual(t.start);
      expect(drains[i]!.end).toBeGreaterThanOrEqual(t.end);
    }
    // The human form, in-process (same code path as the child's, without another tsx start).
    const out: string[] = [];
    const err: string[] = [];
    expect(
      replayLog(csv, { format: 'csv', tankLiters: 80 }, { out: (l) => out.push(l), err: (l) => err.push(l) }),
    ).toBe(0);
    expect(out.filter((l) => / fuel_drain /.test(l))).toHaveLength(thefts.length);
    expect(err.join('\n')).toMatch(/^Consumption: [\d.]+ L \(fuel_rate\)/m);
  });

  it('fails clearly on a missing file or a file that is no drive log; counts bad rows and goes on', async () => {
    const missing = await replay([join(dir, 'nope.csv'), '--json']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read .*nope\.csv.*\[E800\]/);
    // The rest in-process: the same replay() the command calls, its errors as main.ts shows them.
    const notALog = join(dir, 'notes.txt');
    writeFileSync(notALog, 'shopping list\neggs\n');
    const io = { out: (_l: string) => {}, err: (_l: string) => {} };
    expect(() => replayLog(notALog, { format: 'csv', tankLiters: 60 }, io)).toThrow(
      /not a readable csv drive log .*no "ts" column/,
    );
    expect(() => replayLog(notALog, { format: 'torque', tankLiters: 60 }, io)).toThrow(/not a Torque export/);
    const partly = join(dir, 'partly.csv');
    writeFileSync(
      partly,
      [
        'ts,speed_kmh,rpm,fuel_level_pct,fuel_rate_lph,maf_gps,lat,lon,ignition',
        '2024-05-01T08:00:00.000Z,0,800,50.1961,0.9,,48.1,11.5,1',
        '2024-05-01T08:00:01.000Z,zero,800,50.1961,0.9,,48.1,11.5,1',
        '2024-05-01T08:00:02.000Z,0,800,50.1961,0.9,,48.1,11.5,1',
      ].join('\n'),
    );
    const out: string[] = [];
    const err: string[] = [];
    expect(
      replayLog(
        partly,
        { format: 'csv', tankLiters: 60, json: true },
        { out: (l) => out.push(l), err: (l) => err.push(l) },
      ),
    ).toBe(0);
    const some = { stdout: out.join('\n'), stderr: err.join('\n') };
    expect(some.stderr).toMatch(/1 bad rows skipped \(2 read\)/);
    expect(some.stderr).toMatch(/line 3: speed_kmh "zero" is not a number/);
    expect(jsonLines(some.stdout).summary).toMatchObject({ samples: 2, badRows: 1 });
  });
});
