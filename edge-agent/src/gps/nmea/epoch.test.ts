import { describe, expect, it } from 'vitest';
import { decodeSentence } from './decoders.ts';
import { type EpochOutcome, GPS_ROLLOVER_MS, NmeaEpochAssembler, type NmeaEpochOptions } from './epoch.ts';
import type { NmeaObservation } from './observation.ts';
import { parseNmeaSentence } from './sentence.ts';

/** A sentence body -> its observation (checksum computed here). */
function decode(body: string): NmeaObservation {
  const sum = [...body].reduce((x, c) => x ^ c.charCodeAt(0), 0);
  const p = parseNmeaSentence(`$${body}*${sum.toString(16).toUpperCase().padStart(2, '0')}`);
  if (!p.ok) throw new Error(p.reason);
  const o = decodeSentence(p.sentence);
  if (o === null || typeof o === 'string') throw new Error(`${body}: ${o}`);
  return o;
}

function run(bodies: string[], options?: NmeaEpochOptions): EpochOutcome[] {
  const a = new NmeaEpochAssembler(options);
  const out: EpochOutcome[] = [];
  for (const body of bodies) out.push(...a.add(decode(body)));
  const last = a.close();
  if (last) out.push(last);
  return out;
}

const fixes = (out: EpochOutcome[]) => out.flatMap((o) => (o.kind === 'fix' ? [o.fix] : []));

/** One u-blox-like epoch: RMC, VTG, GGA, GSA x2 (GPS + GLONASS), GSV. */
const UBLOX_EPOCH = [
  'GNRMC,003956.00,A,4552.65403,S,17030.00668,E,0.025,,120419,,,A,V',
  'GNVTG,,T,,M,0.030,N,0.056,K,A',
  'GNGGA,003956.00,4552.65403,S,17030.00669,E,1,12,0.64,14.2,M,1.8,M,,',
  'GNGSA,A,3,13,16,21,15,10,29,27,20,,,,,1.05,0.64,0.83,1',
  'GNGSA,A,3,82,66,81,,,,,,,,,,1.05,0.64,0.83,2',
  'GPGSV,3,1,11,05,06,110,19,10,35,052,38,13,64,246,40,15,50,130,40,1',
  'GLGSV,2,1,07,65,10,330,20,66,45,012,33,81,22,140,28,82,55,200,35,1',
];

