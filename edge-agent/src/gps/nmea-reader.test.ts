import { createLogger } from '@fleet/shared/log';
import { describe, expect, it } from 'vitest';
import type { GpsFix } from './nmea/rmc.ts';
import { NmeaReader } from './nmea-reader.ts';

const log = createLogger('test');

/** A reader fed only through push(); its port opener must never be used here. */
function reader() {
  const fixes: GpsFix[] = [];
  const r = new NmeaReader(
    async () => {
      throw new Error('push-only reader: open() must not be called');
    },
    (fix) => fixes.push(fix),
    log,
  );
  return { r, fixes };
}

function line(body: string): string {
  const sum = [...body].reduce((s, c) => s ^ c.charCodeAt(0), 0);
  return `$${body}*${sum.toString(16).toUpperCase().padStart(2, '0')}\r\n`;
}

const RMC_1 = line('GPRMC,081836.00,A,4807.0380,N,01131.0000,E,022.4,084.4,010524,,,A');
const RMC_2 = line('GNRMC,081837.00,A,4807.0400,N,01131.0100,E,022.5,084.4,010524,,,A');
const GGA = line('GPGGA,081836.00,4807.0380,N,01131.0000,E,1,08,0.9,545.4,M,46.9,M,,');
const RMC_V = line('GPRMC,081838.00,V,,,,,,,010524,,,N');

// A fix is reported when its epoch (every sentence of one UTC time) closes: at the next epoch's
// time, after a quiet line, or on flush() (end of a capture). Tests flush for the last epoch.
describe('NmeaReader.push', () => {
  it('turns RMC sentences into one fix per epoch and counts sentences', () => {
    const { r, fixes } = reader();
    r.push(Buffer.from(RMC_1 + GGA + RMC_2 + RMC_V));
    // Epochs 08:18:36 (RMC + GGA) and :37 are closed by the next one's time; :38 is still open.
    expect(fixes.map((f) => f.ts)).toEqual([
      Date.UTC(2024, 4, 1, 8, 18, 36),
      Date.UTC(2024, 4, 1, 8, 18, 37),
    ]);
    expect(fixes[0]!.lat).toBeCloseTo(48 + 7.038 / 60, 12);
    expect(fixes[0]!.lon).toBeCloseTo(11 + 31 / 60, 12);
    expect(fixes[1]!.lon).toBeCloseTo(11 + 31.01 / 60, 12);
    expect(fixes[1]!.speedKmh).toBeCloseTo(22.5 * 1.852, 12);
    r.flush();
    expect(fixes).toHaveLength(2); // 08:18:38 has status V: no fix
    expect(r.stats).toMatchObject({ sentences: 4, badSentences: 0, fixes: 2, noFixEpochs: 1 });
  });

  it('reassembles sentences split at every possible chunk boundary', () => {
    const stream = RMC_1 + GGA + RMC_2;
    const whole = reader();
    whole.r.push(Buffer.from(stream));
    whole.r.flush();
    expect(whole.fixes).toHaveLength(2);
    for (let cut = 1; cut < stream.length; cut++) {
      const split = reader();
      split.r.push(Buffer.from(stream.slice(0, cut)));
      split.r.push(Buffer.from(stream.slice(cut)));
      split.r.flush();
      expect(split.fixes, `cut at ${cut}`).toEqual(whole.fixes);
      expect(split.r.stats).toEqual(whole.r.stats);
    }
  });

  it('reassembles one byte at a time', () => {
    const { r, fixes } = reader();
    for (const b of Buffer.from(RMC_1 + RMC_2)) r.push(Buffer.of(b));
    r.flush();
    expect(fixes.map((f) => f.ts)).toEqual([
      Date.UTC(2024, 4, 1, 8, 18, 36),
      Date.UTC(2024, 4, 1, 8, 18, 37),
    ]);
    expect(r.stats).toMatchObject({ sentences: 2, badSentences: 0, fixes: 2 });
  });

  it('accepts LF-only line ends', () => {
    const { r, fixes } = reader();
    r.push(Buffer.from(RMC_1.replace('\r\n', '\n') + RMC_2.replace('\r\n', '\n')));
    r.flush();
    expect(fixes).toHaveLength(2);
  });

  it('counts garbage lines in badSentences and carries on', () => {
    const { r, fixes } = reader();
    const badChecksum = RMC_1.replace(/\*[0-9A-F]{2}/, '*00');
    const binary = Buffer.from([0xb5, 0x62, 0x01, 0x07, 0x00, 0xff, 0x0a]); // UBX bytes ending in LF
    r.push(Buffer.from(`hello world\r\n${badChecksum}GPRMC,no dollar*00\r\n`));
    r.push(binary);
    r.push(Buffer.from(RMC_2));
    r.flush();
    expect(r.stats.badSentences).toBe(4);
    expect(r.stats.sentences).toBe(1);
    expect(fixes).toHaveLength(1);
    expect(fixes[0]!.ts).toBe(Date.UTC(2024, 4, 1, 8, 18, 37));
  });

  it('does not count empty lines', () => {
    const { r } = reader();
    r.push(Buffer.from('\r\n\n  \r\n'));
    r.flush();
    expect(r.stats).toMatchObject({ sentences: 0, badSentences: 0, fixes: 0 });
  });

  it('bounds a line that never ends: dropped and counted once it exceeds 164 characters', () => {
    const { r, fixes } = reader();
    r.push(Buffer.from(`$${'x'.repeat(163)}`)); // 164 characters, no line end yet
    expect(r.stats.badSentences).toBe(0);
    expect(r.pendingLength).toBe(164);
    r.push(Buffer.from('x'));
    expect(r.stats.badSentences).toBe(1);
    expect(r.pendingLength).toBe(0);
    // A megabyte more of it, and of noise outside any sentence, never grows the buffer.
    for (let i = 0; i < 1024; i++) {
      r.push(Buffer.alloc(1024, i % 2 === 0 ? 0x41 : 0x00));
      expect(r.pendingLength).toBeLessThanOrEqual(164);
    }
    // The next real sentence decodes normally.
    r.push(Buffer.from(`\n${RMC_1}`));
    r.flush();
    expect(fixes.map((f) => f.ts)).toEqual([Date.UTC(2024, 4, 1, 8, 18, 36)]);
  });

  it('recovers a sentence glued behind junk on the same line (resync on $)', () => {
    const { r, fixes } = reader();
    r.push(Buffer.concat([Buffer.from([0xb5, 0x62, 0x01, 0x07, 0xff]), Buffer.from(RMC_1)]));
    r.flush();
    expect(fixes).toHaveLength(1);
    expect(r.stats.badSentences).toBe(1);
  });
});

// Real receivers: every NMEA capture of gpsd's regression corpus (the three logs this file used to
// check, sirfstarv-nmea, ublox-zed-f9p-nmea and ublox-8, among them) is compared epoch by epoch
// with gpsd's own output in gpsd-logs.test.ts.
