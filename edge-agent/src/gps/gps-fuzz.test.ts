/**
 * Fuzzing the two parsers that face the outside world: random bytes, truncated and garbled
 * sentences into the NMEA reader, garbled JSON into the gpsd client. Seeded (mulberry32), so a
 * failure replays; fast-check is not a dependency of this workspace.
 *
 * Properties: nothing throws; the line buffer never exceeds its bound; every line is accounted
 * for exactly once (a good sentence, or a bad one under a reason); whatever comes out as a fix
 * is a sane fix.
 */

import { createLogger } from '@fleet/shared/log';
import { mulberry32 } from '@fleet/shared/testing';
import { describe, expect, it } from 'vitest';
import { GpsdClient } from './gpsd-client.ts';
import type { GpsFix } from './nmea/rmc.ts';
import { NmeaReader } from './nmea-reader.ts';

const log = createLogger('gps-fuzz').child({}, { level: 'silent' });

function withChecksum(body: string): string {
  const sum = [...body].reduce((x, c) => x ^ c.charCodeAt(0), 0);
  return `$${body}*${sum.toString(16).toUpperCase().padStart(2, '0')}`;
}

const GOOD = [
  'GPRMC,081836.00,A,4807.0380,N,01131.0000,E,022.4,084.4,010524,,,A',
  'GNGGA,081836.00,4807.0380,N,01131.0000,E,1,08,0.9,545.4,M,46.9,M,,',
  'GPGSA,A,3,04,05,,09,12,,,24,,,,,2.5,1.3,2.1',
  'GPGSV,2,1,08,01,40,083,46,02,17,308,41,12,07,344,39,14,22,228,45',
  'GPVTG,054.7,T,034.4,M,005.5,N,010.2,K,A',
  'GLGLL,4916.45,N,12311.12,W,225444,A,A',
  'GPZDA,081836.00,01,05,2024,00,00',
  'GBGNS,081836.00,4807.0380,N,01131.0000,E,AA,10,0.9,545.4,46.9,,',
  'GPRMC,,V,,,,,,,,,,N',
].map(withChecksum);

/** Printable characters except the framing ones ($, CR, LF), so lines stay lines. */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789,.*-+ NSEW#!@';

function garble(line: string, rand: () => number): string {
  const pick = () => ALPHABET[Math.floor(rand() * ALPHABET.length)]!;
  // After the '$': a character before it would be a junk run of its own (also counted, and the
  // sentence behind it recovered, but then one line is two frames).
  const at = 1 + Math.floor(rand() * (line.length - 1));
  switch (Math.floor(rand() * 7)) {
    case 0: // truncated (a receiver reset mid-sentence)
      return line.slice(0, Math.max(1, at));
    case 1: // one character flipped (a bit error)
      return line.slice(0, at) + pick() + line.slice(at + 1);
    case 2: // one character lost
      return line.slice(0, at) + line.slice(at + 1);
    case 3: // one character inserted
      return line.slice(0, at) + pick() + line.slice(at);
    case 4: // a field emptied, checksum recomputed: well-formed, content maybe bad
      return withChecksum(
        line
          .slice(1, line.lastIndexOf('*'))
          .split(',')
          .map((f, i) => (i === 1 + Math.floor(rand() * 8) ? '' : f))
          .join(','),
      );
    case 5: // random printable noise (a boot banner, another protocol's text)
      return Array.from({ length: 1 + Math.floor(rand() * 100) }, pick).join('');
    default: // untouched
      return line;
  }
}

function expectSaneFix(fix: GpsFix) {
  expect(Number.isFinite(fix.ts)).toBe(true);
  expect(Math.abs(fix.lat)).toBeLessThanOrEqual(90);
  expect(Math.abs(fix.lon)).toBeLessThanOrEqual(180);
  for (const v of [fix.speedKmh, fix.courseDeg, fix.altitudeM, fix.hdop, fix.ephM]) {
    if (v !== null) expect(Number.isFinite(v)).toBe(true);
  }
  expect([2, 3]).toContain(fix.mode);
}

