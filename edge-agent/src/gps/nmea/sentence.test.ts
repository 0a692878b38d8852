import { describe, expect, it } from 'vitest';
import { nmeaChecksum, parseLatLon, parseNmeaSentence } from './sentence.ts';

// Reference sentences with their published checksums (the common NMEA 0183 examples).
const RMC = '$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A';
const GGA = '$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47';

/** XOR of the body's characters, written independently of the code under test. */
function xor(body: string): number {
  return [...body].reduce((sum, c) => sum ^ c.charCodeAt(0), 0);
}
const withChecksum = (body: string) => `$${body}*${xor(body).toString(16).toUpperCase().padStart(2, '0')}`;

describe('nmeaChecksum', () => {
  it('is the XOR of every character between $ and *', () => {
    expect(nmeaChecksum(RMC.slice(1, -3))).toBe(0x6a);
    expect(nmeaChecksum(GGA.slice(1, -3))).toBe(0x47);
    expect(nmeaChecksum('')).toBe(0);
    expect(nmeaChecksum('A')).toBe(0x41);
    expect(nmeaChecksum('AB')).toBe(0x41 ^ 0x42);
  });
});

describe('parseNmeaSentence', () => {
  it('splits talker, type and fields of a sentence with a good checksum', () => {
    const r = parseNmeaSentence(RMC);
    expect(r).toEqual({
      ok: true,
      sentence: {
        talker: 'GP',
        type: 'RMC',
        fields: ['123519', 'A', '4807.038', 'N', '01131.000', 'E', '022.4', '084.4', '230394', '003.1', 'W'],
      },
    });
  });

  it('accepts every talker (GN, GL, GA, BD, ...) and keeps empty fields', () => {
    for (const talker of ['GN', 'GL', 'GA', 'BD', 'GB', 'IN']) {
      const r = parseNmeaSentence(withChecksum(`${talker}RMC,,V,,,,,,,,,,N`));
      expect(r.ok && r.sentence.talker).toBe(talker);
      expect(r.ok && r.sentence.fields).toEqual(['', 'V', '', '', '', '', '', '', '', '', '', 'N']);
    }
  });

  it('ignores the CR LF and surrounding whitespace', () => {
    expect(parseNmeaSentence(`${GGA}\r\n`).ok).toBe(true);
    expect(parseNmeaSentence(`  ${GGA}  `).ok).toBe(true);
  });

  it('accepts the checksum in lowercase hex', () => {
    expect(parseNmeaSentence(RMC.replace('*6A', '*6a')).ok).toBe(true);
  });

  it('refuses a wrong checksum', () => {
    expect(parseNmeaSentence(RMC.replace('*6A', '*6B'))).toMatchObject({
      ok: false,
      reason: 'checksum mismatch',
    });
    // One character changed in the body (a bit error on the wire), checksum kept.
    expect(parseNmeaSentence(RMC.replace('4807.038', '4807.039'))).toMatchObject({
      ok: false,
      reason: 'checksum mismatch',
    });
  });

  it('refuses a sentence without $ or without a two-digit checksum', () => {
    expect(parseNmeaSentence(RMC.slice(1))).toMatchObject({ ok: false, reason: 'no leading $' });
    expect(parseNmeaSentence('')).toMatchObject({ ok: false, reason: 'no leading $' });
    expect(parseNmeaSentence(RMC.slice(0, -3))).toMatchObject({ ok: false, reason: 'no *HH checksum' });
    expect(parseNmeaSentence(RMC.slice(0, -1))).toMatchObject({ ok: false, reason: 'no *HH checksum' });
    expect(parseNmeaSentence(`${RMC}0`)).toMatchObject({ ok: false, reason: 'no *HH checksum' });
  });

  it('refuses a checksum that is not hex', () => {
    expect(parseNmeaSentence(RMC.replace('*6A', '*ZZ'))).toMatchObject({
      ok: false,
      reason: 'checksum is not hex',
    });
  });

  // NMEA 0183 §5.3: the checksum is two hex characters. Number.parseInt('4G', 16) alone would
  // read the valid prefix "4", so a corrupted second digit could pass the check.
  it('refuses a checksum with a non-hex second digit', () => {
    // 'GPTXT,01,01,02,' XORs to 0x4D; 'I' (0x49) brings the body to 0x4D ^ 0x49 = 0x04.
    const body = 'GPTXT,01,01,02,I';
    expect(xor(body)).toBe(0x04);
    expect(parseNmeaSentence(`$${body}*04`).ok).toBe(true);
    expect(parseNmeaSentence(`$${body}*4G`).ok).toBe(false);
  });

  it('refuses control and binary characters even when the checksum matches', () => {
    // A UBX/SiRF frame can contain '$', a newline and, once in 256 times, a matching XOR.
    expect(parseNmeaSentence(withChecksum('GPTXT,01,01,02,\x01\xb5'))).toMatchObject({
      ok: false,
      fault: 'non-printable',
    });
  });

  it('accepts proprietary sentences ($P + maker code) as talker P', () => {
    expect(parseNmeaSentence(withChecksum('PGRME,15.0,M,22.5,M,27.0,M'))).toEqual({
      ok: true,
      sentence: { talker: 'P', type: 'GRME', fields: ['15.0', 'M', '22.5', 'M', '27.0', 'M'] },
    });
  });

  it('refuses a malformed address field', () => {
    expect(parseNmeaSentence(withChecksum('GPRM,1,2'))).toMatchObject({ ok: false });
    expect(parseNmeaSentence(withChecksum('gprmc,1,2'))).toMatchObject({ ok: false });
    expect(parseNmeaSentence(withChecksum(',1,2'))).toMatchObject({
      ok: false,
      reason: 'bad address field ""',
    });
  });
});

