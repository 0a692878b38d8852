import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { AgentErrorCode } from '../errors.ts';
import { parseCarObdCsv, parseCarObdLog, readCarObdLog } from './carobd-log.ts';

/** A real trip of the carOBD dataset (../shared/data/carobd-dev, see its README). */
const DRIVE1 = join(import.meta.dirname, '../../../../shared/data/carobd-dev/drive1.csv.gz');

const HEADER =
  'ENGINE_RUN_TINE (),ENGINE_RPM (),VEHICLE_SPEED (),COOLANT_TEMPERATURE (),FUEL_TANK (),CONTROL_MODULE_VOLTAGE ()';

describe('carOBD logs', () => {
  it('reads a real gzip trip: every row, its values, and a time line paced by the run-time column', () => {
    const { samples, errors } = readCarObdLog(DRIVE1);
    const rows = gunzipSync(readFileSync(DRIVE1))
      .toString('utf8')
      .split(/\r?\n/)
      .slice(1)
      .filter((l) => l.trim() !== '');
    expect(errors).toEqual([]);
    expect(samples).toHaveLength(rows.length);

    // The first row as the file has it: engine not yet running, tank 60.39 % (154/255).
    expect(samples[0]).toMatchObject({ ts: 0, rpm: 0, speedKmh: 0, fuelLevelPct: 60.392159, coolantC: 81 });
    expect(samples[0]!.ignition).toBeNull();
    // Row 9 of the file (line 10) is the first at run time 2 s.
    expect(samples[8]).toMatchObject({ ts: 2000, rpm: 1128 });

    const ts = samples.map((s) => s.ts);
    expect(ts.every((t, k) => k === 0 || t > ts[k - 1]!)).toBe(true);
    // The last run time in the file is 1330 s; about two rows per second on average.
    const lastRunTimeS = Number(rows[rows.length - 1]!.split(',')[0]);
    expect(lastRunTimeS).toBe(1330);
    expect(ts[ts.length - 1]! / 1000).toBeGreaterThanOrEqual(lastRunTimeS);
    expect(ts[ts.length - 1]! / 1000).toBeLessThan(lastRunTimeS + 2);
    expect(samples.length / lastRunTimeS).toBeGreaterThan(1.8);
    expect(samples.length / lastRunTimeS).toBeLessThan(2.3);
    expect(Math.max(...samples.map((s) => s.speedKmh ?? 0))).toBeGreaterThan(30);
  });

  it('places run time 0 at startMs', () => {
    const startMs = Date.UTC(2019, 0, 1);
    const { samples } = readCarObdLog(DRIVE1, { startMs });
    expect(samples[8]!.ts).toBe(startMs + 2000);
  });

  it('counts bad rows by line and keeps the rest: a cut-short row, a non-number, an impossible level', () => {
    const text = [
      HEADER,
      '0, 0, 0, 30, 50.196079, 12.4,',
      '1, 800, 0, 30, 50.196079, 12.4,',
      '1, 800, 0, 30',
      '2, 810, 0, 30, x, 12.4,',
      '3, 820, 0, 30, 250, 12.4',
      '4, 830, 0, 30, 49.803921, 12.4',
      '',
    ].join('\r\n');
    const { samples, errors } = parseCarObdCsv(text);
    expect(errors).toEqual([
      { line: 4, reason: '4 cells, header has 6' },
      { line: 5, reason: 'FUEL_TANK "x" is not a number' },
      { line: 6, reason: 'FUEL_TANK 250 outside 0..100.5' },
    ]);
    expect(samples.map((s) => [s.ts, s.rpm, s.fuelLevelPct])).toEqual([
      [0, 0, 50.196079],
      [1000, 800, 50.196079],
      [4000, 830, 49.803921],
    ]);
  });

  it('keeps time moving forwards when the run time restarts inside a log', () => {
    const text = [
      HEADER,
      '10, 800, 0, 80, 40, 14',
      '11, 800, 0, 80, 40, 14',
      '0, 0, 0, 80, 40, 12',
      '1, 750, 0, 80, 40, 14',
    ].join('\n');
    const { samples, errors } = parseCarObdCsv(text);
    expect(errors).toEqual([]);
    const ts = samples.map((s) => s.ts);
    expect(ts).toEqual([10_000, 11_000, 11_500, 12_500]);
  });

  it('reports a file that is not a carOBD log, or not gzip, as an error instead of throwing', () => {
    expect(parseCarObdCsv('ts,speed_kmh\n2024-05-01T08:00:00Z,10\n')).toEqual({
      samples: [],
      errors: [{ line: 1, reason: 'not a carOBD log: no "ENGINE_RUN_TINE ()" run-time column' }],
    });
    const cut = gzipSync(Buffer.from(`${HEADER}\n0,0,0,20,50,12\n`)).subarray(0, 20);
    const broken = parseCarObdLog(cut);
    expect(broken.samples).toEqual([]);
    expect(broken.errors[0]!.reason).toMatch(/^not a readable gzip file/);
    // Plain (not gzip) CSV bytes are read as they are.
    expect(parseCarObdLog(Buffer.from(`${HEADER}\n0,0,0,20,50,12\n`)).samples).toHaveLength(1);
  });

  it('throws LogNotFound for a file that cannot be read', () => {
    expect(() => readCarObdLog('/nonexistent/trip.csv.gz')).toThrow(
      expect.objectContaining({ code: AgentErrorCode.LogNotFound }),
    );
  });
});
