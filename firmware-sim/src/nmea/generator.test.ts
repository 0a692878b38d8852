import { describe, expect, it } from 'vitest';
import { VehicleModel } from '../vehicle/model.ts';
import { routeByName } from '../vehicle/route.ts';
import { NmeaGenerator } from './generator.ts';

/** Split and verify one sentence by hand: `$body*HH\r\n`, XOR of the body. */
function parse(sentence: string): string[] {
  expect(sentence.endsWith('\r\n')).toBe(true);
  const m = /^\$([^*]+)\*([0-9A-F]{2})\r\n$/.exec(sentence);
  expect(m).not.toBeNull();
  const body = m![1]!;
  let xor = 0;
  for (const ch of body) xor ^= ch.charCodeAt(0);
  expect(Number.parseInt(m![2]!, 16)).toBe(xor);
  return body.split(',');
}

function degrees(field: string, hemisphere: string, degreeDigits: number): number {
  const v = Number(field.slice(0, degreeDigits)) + Number(field.slice(degreeDigits)) / 60;
  return hemisphere === 'S' || hemisphere === 'W' ? -v : v;
}

describe('NmeaGenerator', () => {
  it('writes RMC then GGA that parse back to the vehicle state', () => {
    const model = new VehicleModel({
      seed: 4,
      startTimeMs: Date.UTC(2024, 4, 1, 23, 59, 50),
      route: routeByName('buenos-aires-centro'),
    });
    const gps = new NmeaGenerator({ seed: 4, geoidSeparationM: 14.8 });
    for (let i = 0; i < 120; i++) {
      model.step();
      const state = model.state();
      const epoch = gps.epoch(state);
      expect(epoch.sentences).toHaveLength(2);
      expect(epoch.text).toBe(epoch.sentences.join(''));

      const rmc = parse(epoch.sentences[0]!);
      expect(rmc[0]).toBe('GPRMC');
      expect(rmc).toHaveLength(13);
      const t = new Date(state.simTimeMs);
      const hh = String(t.getUTCHours()).padStart(2, '0');
      const mm = String(t.getUTCMinutes()).padStart(2, '0');
      const ss = String(t.getUTCSeconds()).padStart(2, '0');
      expect(rmc[1]).toBe(`${hh}${mm}${ss}.00`);
      expect(rmc[2]).toBe('A');
      expect(rmc[3]).toMatch(/^\d{4}\.\d{4}$/);
      expect(rmc[5]).toMatch(/^\d{5}\.\d{4}$/);
      expect(rmc[4]).toBe('S');
      expect(rmc[6]).toBe('W');
      const lat = degrees(rmc[3]!, rmc[4]!, 2);
      const lon = degrees(rmc[5]!, rmc[6]!, 3);
      expect(Math.abs(lat - state.lat)).toBeLessThanOrEqual(1 / 1_200_000 + 1e-12); // half a 1e-4 minute
      expect(Math.abs(lon - state.lon)).toBeLessThanOrEqual(1 / 1_200_000 + 1e-12);
      expect(lat).toBe(epoch.lat.degrees);
      expect(lon).toBe(epoch.lon.degrees);
      expect(Number(rmc[7]) * 1.852).toBeCloseTo(state.speedKmh, 1);
      expect(Number(rmc[8])).toBeCloseTo(state.headingDeg, 2);
      const dd = String(t.getUTCDate()).padStart(2, '0');
      const mo = String(t.getUTCMonth() + 1).padStart(2, '0');
      expect(rmc[9]).toBe(`${dd}${mo}${String(t.getUTCFullYear() % 100).padStart(2, '0')}`);
      expect(rmc[12]).toBe('A');

      const gga = parse(epoch.sentences[1]!);
      expect(gga[0]).toBe('GPGGA');
      expect(gga).toHaveLength(15);
      expect(gga[1]).toBe(rmc[1]);
      expect(gga.slice(2, 6)).toEqual(rmc.slice(3, 7));
      expect(gga[6]).toBe('1');
      expect(Number(gga[7])).toBeGreaterThanOrEqual(5);
      expect(Number(gga[8])).toBeGreaterThan(0.5);
      expect(Number(gga[9])).toBeCloseTo(state.altitudeM, 1);
      expect(gga[10]).toBe('M');
      expect(gga[11]).toBe('14.8');
    }
  });

  it('rolls the date over at midnight UTC', () => {
    const model = new VehicleModel({ seed: 1, startTimeMs: Date.UTC(2024, 11, 31, 23, 59, 59) });
    const gps = new NmeaGenerator({ seed: 1, geoidSeparationM: 0 });
    const before = gps.epoch(model.state()).sentences[0]!.split(',');
    model.step();
    const after = gps.epoch(model.state()).sentences[0]!.split(',');
    expect([before[1], before[9]]).toEqual(['235959.00', '311224']);
    expect([after[1], after[9]]).toEqual(['000000.00', '010125']);
  });
});