describe('parseLatLon', () => {
  it('converts ddmm.mmmm latitude, north positive and south negative', () => {
    expect(parseLatLon('4807.038', 'N', 2)).toBeCloseTo(48 + 7.038 / 60, 12);
    expect(parseLatLon('4807.038', 'S', 2)).toBeCloseTo(-(48 + 7.038 / 60), 12);
    expect(parseLatLon('0000.0000', 'N', 2)).toBe(0);
    expect(parseLatLon('9000.0000', 'N', 2)).toBe(90);
    expect(parseLatLon('4545.0000', 'S', 2)).toBe(-45.75); // 45 + 45/60
  });

  it('converts dddmm.mmmm longitude, east positive and west negative', () => {
    expect(parseLatLon('01131.000', 'E', 3)).toBeCloseTo(11 + 31 / 60, 12);
    expect(parseLatLon('12118.8556', 'W', 3)).toBeCloseTo(-(121 + 18.8556 / 60), 12);
    expect(parseLatLon('17959.9999', 'E', 3)).toBeCloseTo(179 + 59.9999 / 60, 12);
    expect(parseLatLon('00030.0000', 'W', 3)).toBe(-0.5);
  });

  it('keeps the precision of long minute fields', () => {
    expect(parseLatLon('4404.13387', 'N', 2)).toBeCloseTo(44 + 4.13387 / 60, 12);
    expect(parseLatLon('4205.733476', 'N', 2)).toBeCloseTo(42 + 5.733476 / 60, 12);
  });

  it('returns null for empty, malformed or out-of-range fields and unknown hemispheres', () => {
    expect(parseLatLon('', 'N', 2)).toBeNull();
    expect(parseLatLon('4807.038', '', 2)).toBeNull();
    expect(parseLatLon('4807.038', 'X', 2)).toBeNull();
    expect(parseLatLon('48a7.038', 'N', 2)).toBeNull();
    expect(parseLatLon('-4807.038', 'N', 2)).toBeNull();
    expect(parseLatLon('4860.000', 'N', 2)).toBeNull(); // 60 minutes
    expect(parseLatLon('4807.', 'N', 2)).toBeNull();
    expect(parseLatLon('9100.000', 'N', 2)).toBeNull(); // beyond the pole
    expect(parseLatLon('18100.000', 'E', 3)).toBeNull();
  });

  it('reads degrees as the integer part / 100, like gpsd, so unpadded fields decode', () => {
    expect(parseLatLon('131.5', 'E', 3)).toBe(1 + 31.5 / 60);
  });

  it("is bit-identical to deg + Number(minutes) / 60, the simulator's truth file", () => {
    for (const [field, digits] of [
      ['4807.0380', 2],
      ['01131.0000', 3],
      ['4552.65403', 2],
      ['17030.00668', 3],
    ] as const) {
      expect(parseLatLon(field, 'N', digits)).toBe(
        Number(field.slice(0, digits)) + Number(field.slice(digits)) / 60,
      );
    }
  });
});