describe('NmeaEpochAssembler', () => {
  it('merges every sentence of one UTC time into one fix; later sentences win', () => {
    const [fix, ...rest] = fixes(run(UBLOX_EPOCH));
    expect(rest).toEqual([]);
    expect(fix).toEqual({
      ts: Date.UTC(2019, 3, 12, 0, 39, 56),
      lat: -(45 + 52.65403 / 60),
      lon: 170 + 30.00669 / 60, // GGA came after RMC: its position wins, as in gpsd
      speedKmh: 0.03 * 1.852, // VTG after RMC
      courseDeg: null,
      altitudeM: 14.2,
      mode: 3,
      satellitesUsed: 12, // max(GGA 12, GSA 8 + 3 = 11)
      satellitesVisible: 18, // GP 11 + GL 7
      hdop: 0.64,
      pdop: 1.05,
      vdop: 0.83,
      ephM: 0.64 * 19,
      source: 'nmea',
    });
  });

  it('closes an epoch when the time changes, so the previous one is out without waiting', () => {
    const a = new NmeaEpochAssembler();
    const rmc = (t: string) => decode(`GPRMC,${t},A,4807.038,N,01131.000,E,022.4,084.4,230324,003.1,W`);
    expect(a.add(rmc('123519'))).toEqual([]);
    const [closed] = a.add(rmc('123520'));
    expect(closed?.kind === 'fix' && closed.fix.ts).toBe(Date.UTC(2024, 2, 23, 12, 35, 19));
    expect(a.pending).toBe(true);
    expect(a.close()?.kind).toBe('fix');
    expect(a.pending).toBe(false);
  });

  it('one sentence declaring no fix makes the whole epoch a no-fix (RMC V, GGA 0, GSA mode 1)', () => {
    const rmcA = 'GPRMC,081836.00,A,4807.0380,N,01131.0000,E,022.4,084.4,010524,,,A';
    const gga = (q: number) => `GPGGA,081836.00,4807.0380,N,01131.0000,E,${q},08,0.9,545.4,M,46.9,M,,`;
    expect(run([rmcA, gga(1)]).map((o) => o.kind)).toEqual(['fix']);
    expect(run([rmcA, gga(0)]).map((o) => o.kind)).toEqual(['no-fix']);
    expect(run([rmcA, 'GPGSA,A,1,,,,,,,,,,,,,99.0,99.0,99.0']).map((o) => o.kind)).toEqual(['no-fix']);
    expect(
      run(['GPRMC,081836.00,V,4807.0380,N,01131.0000,E,,,010524,,,N', gga(1)]).map((o) => o.kind),
    ).toEqual(['no-fix']);
    const [noFix] = run([
      rmcA,
      'GPGSA,A,1,,,,,,,,,,,,,99.0,99.0,99.0',
      'GPGSV,1,1,02,05,45,347,44,12,39,002,43',
    ]);
    expect(noFix).toEqual({
      kind: 'no-fix',
      timeOfDayMs: ((8 * 60 + 18) * 60 + 36) * 1000,
      report: {
        ts: Date.UTC(2024, 4, 1, 8, 18, 36),
        mode: 1,
        satellitesUsed: null,
        satellitesVisible: 2,
        source: 'nmea',
      },
    });
  });

  it('dates GGA-only epochs from the last RMC/ZDA date and rolls the day over at midnight', () => {
    const out = run([
      'GPRMC,235958.00,A,4807.0380,N,01131.0000,E,0.0,0.0,311224,,,A',
      'GPGGA,235959.00,4807.0380,N,01131.0000,E,1,08,0.9,545.4,M,46.9,M,,',
      'GPGGA,000000.00,4807.0380,N,01131.0000,E,1,08,0.9,545.4,M,46.9,M,,',
      'GPGGA,000001.00,4807.0380,N,01131.0000,E,1,08,0.9,545.4,M,46.9,M,,',
    ]);
    expect(fixes(out).map((f) => new Date(f.ts).toISOString())).toEqual([
      '2024-12-31T23:59:58.000Z',
      '2024-12-31T23:59:59.000Z',
      '2025-01-01T00:00:00.000Z',
      '2025-01-01T00:00:01.000Z',
    ]);
  });

  it('cannot date a position before any RMC/ZDA (reported as undated, never as a fix)', () => {
    const out = run([
      'GPGGA,175736,5125.8714,N,00524.2350,E,1,04,3.40,60.28,M,46.999,M,,',
      'GPGGA,175737,5125.8706,N,00524.2332,E,1,04,3.40,61.40,M,46.999,M,,',
      'GPRMC,175737,A,5125.8706,N,00524.2332,E,2.5761,257.043,200610,,',
    ]);
    expect(out.map((o) => o.kind)).toEqual(['undated', 'fix']);
  });

  it('moves dates before 2017 forward by 1024 weeks (GPS week rollover), like gpsd', () => {
    // mtk-3329.log: an MTK receiver of 2011; gpsd reports 2030-10-07.
    const rmc = 'GPRMC,102127.000,A,5129.0623,N,00632.2911,E,0.33,30.68,210211,,,A';
    expect(new Date(fixes(run([rmc]))[0]!.ts).toISOString()).toBe('2030-10-07T10:21:27.000Z');
    expect(fixes(run([rmc], { rolloverFloorMs: null }))[0]!.ts).toBe(Date.UTC(2011, 1, 21, 10, 21, 27));
    expect(GPS_ROLLOVER_MS).toBe(619_315_200_000);
    // 1999-08-22 (two-digit year 99) -> 2019-04-07, as gpsd reports april6_2019.log.
    const y99 = 'GPRMC,000231.42,A,4829.0005,N,00022.0016,E,0.16,212.28,220899,,,A';
    expect(new Date(fixes(run([y99]))[0]!.ts).toISOString()).toBe('2019-04-07T00:02:31.420Z');
  });

  it('keeps split-cycle receivers apart: RMC(t) then GGA(t+1) ... RMC(t+1) (MTK-3329)', () => {
    const out = run([
      'GPRMC,102127.000,A,5129.0623,N,00632.2911,E,0.33,30.68,210211,,,A',
      'GPGGA,102128.000,5129.0623,N,00632.2910,E,1,4,1.31,29.7,M,47.4,M,,',
      'GPGSA,A,2,20,17,23,14,,,,,,,,,1.62,1.31,0.95',
      'GPRMC,102128.000,A,5129.0623,N,00632.2910,E,0.23,30.68,210211,,,A',
    ]);
    const [first, second] = fixes(out);
    expect(first).toMatchObject({ mode: 2, altitudeM: null, hdop: null });
    expect(second).toMatchObject({ mode: 2, altitudeM: 29.7, hdop: 1.31, satellitesUsed: 4 });
    expect(second!.speedKmh).toBeCloseTo(0.23 * 1.852, 12);
  });

  it('treats 10 ms apart as two epochs (SL869 sends 43.990 then 44.000)', () => {
    const out = run([
      'GPRMC,102143.990,A,3340.7753,S,15117.4475,E,6.7,155.8,251112,0.0,W',
      'GPRMC,102144.000,A,3340.7753,S,15117.4473,E,6.6,155.8,251112,0.0,W',
    ]);
    expect(fixes(out).map((f) => f.ts % 1000)).toEqual([990, 0]);
  });

  it('a sentence sent without time stands alone: it ends the epoch and taints nothing after it', () => {
    const out = run([
      'GPRMC,000231.42,A,4829.0005,N,00022.0016,E,0.16,212.28,220819,,,A',
      'GPGSA,A,1,,,,,,,,,,,,,,,', // belongs to the cycle the next line ends
      'GPRMC,,V,,,,,,,,,,N',
      'GPGGA,,,,,,0,00,,,M,,M,,',
      'GPRMC,000232.42,A,4829.0005,N,00022.0016,E,0.16,212.28,220819,,,A',
    ]);
    expect(out.map((o) => `${o.kind}@${o.timeOfDayMs}`)).toEqual([
      'no-fix@151420', // GSA mode 1 arrived inside the 00:02:31.42 epoch
      'no-fix@null',
      'no-fix@null',
      'fix@152420',
    ]);
  });

  it('adds up per-constellation GGA satellite counts (SiRFstarV sends GPGGA and GLGGA)', () => {
    const [fix] = fixes(
      run([
        'GPGGA,020935.000,4404.1351,N,12118.8556,W,1,08,0.9,1123.9,M,-19.6,M,,0000',
        'GLGGA,020935.000,4404.1351,N,12118.8556,W,1,02,0.9,1123.9,M,-19.6,M,,0000',
        'GNRMC,020935.000,A,4404.1351,N,12118.8556,W,0.04,359.11,050219,,,A',
      ]),
    );
    expect(fix!.satellitesUsed).toBe(10);
  });

  it('derives the 95 % error from HDOP: 19 m per unit, 4.75 m with DGPS/RTK', () => {
    const gga = (q: number) =>
      `GPGGA,131519.00,4153.85990,N,08738.63638,W,${q},12,0.95,218.1,M,-33.8,M,,0000`;
    const rmc = 'GPRMC,131519.00,A,4153.85990,N,08738.63638,W,0.0,,030216,,,D';
    expect(fixes(run([rmc, gga(2)]))[0]!.ephM).toBeCloseTo(0.95 * 4.75, 12);
    expect(fixes(run([rmc, gga(1)]))[0]!.ephM).toBeCloseTo(0.95 * 19, 12);
    expect(fixes(run([rmc]))[0]!.ephM).toBeNull();
  });

  it('ignores stragglers for an epoch already closed by the idle timer', () => {
    const a = new NmeaEpochAssembler();
    a.add(decode('GPRMC,081836.00,A,4807.0380,N,01131.0000,E,022.4,084.4,010524,,,A'));
    expect(a.close()?.kind).toBe('fix');
    expect(a.add(decode('GPGGA,081836.00,4807.0380,N,01131.0000,E,1,08,0.9,545.4,M,46.9,M,,'))).toEqual([]);
    expect(a.lateObservations).toBe(1);
    expect(a.close()).toBeNull();
  });
});
