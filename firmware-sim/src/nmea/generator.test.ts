import { describe, expect, it } from 'vitest';
import { isSimError, SimErrorCode } from '../errors.ts';
import { fixedState } from '../testing/fixtures.ts';
import { VehicleModel } from '../vehicle/model.ts';
import { routeByName } from '../vehicle/route.ts';
import { NMEA_SENTENCE_TYPES, NmeaGenerator, parseSentenceList } from './generator.ts';

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

describe('NmeaGenerator: VTG, GSA, GSV, talkers, fix loss', () => {
  const all = () => new NmeaGenerator({ seed: 9, geoidSeparationM: 47, sentences: [...NMEA_SENTENCE_TYPES] });

  it('sends RMC, VTG, GGA, GSA, GSV in that order, every one with a valid checksum', () => {
    const model = new VehicleModel({
      seed: 9,
      startTimeMs: Date.UTC(2024, 4, 1, 8),
      route: routeByName('munich-altstadtring'),
    });
    const gps = all();
    for (let i = 0; i < 300; i++) {
      model.step();
      const state = model.state();
      const epoch = gps.epoch(state);
      const fields = epoch.sentences.map(parse);
      const types = fields.map((f) => f[0]!.slice(2));
      expect(types.slice(0, 4)).toEqual(['RMC', 'VTG', 'GGA', 'GSA']);
      expect(types.slice(4).every((t) => t === 'GSV')).toBe(true);

      // VTG: course true, magnetic empty, knots, km/h, mode A.
      const vtg = fields[1]!;
      expect(vtg).toHaveLength(10);
      expect([vtg[2], vtg[4], vtg[6], vtg[8], vtg[9]]).toEqual(['T', 'M', 'N', 'K', 'A']);
      expect(Number(vtg[1])).toBeCloseTo(state.headingDeg, 2);
      expect(Number(vtg[7])).toBeCloseTo(state.speedKmh, 2);
      expect(Number(vtg[5]) * 1.852).toBeCloseTo(state.speedKmh, 1);

      // GSA: 3D fix, the ids GGA counted, PDOP^2 = HDOP^2 + VDOP^2.
      const gsa = fields[3]!;
      expect(gsa).toHaveLength(18);
      expect([gsa[1], gsa[2]]).toEqual(['A', '3']);
      const used = gsa.slice(3, 15).filter(Boolean).map(Number);
      const gga = fields[2]!;
      expect(used).toHaveLength(Number(gga[7]));
      expect(Number(gsa[16])).toBeCloseTo(Number(gga[8]), 2);
      const [pdop, hdop, vdop] = gsa.slice(15, 18).map(Number);
      expect(pdop! ** 2).toBeCloseTo(hdop! ** 2 + vdop! ** 2, 1);

      // GSV over several sentences: totals, numbering, 4 satellites a sentence, used ones tracked.
      const gsv = fields.slice(4);
      const inView = Number(gsv[0]![3]);
      expect(gsv).toHaveLength(Math.ceil(inView / 4));
      const sats = gsv.flatMap((f, k) => {
        expect([Number(f[1]), Number(f[2]), Number(f[3])]).toEqual([gsv.length, k + 1, inView]);
        const quads = f.slice(4);
        expect(quads.length % 4).toBe(0);
        return Array.from({ length: quads.length / 4 }, (_, j) => quads.slice(4 * j, 4 * j + 4));
      });
      expect(sats).toHaveLength(inView);
      for (const [id, el, az, snr] of sats) {
        expect(Number(id)).toBeGreaterThanOrEqual(1);
        expect(Number(id)).toBeLessThanOrEqual(32);
        expect(Number(el)).toBeLessThanOrEqual(90);
        expect(Number(az)).toBeLessThan(360);
        expect(az).toMatch(/^\d{3}$/);
        expect(Number(snr)).toBeGreaterThan(0);
      }
      for (const id of used) expect(sats.some(([s]) => Number(s) === id)).toBe(true);
    }
  });

  it('as a GN receiver: GN talker for the fix, one GSA per constellation, GP and GL GSV', () => {
    const gps = new NmeaGenerator({
      seed: 3,
      geoidSeparationM: 0,
      talker: 'GN',
      sentences: [...NMEA_SENTENCE_TYPES],
    });
    const epoch = gps.epoch(fixedState());
    const fields = epoch.sentences.map(parse);
    const heads = fields.map((f) => f[0]);
    expect(heads.slice(0, 5)).toEqual(['GNRMC', 'GNVTG', 'GNGGA', 'GNGSA', 'GNGSA']);
    expect(heads.filter((h) => h === 'GPGSV').length).toBeGreaterThan(1);
    expect(heads.filter((h) => h === 'GLGSV').length).toBeGreaterThanOrEqual(2);
    const glonass = fields
      .filter((f) => f[0] === 'GLGSV')
      .flatMap((f) => f.slice(4).filter((_, i) => i % 4 === 0));
    for (const id of glonass) expect(Number(id)).toBeGreaterThanOrEqual(65);
    const usedGps = fields[3]!.slice(3, 15).filter(Boolean).map(Number);
    const usedGlonass = fields[4]!.slice(3, 15).filter(Boolean).map(Number);
    for (const id of usedGps) expect(id).toBeLessThanOrEqual(32);
    for (const id of usedGlonass) expect(id).toBeGreaterThanOrEqual(65);
    expect(usedGps.length + usedGlonass.length).toBe(Number(fields[2]![7]));
  });

  it('loses and regains the fix: RMC V, GGA quality 0, GSA mode 1, empty positions, time still running', () => {
    const gps = all();
    const state = fixedState();
    gps.setFix(false);
    const lost = gps.epoch(state);
    expect(lost.fix).toBe(false);
    expect(lost.satellitesUsed).toBe(0);
    const [rmc, vtg, gga, gsa, ...gsv] = lost.sentences.map(parse);
    expect(rmc).toEqual(['GPRMC', '080000.00', 'V', '', '', '', '', '', '', '010524', '', '', 'N']);
    expect(vtg).toEqual(['GPVTG', '', 'T', '', 'M', '', 'N', '', 'K', 'N']);
    expect(gga!.slice(0, 9)).toEqual(['GPGGA', '080000.00', '', '', '', '', '0', '00', '99.99']);
    expect([gsa![2], ...gsa!.slice(3, 15)]).toEqual(['1', ...Array(12).fill('')]);
    // Satellites still in view, none tracked.
    for (const f of gsv) for (let i = 7; i < f.length; i += 4) expect(f[i]).toBe('');
    gps.setFix(true);
    const back = gps.epoch(state);
    expect(back.fix).toBe(true);
    expect(parse(back.sentences[0]!)[2]).toBe('A');
  });

  it('keeps the default stream unchanged: RMC + GGA only, the same bytes whether or not a fix was lost', () => {
    const a = new NmeaGenerator({ seed: 5, geoidSeparationM: 0 });
    const b = new NmeaGenerator({ seed: 5, geoidSeparationM: 0 });
    const state = fixedState();
    b.setFix(false);
    b.epoch(state);
    b.setFix(true);
    a.epoch(state);
    const next = { ...state, simTimeMs: state.simTimeMs + 1000 };
    expect(b.epoch(next).text).toBe(a.epoch(next).text);
    expect(a.epoch(next).sentences.map((s) => s.slice(3, 6))).toEqual(['RMC', 'GGA']);
  });

  it('parses sentence lists, and insists on RMC', () => {
    expect(parseSentenceList('rmc,gga,gsv')).toEqual(['RMC', 'GGA', 'GSV']);
    expect(parseSentenceList('all')).toEqual([...NMEA_SENTENCE_TYPES]);
    for (const bad of ['GGA', 'RMC,XYZ']) {
      try {
        parseSentenceList(bad);
        expect.unreachable(bad);
      } catch (err) {
        expect(isSimError(err, SimErrorCode.InvalidOption)).toBe(true);
      }
    }
  });
});
