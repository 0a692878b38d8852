import { describe, expect, it } from 'vitest';
import { decodeSentence } from './decoders.ts';
import type { NmeaObservation } from './observation.ts';
import { type NmeaSentence, parseNmeaSentence } from './sentence.ts';

/** A sentence from its body; the checksum is computed here, independently of the code. */
function s(body: string): NmeaSentence {
  const sum = [...body].reduce((x, c) => x ^ c.charCodeAt(0), 0);
  const parsed = parseNmeaSentence(`$${body}*${sum.toString(16).toUpperCase().padStart(2, '0')}`);
  if (!parsed.ok) throw new Error(`test sentence refused: ${parsed.reason}`);
  return parsed.sentence;
}

function obs(body: string): NmeaObservation {
  const d = decodeSentence(s(body));
  if (d === null || typeof d === 'string') throw new Error(`not an observation: ${d}`);
  return d;
}

const T = (h: number, m: number, sec: number, ms = 0) => ((h * 60 + m) * 60 + sec) * 1000 + ms;

describe('decodeSentence: the sentences a fix is merged from', () => {
  it('GGA: time, position, quality, satellites, HDOP, altitude (published example)', () => {
    expect(obs('GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,')).toEqual({
      kind: 'GGA',
      timeOfDayMs: T(12, 35, 19),
      lat: 48 + 7.038 / 60,
      lon: 11 + 31 / 60,
      quality: 1,
      satellitesUsed: 8,
      talker: 'GP',
      hdop: 0.9,
      altitudeM: 545.4,
    });
  });

  it('GGA quality 0 (and 7 manual, 8 simulator, empty) is no fix but still carries the time', () => {
    for (const q of ['0', '7', '8', '']) {
      const o = obs(`GPGGA,012519.563,4131.7353,N,09336.8150,W,${q},00,50.0,280.2,M,-31.6,M,0.0,0000`);
      expect(o, `quality "${q}"`).toEqual({ kind: 'GGA', timeOfDayMs: T(1, 25, 19, 563), noFix: true });
    }
  });

  it('GGA: 99.99 is "no DOP" (BT-451), DGPS quality kept for the error estimate', () => {
    const o = obs('GPGGA,204132.10,4205.733715,N,08802.040978,W,2,08,99.99,221.921,M,,,3,0138');
    expect(o.hdop).toBeUndefined();
    expect(o.quality).toBe(2);
    expect(o.lat).toBeCloseTo(42 + 5.733715 / 60, 12);
  });

  it('RMC: status V is no fix, keeps its time of day, drops its date', () => {
    expect(obs('GPRMC,095301.809,V,2712.6404,S,15303.1201,E,0.00,0.00,080407,,,A')).toEqual({
      kind: 'RMC',
      timeOfDayMs: T(9, 53, 1, 809),
      noFix: true,
    });
    // FAA mode N (not valid) with status A: no fix either (NMEA 2.3).
    expect(obs('GPRMC,095301.809,A,2712.6404,S,15303.1201,E,0.00,0.00,080407,,,N').noFix).toBe(true);
  });

  it('sentences that normally carry the time but sent it empty are marked timeless', () => {
    expect(obs('GPRMC,,V,,,,,,,,,,N')).toEqual({ kind: 'RMC', timeless: true, noFix: true });
    expect(obs('GPGGA,,,,,,0,00,,,M,,M,,')).toMatchObject({ timeless: true, noFix: true });
    expect(obs('GPGLL,,,,,,V,N')).toMatchObject({ timeless: true, noFix: true });
  });

  it('VTG: speed in knots (or km/h when knots are empty), course true; mode N/E carry nothing', () => {
    expect(obs('GPVTG,054.7,T,034.4,M,005.5,N,010.2,K,A')).toEqual({
      kind: 'VTG',
      courseDeg: 54.7,
      speedKnots: 5.5,
    });
    expect(obs('GPVTG,054.7,T,,M,,N,010.2,K').speedKnots).toBeCloseTo(10.2 / 1.852, 12);
    expect(obs('GPVTG,000.0,T,,M,000.0,N,000.0,K,N')).toEqual({ kind: 'VTG' });
    expect(obs('GPVTG,,T,,M,0.038,N,0.070,K,D')).toEqual({ kind: 'VTG', speedKnots: 0.038 });
    // NMEA 1.x layout without unit letters.
    expect(obs('GPVTG,054.7,034.4,005.5,010.2')).toEqual({ kind: 'VTG', courseDeg: 54.7, speedKnots: 5.5 });
  });

  it('GSA: mode 1 is no fix; 2/3 with PRNs and DOPs, per system (NMEA 4.1 system id)', () => {
    expect(obs('GPGSA,A,1,,,,,,,,,,,,,50.0,50.0,50.0')).toEqual({ kind: 'GSA', noFix: true });
    expect(obs('GNGSA,A,3,13,16,21,15,10,29,27,20,,,,,1.05,0.64,0.83,1')).toEqual({
      kind: 'GSA',
      gsa: { mode: 3, system: 'GN1', prns: ['13', '16', '21', '15', '10', '29', '27', '20'] },
      pdop: 1.05,
      hdop: 0.64,
      vdop: 0.83,
    });
    expect(obs('GPGSA,A,2,14,30,31,,,,,,,,,,7.6,2.2,6.8').gsa).toEqual({
      mode: 2,
      system: 'GP',
      prns: ['14', '30', '31'],
    });
  });

  it('GSV: satellites in view per talker (+ signal id)', () => {
    expect(obs('GPGSV,3,1,10,03,41,050,46,07,60,317,49,08,34,315,45,11,35,148,45')).toEqual({
      kind: 'GSV',
      gsv: { system: 'GP', inView: 10 },
    });
    expect(obs('GAGSV,1,1,03,07,12,033,30,12,45,210,41,33,62,101,44,7').gsv).toEqual({
      system: 'GA7',
      inView: 3,
    });
    expect(obs('GPGSV,3,1,00,,,,,,,,,,,,,,,,').gsv).toEqual({ system: 'GP', inView: 0 });
  });

  it('GLL and GNS: positions with status / mode letters', () => {
    expect(obs('GPGLL,4916.45,N,12311.12,W,225444,A,A')).toEqual({
      kind: 'GLL',
      timeOfDayMs: T(22, 54, 44),
      lat: 49 + 16.45 / 60,
      lon: -(123 + 11.12 / 60),
    });
    expect(obs('GPGLL,3854.5087,N,07726.4523,W,125106,V,S').noFix).toBe(true);
    const gns = obs('GNGNS,053232.438,3114.8789,N,12135.2442,E,ANNA,07,1.2,153.8,8.3,,0000');
    expect(gns).toMatchObject({ satellitesUsed: 7, talker: 'GN', hdop: 1.2, altitudeM: 153.8 });
    expect(obs('GNGNS,053229.438,,,,,NNNN,00,,,0.0,,0000').noFix).toBe(true);
  });

  it('ZDA: a four-digit-year date', () => {
    expect(obs('GPZDA,143444.28,09,06,2005,00,00')).toEqual({
      kind: 'ZDA',
      timeOfDayMs: T(14, 34, 44, 280),
      dateMs: Date.UTC(2005, 5, 9),
    });
  });

  it('reads every talker the same way (GP, GN, GL, GA, BD, GB, QZ)', () => {
    for (const talker of ['GP', 'GN', 'GL', 'GA', 'BD', 'GB', 'QZ']) {
      expect(
        obs(`${talker}GGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,`).lat,
        talker,
      ).toBeCloseTo(48 + 7.038 / 60, 12);
    }
  });

  it('returns null for types a fix does not use (proprietary, TXT, GBS, RMB, ...)', () => {
    for (const body of [
      'PGRME,15.0,M,22.5,M,27.0,M',
      'GPTXT,01,01,02,ANTSTATUS=OK',
      'GPRMB,V,,,,,,,,,,,,A,S',
    ]) {
      expect(decodeSentence(s(body)), body).toBeNull();
    }
  });

  it('says which field is malformed instead of guessing', () => {
    const cases = [
      'GPRMC,000231.099,A,4829.0005,N,00022.0015,E,0.15,212.28,2208-1,,,A', // gpsd's april6 capture
      'GPRMC,256001,A,4829.0005,N,00022.0015,E,0.15,212.28,220819,,,A', // hour 25
      'GPRMC,120000,A,4829.0005,N,00022.0015,E,0.15,212.28,310219,,,A', // 31 February
      'GPGGA,123519,48x7.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,',
      'GPGGA,123519,4807.038,N,01131.000,E,1,eight,0.9,545.4,M,46.9,M,,',
      'GPGSV,3,x,10',
      'GPGSA,A,4,,,,,,,,,,,,,1,1,1',
      'GPZDA,143444.28,31,02,2005,00,00',
    ];
    for (const body of cases) expect(typeof decodeSentence(s(body)), body).toBe('string');
  });
});