function nmeaReader() {
  const fixes: GpsFix[] = [];
  const reader = new NmeaReader(
    async () => {
      throw new Error('push only');
    },
    (f) => fixes.push(f),
    log,
    { epochIdleMs: 0 },
  );
  return { reader, fixes };
}

describe('NMEA reader fuzzing', () => {
  it('accounts for every one of 20,000 garbled lines exactly once, by reason', () => {
    for (const seed of [1, 2, 3, 4]) {
      const rand = mulberry32(seed);
      const { reader, fixes } = nmeaReader();
      let lines = 0;
      const chunks: string[] = [];
      for (let i = 0; i < 5000; i++) {
        const line = garble(GOOD[Math.floor(rand() * GOOD.length)]!, rand);
        if (line.trim() === '') continue;
        lines++;
        chunks.push(`${line}${rand() < 0.5 ? '\r\n' : '\n'}`);
      }
      // Delivered in random chunk sizes, as a serial port does.
      const bytes = Buffer.from(chunks.join(''), 'latin1');
      for (let at = 0; at < bytes.length; ) {
        const n = 1 + Math.floor(rand() * 300);
        reader.push(bytes.subarray(at, at + n));
        at += n;
        expect(reader.pendingLength).toBeLessThanOrEqual(164);
      }
      reader.flush();
      const s = reader.stats;
      expect(s.sentences + s.badSentences, `seed ${seed}`).toBe(lines);
      expect(Object.values(s.bad).reduce((a, b) => a + b, 0)).toBe(s.badSentences);
      expect(s.bad['checksum-mismatch']).toBeGreaterThan(100);
      expect(s.bad.junk).toBeGreaterThan(100);
      expect(s.bad['no-checksum']).toBeGreaterThan(100);
      expect(s.sentences).toBeGreaterThan(1000);
      expect(fixes.length).toBeGreaterThan(0);
      for (const f of fixes) expectSaneFix(f);
    }
  });

  it('recovers the next sentence after a truncated one on the same line, counting the stub', () => {
    const rand = mulberry32(7);
    const { reader, fixes } = nmeaReader();
    let stubs = 0;
    for (let i = 0; i < 2000; i++) {
      const good = GOOD[0]!.replace(
        '081836.00',
        `08${String(10 + (i % 50)).padStart(2, '0')}${String(i % 60).padStart(2, '0')}.00`,
      );
      const sentence = withChecksum(good.slice(1, good.lastIndexOf('*')));
      const cut = 1 + Math.floor(rand() * (sentence.length - 2));
      reader.push(Buffer.from(`${sentence.slice(0, cut)}${sentence}\r\n`));
      stubs++;
    }
    reader.flush();
    expect(reader.stats.bad.truncated).toBe(stubs);
    expect(reader.stats.sentences).toBe(2000);
    expect(fixes.length).toBeGreaterThan(0);
  });

  it('survives 2 MB of random bytes with a bounded buffer, and still decodes afterwards', () => {
    const rand = mulberry32(99);
    const { reader, fixes } = nmeaReader();
    for (let i = 0; i < 2048; i++) {
      const chunk = Buffer.alloc(1 + Math.floor(rand() * 2047));
      for (let j = 0; j < chunk.length; j++) chunk[j] = Math.floor(rand() * 256);
      reader.push(chunk);
      expect(reader.pendingLength).toBeLessThanOrEqual(164);
    }
    expect(reader.stats.badSentences).toBeGreaterThan(1000);
    for (const f of fixes) expectSaneFix(f);
    const before = reader.stats.fixes;
    reader.push(Buffer.from(`\r\n${GOOD[0]}\r\n`));
    reader.flush();
    expect(reader.stats.fixes).toBe(before + 1);
  });
});

