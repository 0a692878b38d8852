import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenario } from '../scenarios/index.ts';
import type { Label, LabelsMeta } from '../scenarios/labels.ts';
import { Random } from '../vehicle/random.ts';
import { type FastForwardOptions, runFastForward } from './fast-forward.ts';
import { CSV_BASE_COLUMNS, CSV_EXTRA_COLUMNS, fixed, isoTime, parseExtraColumns } from './format.ts';

const dir = mkdtempSync(join(tmpdir(), 'fsim-csv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const START = Date.UTC(2024, 4, 1, 6);
let n = 0;

function log(scenario: string, hours: number, extra: Partial<FastForwardOptions> = {}) {
  n += 1;
  const out = join(dir, `log-${n}.csv`);
  const labelsOut = join(dir, `log-${n}.jsonl`);
  const result = runFastForward({
    id: 'csv-1',
    seed: 3,
    startTimeMs: START,
    scenario: loadScenario(scenario),
    hours,
    out,
    labelsOut,
    ...extra,
  });
  const text = readFileSync(out, 'utf8');
  const [header, ...lines] = text.trimEnd().split('\n');
  const columns = header!.split(',');
  const rows = lines.map((l) => {
    const cells = l.split(',');
    expect(cells).toHaveLength(columns.length);
    return Object.fromEntries(columns.map((c, i) => [c, cells[i]!])) as Row;
  });
  const [meta, ...labels] = readFileSync(labelsOut, 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l));
  return { result, text, header: header!, rows, meta: meta as LabelsMeta, labels: labels as Label[] };
}

type Row = Record<string, string> & { ts: string };
const byTs = (rows: Row[], ts: number) => rows.find((r) => r.ts === new Date(ts).toISOString())!;

describe('log: fast-forward CSV', () => {
  it('writes the documented header and one valid row per second', () => {
    const { header, rows, result, text } = log('none', 1);
    expect(header).toBe('ts,speed_kmh,rpm,fuel_level_pct,fuel_rate_lph,maf_gps,lat,lon,ignition');
    expect(rows).toHaveLength(3601);
    expect(result.rows).toBe(3601);
    expect(text.endsWith('\n')).toBe(true);
    rows.forEach((r, i) => {
      expect(r.ts).toBe(new Date(START + i * 1000).toISOString());
      expect(r.speed_kmh).toMatch(/^\d{1,3}$/);
      expect(r.rpm).toMatch(/^\d+\.(00|25|50|75)$/);
      const a = (Number(r.fuel_level_pct) * 255) / 100;
      expect(Math.abs(a - Math.round(a))).toBeLessThan(1e-3); // a PID 2F byte
      expect(Math.round(Number(r.fuel_rate_lph) * 20)).toBeCloseTo(Number(r.fuel_rate_lph) * 20, 6);
      expect(r.maf_gps).toMatch(/^\d+\.\d\d$/);
      expect(r.lat).toMatch(/^-?\d+\.\d{7}$/);
      expect(r.lon).toMatch(/^-?\d+\.\d{7}$/);
      expect(r.ignition).toBe('1');
    });
    // MAF and fuel rate agree: L/h = MAF * 3600 / 14.7 / 745, within their resolutions.
    for (const r of rows) {
      expect((Number(r.maf_gps) * 3600) / 14.7 / 745).toBeCloseTo(Number(r.fuel_rate_lph), 1);
    }
  });

  it('adds the optional columns in the documented order', () => {
    expect(parseExtraColumns('accel_y_g,coolant_c')).toEqual(['coolant_c', 'accel_y_g']);
    expect(parseExtraColumns('all')).toEqual([...CSV_EXTRA_COLUMNS]);
    const { header, rows } = log('harsh-driving', 0.5, { extraColumns: [...CSV_EXTRA_COLUMNS] });
    expect(header).toBe([...CSV_BASE_COLUMNS, ...CSV_EXTRA_COLUMNS].join(','));
    for (const r of rows) {
      expect(r.coolant_c).toMatch(/^-?\d+$/);
      expect(r.odometer_km).toMatch(/^\d+\.\d$/);
      expect(r.accel_x_g).toMatch(/^-?\d\.\d{3}$/);
    }
    expect(Math.min(...rows.map((r) => Number(r.accel_x_g)))).toBeLessThan(-0.35);
    expect(Math.max(...rows.map((r) => Number(r.accel_x_g)))).toBeGreaterThan(0.3);
    expect(rows.some((r) => Number(r.accel_y_g) !== 0)).toBe(true);
  });

  it('leaves OBD cells empty with the ignition off or the adapter unplugged, positions empty without a fix', () => {
    const off = log('ignition-off', 1);
    const parked = off.labels.find((l) => l.type === 'ignition_off')!;
    for (const r of off.rows.filter(
      (r) => Date.parse(r.ts) >= parked.start && Date.parse(r.ts) < parked.end!,
    )) {
      expect([r.speed_kmh, r.rpm, r.fuel_level_pct, r.fuel_rate_lph, r.maf_gps, r.ignition]).toEqual([
        '',
        '',
        '',
        '',
        '',
        '0',
      ]);
      expect(r.lat).not.toBe('');
    }
    const unplug = log('unplug', 0.5);
    const gone = unplug.labels.find((l) => l.type === 'unplug')!;
    unplug.rows.forEach((r) => {
      const t = Date.parse(r.ts);
      const inside = t >= gone.start && t < gone.end!;
      expect(r.rpm === '', r.ts).toBe(inside);
      expect(r.ignition).toBe('1');
    });
    const loss = log('gps-loss', 0.5);
    const dark = loss.labels.filter((l) => l.type === 'gps_fix_loss');
    expect(dark.length).toBeGreaterThan(0);
    loss.rows.forEach((r) => {
      const t = Date.parse(r.ts);
      const inside = dark.some((l) => t >= l.start && t < l.end!);
      expect(r.lat === '' && r.lon === '', r.ts).toBe(inside);
      expect(r.rpm).not.toBe('');
    });
  });

  it('loses a sample per injected error answer, and fuel rate / MAF without PIDs 5E / 10', () => {
    const errors = log('adapter-errors', 0.25);
    const emptyRpm = errors.rows.filter((r) => r.rpm === '').length;
    expect(emptyRpm).toBe(11 + 2); // eleven answers and a power glitch (glitch + re-init)
    const light = log('none', 0.1, { pids: [0x0c, 0x0d, 0x2f] });
    for (const r of light.rows) {
      expect([r.fuel_rate_lph, r.maf_gps]).toEqual(['', '']);
      expect(r.rpm).not.toBe('');
    }
  });

  it('shows a labelled theft in the logged fuel level, within the sender quantisation', () => {
    const { rows, labels, meta } = log('fuel-theft', 6);
    expect(meta).toMatchObject({
      type: 'meta',
      scenario: 'fuel-theft',
      seed: 3,
      tankLitres: 80,
      startTs: START,
    });
    expect(meta.calibration).toHaveLength(21);
    const thefts = labels.filter((l): l is Extract<Label, { type: 'fuel_theft' }> => l.type === 'fuel_theft');
    expect(thefts.length).toBeGreaterThan(0);
    // Ignition off during a theft: the level is read just before and after the parked period.
    for (const theft of thefts) {
      const off = labels.find(
        (l) => l.type === 'ignition_off' && l.start <= theft.start && l.end! >= theft.end!,
      )!;
      const before = Number(byTs(rows, off.start - 1000).fuel_level_pct);
      const after = Number(byTs(rows, off.end!).fuel_level_pct);
      const droppedL = ((before - after) / 100) * 80;
      // Slosh of the moving vehicle before and after, plus the quantisation: a few litres.
      expect(Math.abs(droppedL - theft.volumeL)).toBeLessThan(4);
    }
    // Labels sorted by start.
    const starts = labels.map((l) => l.start);
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
  });

  it('is deterministic for a seed and honours --hz', () => {
    const a = log('mixed', 2);
    const b = log('mixed', 2);
    expect(b.text).toBe(a.text);
    expect(JSON.stringify(b.labels)).toBe(JSON.stringify(a.labels));
    const fast = log('none', 0.1, { hz: 2 });
    expect(fast.rows).toHaveLength(721);
    expect(fast.rows[1]!.ts).toBe(new Date(START + 500).toISOString());
    const slow = log('none', 1, { hz: 0.1 });
    expect(slow.rows).toHaveLength(361);
    expect(slow.rows[1]!.ts).toBe(new Date(START + 10_000).toISOString());
    // The 1 Hz rows of a 2 Hz log are the 1 Hz log's rows.
    const one = log('none', 0.1);
    for (let i = 0; i < one.rows.length; i++) expect(fast.rows[2 * i]).toEqual(one.rows[i]);
  });

  it('formats numbers and times exactly like toFixed and toISOString', () => {
    const rng = new Random(1);
    let same = 0;
    for (let i = 0; i < 20_000; i++) {
      const v = (rng.next() - 0.5) * 10 ** rng.int(0, 6);
      const d = rng.int(0, 7);
      const text = fixed(v, d);
      expect(text).toMatch(d === 0 ? /^-?\d+$/ : new RegExp(`^-?\\d+\\.\\d{${d}}$`));
      expect(Math.abs(Number(text) - v)).toBeLessThanOrEqual(0.5 * 10 ** -d * (1 + 1e-9));
      // Same as toFixed, except that a negative rounding to zero is "0", never "-0".
      const expected = v.toFixed(d);
      if (text === (/^-0(\.0*)?$/.test(expected) ? expected.slice(1) : expected)) same += 1;
    }
    expect(same).toBeGreaterThan(19_990);
    expect(fixed(-0.0001, 3)).toBe('0.000');
    expect(fixed(-1.5, 0)).toBe('-2');
    expect(fixed(12.3456789, 7)).toBe('12.3456789');
    expect(fixed(-58.378505, 7)).toBe('-58.3785050');
    for (let i = 0; i < 5000; i++) {
      const ms = Date.UTC(2020, 0, 1) + Math.floor(rng.next() * 10 * 365 * 86_400_000);
      expect(isoTime(ms)).toBe(new Date(ms).toISOString());
    }
  });
});
