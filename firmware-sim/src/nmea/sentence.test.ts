import { describe, expect, it } from 'vitest';
import {
  formatLatitude,
  formatLongitude,
  formatUtcDate,
  formatUtcTime,
  nmeaChecksum,
  nmeaSentence,
  parseNmeaCoordinate,
} from './sentence.ts';

describe('NMEA sentence', () => {
  it('computes the XOR checksum of the textbook GGA', () => {
    const body = 'GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,';
    expect(nmeaChecksum(body)).toBe('47');
    expect(nmeaSentence(body)).toBe(`$${body}*47\r\n`);
  });

  it('pads checksums to two uppercase hex digits', () => {
    expect(nmeaChecksum('A')).toBe('41');
    expect(nmeaChecksum('AA')).toBe('00');
    expect(nmeaChecksum('GPXXX,\u000b')).toMatch(/^[0-9A-F]{2}$/);
  });

  it('formats ddmm.mmmm / dddmm.mmmm with hemispheres', () => {
    expect(formatLatitude(48.1173)).toMatchObject({ field: '4807.0380', hemisphere: 'N' });
    expect(formatLongitude(11.516667)).toMatchObject({ field: '01131.0000', hemisphere: 'E' });
    expect(formatLatitude(-37.8176)).toMatchObject({ field: '3749.0560', hemisphere: 'S' });
    expect(formatLongitude(-73.98425)).toMatchObject({ field: '07359.0550', hemisphere: 'W' });
    expect(formatLongitude(-0.5)).toMatchObject({ field: '00030.0000', hemisphere: 'W' });
    expect(formatLatitude(0)).toMatchObject({ field: '0000.0000', hemisphere: 'N' });
  });

  it('carries rounded 60 minutes into the degrees', () => {
    // 12.9999999 deg = 12 deg 59.999994' -> rounds to 13 deg 00.0000', never "1260.0000".
    expect(formatLatitude(12.9999999).field).toBe('1300.0000');
    expect(formatLongitude(-179.99999999).field).toBe('18000.0000');
  });

  it('parses its own fields back to the degrees it reports', () => {
    for (const v of [48.1173, -37.8176, 40.760261, 0.00001, -89.9999]) {
      const c = formatLatitude(v);
      expect(c.degrees).toBe(parseNmeaCoordinate(c.field, c.hemisphere));
      expect(Math.abs(c.degrees - v)).toBeLessThan(1 / 600_000);
    }
    for (const v of [11.5659, -73.98425, 144.967, -179.5]) {
      const c = formatLongitude(v);
      expect(c.degrees).toBe(parseNmeaCoordinate(c.field, c.hemisphere));
      expect(Math.abs(c.degrees - v)).toBeLessThan(1 / 600_000);
    }
  });

  it('formats UTC time and two-digit-year dates', () => {
    const t = Date.UTC(2024, 4, 1, 8, 5, 9, 250);
    expect(formatUtcTime(t)).toBe('080509.25');
    expect(formatUtcDate(t)).toBe('010524');
    expect(formatUtcDate(Date.UTC(2009, 11, 31))).toBe('311209');
  });
});
