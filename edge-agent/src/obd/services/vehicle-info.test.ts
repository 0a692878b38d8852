import { describe, expect, it } from 'vitest';
import { assembleMessages } from '../frames/assembler.ts';
import { decodeCalibrationIds, decodeVin, validateVin, vinCheckDigit } from './vehicle-info.ts';

const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));

describe('VIN from service 09 PID 02', () => {
  it('CAN, headers on: ISO-TP frames (ELM327 data sheet example)', () => {
    const messages = assembleMessages(
      ['7E8 10 14 49 02 01 31 44 34', '7E8 21 47 50 30 30 52 35 35', '7E8 22 42 31 32 33 34 35 36'],
      { format: 'can11', headers: true },
    );
    expect(decodeVin(messages)).toBe('1D4GP00R55B123456');
  });

  it('CAN, headers off: the line-numbered form', () => {
    const messages = assembleMessages(
      ['014', '0: 49 02 01 31 44 34', '1: 47 50 30 30 52 35 35', '2: 42 31 32 33 34 35 36'],
      { format: 'can11', headers: false },
    );
    expect(decodeVin(messages)).toBe('1D4GP00R55B123456');
  });

  it('J1850 / ISO 9141: five numbered messages, leading 00 fill bytes', () => {
    const lines = [
      '49 02 01 00 00 00 31',
      '49 02 02 44 34 47 50',
      '49 02 03 30 30 52 35',
      '49 02 04 35 42 31 32',
      '49 02 05 33 34 35 36',
    ];
    const messages = assembleMessages(lines, { format: 'legacy', headers: false });
    expect(decodeVin(messages)).toBe('1D4GP00R55B123456');
    // Order comes from the message number, not the line order.
    expect(decodeVin([...messages].reverse())).toBe('1D4GP00R55B123456');
  });

  it('keeps every character: 0, 1 and 2 are data, not filler (python-OBD truncates those)', () => {
    const vin = '1G1JC5SH0A4100120';
    expect(decodeVin([{ ecu: '7E8', data: [0x49, 0x02, 0x01, ...ascii(vin)] }])).toBe(vin);
    // Without the item count byte, and with 00 padding in front.
    expect(decodeVin([{ ecu: '7E8', data: [0x49, 0x02, ...ascii(vin)] }])).toBe(vin);
    expect(decodeVin([{ ecu: '7E8', data: [0x49, 0x02, 0x01, 0x00, 0x00, ...ascii(vin)] }])).toBe(vin);
  });

  it('returns null for answers that hold no 17 printable characters', () => {
    expect(decodeVin([{ ecu: '7E8', data: [0x49, 0x02, 0x01, ...ascii('SHORT')] }])).toBeNull();
    expect(decodeVin([{ ecu: '7E8', data: [0x49, 0x02, 0x01, ...Array(17).fill(0x07)] }])).toBeNull();
    expect(decodeVin([{ ecu: '7E8', data: [0x49, 0x04, 0x01, ...ascii('1D4GP00R55B123456')] }])).toBeNull();
  });
});

describe('VIN validation (ISO 3779, 49 CFR 565)', () => {
  it('computes the check digit by the transliteration and weights, worked by hand', () => {
    // 1M8GDM9A_KP042788 (the classic 49 CFR 565 example), weights 8 7 6 5 4 3 2 10 (0) 9 8 7 6 5 4 3 2:
    // 1x8 + M(4)x7 + 8x6 + G(7)x5 + D(4)x4 + M(4)x3 + 9x2 + A(1)x10 + K(2)x9 + P(7)x8 + 0x7 + 4x6
    // + 2x5 + 7x4 + 8x3 + 8x2 = 8+28+48+35+16+12+18+10+18+56+0+24+10+28+24+16 = 351;
    // 351 mod 11 = 10 -> X.
    expect(vinCheckDigit('1M8GDM9AXKP042788')).toBe('X');
    // 1SV7CE6F6RX068251 (the simulator's van): 1x8 + S(2)x7 + V(5)x6 + 7x5 + C(3)x4 + E(5)x3 + 6x2
    // + F(6)x10 + R(9)x9 + X(7)x8 + 0x7 + 6x6 + 8x5 + 2x4 + 5x3 + 1x2
    // = 8+14+30+35+12+15+12+60+81+56+0+36+40+8+15+2 = 424; 424 mod 11 = 6 (11x38 = 418).
    expect(vinCheckDigit('1SV7CE6F6RX068251')).toBe('6');
  });

  it('accepts a valid North American VIN and checks its digit', () => {
    expect(validateVin('1M8GDM9AXKP042788')).toEqual({
      vin: '1M8GDM9AXKP042788',
      valid: true,
      problems: [],
      checkDigitValid: true,
    });
    const wrong = validateVin('1M8GDM9A1KP042788');
    expect(wrong.valid).toBe(true);
    expect(wrong.checkDigitValid).toBe(false);
    expect(wrong.problems[0]).toMatch(/check digit 1 should be X/);
  });

  it('reports null for the check digit outside North America (WMI not 1-5)', () => {
    // WVW: Volkswagen, Germany: position 9 is not a check digit there.
    expect(validateVin('WVWZZZ1JZXW000001').checkDigitValid).toBeNull();
    expect(validateVin('WVWZZZ1JZXW000001').valid).toBe(true);
  });

  it('rejects wrong lengths and the letters I, O, Q', () => {
    expect(validateVin('1M8GDM9AXKP04278')).toMatchObject({ valid: false, checkDigitValid: null });
    const letters = validateVin('1M8GDM9AXKPO4I788');
    expect(letters.valid).toBe(false);
    expect(letters.problems[0]).toMatch(/O I/);
    expect(validateVin('QM8GDM9AXKP042788').valid).toBe(false);
  });
});

describe('calibration IDs from service 09 PID 04', () => {
  it('CAN: item count, then 16 characters each, 00-padded', () => {
    const cal1 = [...ascii('JMB*36761500'), 0, 0, 0, 0];
    const cal2 = [...ascii('JMB*47872611'), 0, 0, 0, 0];
    expect(decodeCalibrationIds([{ ecu: '7E8', data: [0x49, 0x04, 0x02, ...cal1, ...cal2] }])).toEqual([
      'JMB*36761500',
      'JMB*47872611',
    ]);
  });

  it('legacy: four numbered messages per ID', () => {
    const id = ascii('1234567890ABCDEF');
    const messages = [0, 1, 2, 3].map((i) => ({
      ecu: '10',
      data: [0x49, 0x04, i + 1, ...id.slice(i * 4, i * 4 + 4)],
    }));
    expect(decodeCalibrationIds(messages)).toEqual(['1234567890ABCDEF']);
  });
});
