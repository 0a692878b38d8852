import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isSimError, SimErrorCode } from '../errors.ts';
import { BUILTIN_SCENARIOS } from './builtin.ts';
import { parseDuration, parseScenario } from './format.ts';
import { loadScenario } from './index.ts';

function rejects(raw: unknown, message: RegExp): void {
  try {
    parseScenario(raw);
    expect.unreachable(JSON.stringify(raw));
  } catch (err) {
    expect(isSimError(err, SimErrorCode.InvalidScenario)).toBe(true);
    expect((err as Error).message).toMatch(message);
  }
}

describe('scenario file format', () => {
  it('reads durations as seconds or h/m/s strings', () => {
    expect(parseDuration(90)).toBe(90);
    expect(parseDuration('90')).toBe(90);
    expect(parseDuration('90s')).toBe(90);
    expect(parseDuration('15m')).toBe(900);
    expect(parseDuration('2h')).toBe(7200);
    expect(parseDuration('1h30m')).toBe(5400);
    expect(parseDuration('1.5h')).toBe(5400);
    for (const bad of ['', '5 min', 'h', '1h30', '-5'])
      expect(() => parseDuration(bad)).toThrow(/not a duration/);
  });

  it('accepts every built-in scenario and a full custom one', () => {
    for (const s of BUILTIN_SCENARIOS) expect(() => parseScenario(structuredClone(s))).not.toThrow();
    const parsed = parseScenario({
      name: 'depot',
      vehicle: {
        tankLitres: 80,
        tankShape: {
          table: [
            [0, 0],
            [50, 30],
            [100, 80],
          ],
        },
        initialFuelPct: [40, 80],
        protocol: 'kwp',
        adapter: 'stn',
        dtcs: ['P0420'],
      },
      thresholds: { harshBrakeG: 0.4 },
      schedule: { tripS: ['20m', '50m'], parkS: '10m', workHoursUtc: [7, 19], refuelBelowPct: 20 },
      emptyTank: { action: 'strand' },
      faults: { 'NO DATA': 0.01 },
      events: [
        { type: 'fuel_theft', at: '40m', every: ['6h', '8h'], times: 3, volumeL: [15, 40], durationS: '10m' },
        { type: 'refuel', at: '2h', toPct: 95 },
        { type: 'obd_error', at: 30, answer: '<RX ERROR', count: 3 },
      ],
    });
    expect(parsed.vehicle?.tankShape).toEqual({
      kind: 'table',
      points: [
        [0, 0],
        [50, 30],
        [100, 80],
      ],
    });
    expect(parsed.emptyTank).toEqual({ action: 'strand', afterS: '30m', litres: 10 });
  });

  it('names the bad field', () => {
    rejects([], /JSON object/);
    rejects({ events: [] }, /"name" is required/);
    rejects({ name: 'x' }, /"events" must be a list/);
    rejects({ name: 'x', events: [], colour: 'red' }, /unknown field "colour"/);
    rejects({ name: 'x', events: [{ type: 'teleport', at: 0 }] }, /events\[0\]: "type" must be one of/);
    rejects({ name: 'x', events: [{ type: 'park' }] }, /"at" is required/);
    rejects({ name: 'x', events: [{ type: 'fuel_theft', at: 0, volumeL: 5 }] }, /"durationS" is required/);
    rejects({ name: 'x', events: [{ type: 'refuel', at: 0 }] }, /give "volumeL" or "toPct"/);
    rejects({ name: 'x', events: [{ type: 'park', at: '10 min', durationS: 5 }] }, /events\[0\]\.at/);
    rejects({ name: 'x', events: [{ type: 'park', at: ['2h', '1h'], durationS: 5 }] }, /min > max/);
    rejects({ name: 'x', events: [{ type: 'dtc', at: 0, code: 'X123' }] }, /events\[0\]\.code/);
    rejects({ name: 'x', events: [{ type: 'obd_error', at: 0, answer: 'OOPS' }] }, /events\[0\]\.answer/);
    rejects({ name: 'x', events: [], vehicle: { protocol: 'j1850' } }, /vehicle\.protocol/);
    rejects(
      {
        name: 'x',
        events: [],
        vehicle: {
          tankShape: {
            table: [
              [0, 0],
              [100, 50],
            ],
          },
        },
        tankLitres: 2,
      },
      /unknown field/,
    );
    rejects({ name: 'x', events: [], schedule: { tripS: '1h' } }, /"tripS" and "parkS" are required/);
    rejects(
      { name: 'x', events: [], schedule: { tripS: '1h', parkS: 5, workHoursUtc: [19, 7] } },
      /workHoursUtc/,
    );
    rejects({ name: 'x', events: [], faults: { 'NO DATA': 0.7, '?': 0.5 } }, /add up to/);
    rejects({ name: 'x', events: [], vehicle: { sender: 'perfect' } }, /vehicle\.sender: one of ideal, real/);
    rejects(
      { name: 'x', events: [{ type: 'idle', at: 1, durationS: 60, gradePct: 45 }] },
      /gradePct: a grade in/,
    );
    rejects({ name: 'x', events: [{ type: 'idle', at: 1, durationS: 60, gradePct: [8, -8] }] }, /gradePct/);
    rejects(
      { name: 'x', events: [{ type: 'leak', at: 1, rateLph: 1, durationS: 60, gradePct: 5 }] },
      /gradePct: only for park, idle, fuel_theft, refuel/,
    );
  });

  it('takes a sender model and signed slopes to park or idle on', () => {
    const parsed = parseScenario({
      name: 'slopes',
      vehicle: { sender: 'real' },
      events: [
        { type: 'idle', at: '10m', durationS: '10m', gradePct: -8 },
        { type: 'fuel_theft', at: '30m', volumeL: 3, durationS: '10m', parkS: '1h', gradePct: [4, 12] },
      ],
    });
    expect(parsed.vehicle?.sender).toBe('real');
    expect(parsed.events.map((e) => e.gradePct)).toEqual([-8, [4, 12]]);
  });

  it('loads a file, and tells a missing name from a broken file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fsim-scn-'));
    try {
      const good = join(dir, 'good.json');
      writeFileSync(
        good,
        JSON.stringify({ name: 'mine', events: [{ type: 'idle', at: '5m', durationS: '10m' }] }),
      );
      expect(loadScenario(good).name).toBe('mine');
      const broken = join(dir, 'broken.json');
      writeFileSync(broken, '{"name": ');
      expect(() => loadScenario(broken)).toThrowError(
        expect.objectContaining({ code: SimErrorCode.InvalidScenario }),
      );
      const invalid = join(dir, 'invalid.json');
      writeFileSync(invalid, JSON.stringify({ name: 'x', events: [{ type: 'park', at: 1 }] }));
      expect(() => loadScenario(invalid)).toThrow(
        /invalid\.json: events\[0\] \(park\): "durationS" is required/,
      );
      expect(() => loadScenario(join(dir, 'nope.json'))).toThrowError(
        expect.objectContaining({ code: SimErrorCode.UnknownScenario }),
      );
      expect(loadScenario('fuel-theft').name).toBe('fuel-theft');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
