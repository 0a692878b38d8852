import { describe, expect, it } from 'vitest';
import { fixFromRmc, KNOTS_TO_KMH } from './rmc.ts';
import { type NmeaSentence, parseNmeaSentence } from './sentence.ts';

/** A checksummed sentence from its body, checksum computed here (XOR between $ and *). */
function sentence(body: string): NmeaSentence {
  const sum = [...body].reduce((s, c) => s ^ c.charCodeAt(0), 0);
  const parsed = parseNmeaSentence(`$${body}*${sum.toString(16).toUpperCase().padStart(2, '0')}`);
  if (!parsed.ok) throw new Error(`test sentence refused: ${parsed.reason}`);
  return parsed.sentence;
}

/** RMC fields: time, status, lat, N/S, lon, E/W, speed kn, course, ddmmyy, magvar, E/W[, mode]. */
function rmc(
  fields: Partial<
    Record<'time' | 'status' | 'lat' | 'ns' | 'lon' | 'ew' | 'speed' | 'course' | 'date', string>
  > = {},
  talker = 'GP',
  tail = ',,,A',
) {
  const f = {
    time: '081836.75',
    status: 'A',
    lat: '4807.0380',
    ns: 'N',
    lon: '01131.0000',
    ew: 'E',
    speed: '022.4',
    course: '084.4',
    date: '010524',
    ...fields,
  };
  return sentence(
    `${talker}RMC,${f.time},${f.status},${f.lat},${f.ns},${f.lon},${f.ew},${f.speed},${f.course},${f.date}${tail}`,
  );
}

describe('fixFromRmc', () => {
  it('decodes time, date, position, speed and course', () => {
    const fix = fixFromRmc(rmc());
    expect(fix).not.toBeNull();
    expect(fix!.ts).toBe(Date.UTC(2024, 4, 1, 8, 18, 36, 750)); // 01-05-24 08:18:36.75
    expect(fix!.lat).toBeCloseTo(48 + 7.038 / 60, 12);
    expect(fix!.lon).toBeCloseTo(11 + 31 / 60, 12);
    expect(fix!.speedKmh).toBeCloseTo(22.4 * 1.852, 12); // knots -> km/h (1 kn = 1.852 km/h exactly)
    expect(fix!.courseDeg).toBe(84.4);
    expect(KNOTS_TO_KMH).toBe(1.852);
  });

  it('applies the hemispheres: S and W are negative', () => {
    const sw = fixFromRmc(rmc({ lat: '4552.6552', ns: 'S', lon: '17030.0075', ew: 'W' }));
    expect(sw!.lat).toBeCloseTo(-(45 + 52.6552 / 60), 12);
    expect(sw!.lon).toBeCloseTo(-(170 + 30.0075 / 60), 12);
    const ne = fixFromRmc(rmc({ lat: '4552.6552', ns: 'N', lon: '17030.0075', ew: 'E' }));
    expect(ne!.lat).toBeCloseTo(45 + 52.6552 / 60, 12);
    expect(ne!.lon).toBeCloseTo(170 + 30.0075 / 60, 12);
  });

  it('has no fix with status V (receiver warning)', () => {
    expect(fixFromRmc(rmc({ status: 'V' }))).toBeNull();
    expect(fixFromRmc(sentence('GPRMC,,V,,,,,,,,,,N'))).toBeNull();
  });

  it('accepts the multi-constellation talker GN (and others)', () => {
    for (const talker of ['GN', 'GL', 'GA', 'BD']) {
      const fix = fixFromRmc(rmc({}, talker));
      expect(fix?.ts, talker).toBe(Date.UTC(2024, 4, 1, 8, 18, 36, 750));
    }
  });

  it('ignores sentences other than RMC', () => {
    expect(fixFromRmc(sentence('GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,'))).toBeNull();
  });

  it.each([
    ['000000', '010100', Date.UTC(2000, 0, 1, 0, 0, 0, 0)],
    // Two-digit years pivot like gpsd's: 80-99 are 19yy, 00-79 are 20yy.
    ['235959', '311299', Date.UTC(1999, 11, 31, 23, 59, 59, 0)],
    ['235959', '311279', Date.UTC(2079, 11, 31, 23, 59, 59, 0)],
    ['000000', '010180', Date.UTC(1980, 0, 1, 0, 0, 0, 0)],
    ['120000.5', '290224', Date.UTC(2024, 1, 29, 12, 0, 0, 500)], // leap day
    ['120000.05', '290224', Date.UTC(2024, 1, 29, 12, 0, 0, 50)],
    ['020935.000', '050219', Date.UTC(2019, 1, 5, 2, 9, 35, 0)],
    ['101112.123', '151023', Date.UTC(2023, 9, 15, 10, 11, 12, 123)],
  ])('time %s date %s -> epoch ms %d', (time, date, expected) => {
    expect(fixFromRmc(rmc({ time, date }))!.ts).toBe(expected);
  });

  it('leaves speed and course null when the fields are empty', () => {
    const fix = fixFromRmc(rmc({ speed: '', course: '' }));
    expect(fix).toMatchObject({ speedKmh: null, courseDeg: null });
    expect(fixFromRmc(rmc({ speed: '0.00' }))!.speedKmh).toBe(0);
  });

  it('reads NMEA 2.3 and 4.1 layouts (mode indicator, navigational status) the same way', () => {
    const v21 = fixFromRmc(rmc({}, 'GP', ',003.1,W'));
    const v23 = fixFromRmc(rmc({}, 'GP', ',003.1,W,A'));
    const v41 = fixFromRmc(rmc({}, 'GN', ',,,A,V'));
    expect(v21).not.toBeNull();
    expect(v23).toEqual(v21);
    expect(v41).toEqual(v21);
  });

  it('has no fix when time, date or position are missing or malformed', () => {
    expect(fixFromRmc(rmc({ lat: '' }))).toBeNull();
    expect(fixFromRmc(rmc({ lon: '' }))).toBeNull();
    expect(fixFromRmc(rmc({ ns: '' }))).toBeNull();
    expect(fixFromRmc(rmc({ ew: 'Q' }))).toBeNull();
    expect(fixFromRmc(rmc({ date: '' }))).toBeNull();
    expect(fixFromRmc(rmc({ date: '1524' }))).toBeNull();
    expect(fixFromRmc(rmc({ time: '' }))).toBeNull();
    expect(fixFromRmc(rmc({ time: '8183' }))).toBeNull();
    expect(fixFromRmc(rmc({ time: '08:18:36' }))).toBeNull();
  });
});
