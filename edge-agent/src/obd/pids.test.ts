import { describe, expect, it } from 'vitest';
import { PIDS, parseMode01Line } from './pids.ts';

// Expected values are the SAE J1979 formulas evaluated by hand for each byte pattern.

describe('PIDS table', () => {
  it('holds the J1979 PID numbers and data lengths', () => {
    expect(PIDS.coolantC).toMatchObject({ pid: 0x05, bytes: 1, unit: '°C' });
    expect(PIDS.rpm).toMatchObject({ pid: 0x0c, bytes: 2, unit: 'rpm' });
    expect(PIDS.speedKmh).toMatchObject({ pid: 0x0d, bytes: 1, unit: 'km/h' });
    expect(PIDS.fuelLevelPct).toMatchObject({ pid: 0x2f, bytes: 1, unit: '%' });
  });
});

describe('05 engine coolant temperature: A - 40', () => {
  it.each([
    [0x00, -40],
    [0x28, 0], // 40 - 40
    [0x7b, 83], // 123 - 40
    [0x82, 90], // 130 - 40
    [0xff, 215], // 255 - 40
  ])('A=%d -> %d °C', (a, expected) => {
    expect(PIDS.coolantC.decode([a])).toBe(expected);
  });
});

describe('0C engine speed: (256A + B) / 4', () => {
  it.each([
    [0x00, 0x00, 0],
    [0x00, 0x01, 0.25], // 1 / 4
    [0x0b, 0xb8, 750], // (256*11 + 184) / 4 = 3000 / 4
    [0x1a, 0xf8, 1726], // (256*26 + 248) / 4 = 6904 / 4
    [0x1a, 0xf9, 1726.25], // 6905 / 4
    [0x5d, 0xc0, 6000], // (256*93 + 192) / 4 = 24000 / 4
    [0xff, 0xff, 16383.75], // 65535 / 4
  ])('A=%d B=%d -> %s rpm', (a, b, expected) => {
    expect(PIDS.rpm.decode([a, b])).toBe(expected);
  });

  it('weights A as the high byte', () => {
    expect(PIDS.rpm.decode([0x01, 0x00])).toBe(64); // 256 / 4
    expect(PIDS.rpm.decode([0x00, 0xff])).toBe(63.75); // 255 / 4
  });
});

describe('0D vehicle speed: A km/h', () => {
  it.each([
    [0x00, 0],
    [0x32, 50],
    [0x64, 100],
    [0xff, 255],
  ])('A=%d -> %d km/h', (a, expected) => {
    expect(PIDS.speedKmh.decode([a])).toBe(expected);
  });
});

describe('2F fuel tank level input: 100A / 255', () => {
  it.each([
    [0x00, 0],
    [0x33, 20], // 100*51 / 255 = 5100 / 255
    [0x80, 12800 / 255], // 50.196...
    [0xcc, 80], // 100*204 / 255 = 20400 / 255
    [0xff, 100],
  ])('A=%d -> %s percent', (a, expected) => {
    expect(PIDS.fuelLevelPct.decode([a])).toBeCloseTo(expected, 12);
  });

  it('reaches exactly 0 and 100 at the ends', () => {
    expect(PIDS.fuelLevelPct.decode([0])).toBe(0);
    expect(PIDS.fuelLevelPct.decode([255])).toBe(100);
  });
});

describe('every byte value stays inside the range the telemetry schema allows', () => {
  it('for all A (and B) in 0..255', () => {
    for (let a = 0; a <= 255; a++) {
      expect(PIDS.coolantC.decode([a])).toBe(a - 40);
      expect(PIDS.speedKmh.decode([a])).toBe(a);
      const fuel = PIDS.fuelLevelPct.decode([a]);
      expect(fuel).toBeGreaterThanOrEqual(0);
      expect(fuel).toBeLessThanOrEqual(100);
      for (let b = 0; b <= 255; b += 17) expect(PIDS.rpm.decode([a, b])).toBe((a * 256 + b) / 4);
    }
  });
});

describe('parseMode01Line', () => {
  it('returns the data bytes after 41 PID, with spaces off or on', () => {
    expect(parseMode01Line('410D32', 0x0d)).toEqual([0x32]);
    expect(parseMode01Line('41 0D 32 ', 0x0d)).toEqual([0x32]);
    expect(parseMode01Line('41 0C 1A F8', 0x0c)).toEqual([0x1a, 0xf8]);
    expect(parseMode01Line('  41\t0C 1AF8  ', 0x0c)).toEqual([0x1a, 0xf8]);
    expect(parseMode01Line('412FFF', 0x2f)).toEqual([0xff]);
  });

  it('accepts lowercase hex', () => {
    expect(parseMode01Line('410c1af8', 0x0c)).toEqual([0x1a, 0xf8]);
  });

  it('feeds the decoders: a full line to a value', () => {
    const data = parseMode01Line('41 0C 0B B8 ', PIDS.rpm.pid);
    expect(data).not.toBeNull();
    expect(PIDS.rpm.decode(data!)).toBe(750); // (256*0x0B + 0xB8) / 4
    expect(PIDS.coolantC.decode(parseMode01Line('41 05 82', PIDS.coolantC.pid)!)).toBe(90);
  });

  it('returns null for the answer to another PID', () => {
    expect(parseMode01Line('410D32', 0x0c)).toBeNull();
    expect(parseMode01Line('41 05 7B', 0x0d)).toBeNull();
  });

  it('returns null for another mode', () => {
    expect(parseMode01Line('420D32', 0x0d)).toBeNull(); // mode 02 answer
    expect(parseMode01Line('010D', 0x0d)).toBeNull(); // the request itself (echo)
    expect(parseMode01Line('7F0112', 0x0d)).toBeNull(); // negative response
  });

  it('returns null for non-hex text and adapter messages', () => {
    for (const line of ['NO DATA', 'SEARCHING...', '?', 'OK', 'ELM327 v1.5', '41 0D 3G', '41:0D:32', '']) {
      expect(parseMode01Line(line, 0x0d), line).toBeNull();
    }
  });

  it('returns null for an odd number of hex digits', () => {
    expect(parseMode01Line('410D3', 0x0d)).toBeNull();
    expect(parseMode01Line('41 0D 3', 0x0d)).toBeNull();
  });

  it('returns null for a line too short to hold mode and PID', () => {
    expect(parseMode01Line('41', 0x0d)).toBeNull();
  });
});