const TPV =
  '{"class":"TPV","device":"/dev/pts/1","mode":3,"time":"2024-05-01T08:00:05.000Z","lat":48.1173,' +
  '"lon":11.516666667,"altMSL":545.4,"track":84.4,"speed":11.524,"eph":17.1}';
const SKY =
  '{"class":"SKY","hdop":0.64,"pdop":1.05,"satellites":[{"PRN":5,"used":false},{"PRN":10,"used":true}]}';
const OTHERS = [
  '{"class":"VERSION","release":"3.22","rev":"3.22","proto_major":3,"proto_minor":14}',
  '{"class":"DEVICES","devices":[{"class":"DEVICE","path":"/dev/pts/1"}]}',
  '{"class":"WATCH","enable":true,"json":true}',
  '{"class":"PPS","device":"/dev/pps0","real_sec":1,"real_nsec":0}',
];

describe('gpsd JSON fuzzing', () => {
  it('accounts for every one of 20,000 garbled JSON lines exactly once', () => {
    const JSON_ALPHABET = '{}[]":,0123456789.-eE truefalsnul TPVSKYclassmodetimelat';
    for (const seed of [11, 12, 13, 14]) {
      const rand = mulberry32(seed);
      const fixes: GpsFix[] = [];
      const c = new GpsdClient(
        { host: '127.0.0.1', port: 1, maxLineLength: 4096 },
        (f) => fixes.push(f),
        log,
      );
      let lines = 0;
      let text = '';
      for (let i = 0; i < 5000; i++) {
        const base = [TPV, SKY, ...OTHERS][Math.floor(rand() * 6)]!;
        const at = Math.floor(rand() * base.length);
        const ch = JSON_ALPHABET[Math.floor(rand() * JSON_ALPHABET.length)]!;
        const pick = Math.floor(rand() * 5);
        let line =
          pick === 0
            ? base.slice(0, at) // truncated
            : pick === 1
              ? base.slice(0, at) + ch + base.slice(at + 1) // flipped
              : pick === 2
                ? base.slice(0, at) + base.slice(at + 1) // dropped
                : pick === 3
                  ? base.replace(
                      '2024-05-01T08:00:05',
                      `2024-05-01T08:${String(i % 60).padStart(2, '0')}:0${i % 10}`,
                    )
                  : base;
        line = line.trim();
        if (!line) continue;
        lines++;
        text += `${line}\r\n`;
      }
      const bytes = Buffer.from(text);
      for (let at = 0; at < bytes.length; ) {
        const n = 1 + Math.floor(rand() * 500);
        c.push(bytes.subarray(at, at + n));
        at += n;
      }
      const s = c.stats;
      expect(s.lines, `seed ${seed}`).toBe(lines);
      expect(s.messages + s.ignored + s.badLines).toBe(lines);
      expect(Object.values(s.bad).reduce((a, b) => a + b, 0)).toBe(s.badLines);
      expect(s.badLines).toBeGreaterThan(1000);
      expect(s.tpv).toBeGreaterThan(300);
      for (const f of fixes) expectSaneFix(f);
    }
  });

  it('survives 2 MB of random bytes (invalid UTF-8 included) with a bounded buffer', () => {
    const rand = mulberry32(5);
    const c = new GpsdClient({ host: '127.0.0.1', port: 1, maxLineLength: 8192 }, () => {}, log);
    for (let i = 0; i < 1024; i++) {
      const chunk = Buffer.alloc(1 + Math.floor(rand() * 4095));
      for (let j = 0; j < chunk.length; j++) chunk[j] = Math.floor(rand() * 256);
      c.push(chunk);
      expect((c as unknown as { pending: string }).pending.length).toBeLessThanOrEqual(8192);
    }
    expect(c.stats.badLines).toBeGreaterThan(1000);
    expect(c.stats.messages + c.stats.ignored + c.stats.badLines).toBe(c.stats.lines);
    c.push(`\n${TPV}\n`);
    c.flush();
    expect(c.stats.fixes).toBe(1);
  });
});
