import { describe, expect, it } from 'vitest';
import { AgentError, AgentErrorCode } from '../../errors.ts';
import {
  describeDtc,
  GENERIC_DTC_DESCRIPTIONS,
  isGenericDtc,
  UNKNOWN_DTC_DESCRIPTION,
} from '../dtc-descriptions.ts';
import { dtcFromBytes } from '../pids.ts';
import { clearTroubleCodes, decodeDtcMessage, readTroubleCodes, troubleCodes } from './dtc.ts';
import type { ObdRequester } from './request.ts';

describe('DTC bytes -> code (SAE J2012: bits 15-14 P/C/B/U, 13-12 first digit, then 3 hex digits)', () => {
  it.each([
    [0x01, 0x33, 'P0133'], // 00 00 0001 0011 0011
    [0x03, 0x00, 'P0300'],
    [0x04, 0x20, 'P0420'],
    [0x11, 0x71, 'P1171'], // 00 01 ...: manufacturer digit 1
    [0x21, 0x22, 'P2122'],
    [0x3f, 0xff, 'P3FFF'],
    [0x41, 0x23, 'C0123'], // 01 00 ...
    [0x55, 0x01, 'C1501'],
    [0x81, 0x00, 'B0100'], // 10 00 ...
    [0xa0, 0x01, 'B2001'],
    [0xc1, 0x00, 'U0100'], // 11 00 ...
    [0xd0, 0x73, 'U1073'],
    [0xff, 0xff, 'U3FFF'],
  ])('%i %i -> %s', (hi, lo, code) => {
    expect(dtcFromBytes(hi, lo)).toBe(code);
  });
});

describe('decodeDtcMessage', () => {
  it('CAN: count byte first, then the pairs; padding ignored', () => {
    expect(decodeDtcMessage([0x43, 0x02, 0x01, 0x33, 0x04, 0x20], true)).toEqual(['P0133', 'P0420']);
    expect(decodeDtcMessage([0x43, 0x00], true)).toEqual([]);
    // A count smaller than the pairs present: the rest is padding of the last frame.
    expect(decodeDtcMessage([0x43, 0x01, 0x01, 0x33, 0x00, 0x00, 0x55, 0x55], true)).toEqual(['P0133']);
  });

  it('legacy: three pairs per line, 00 00 is filler', () => {
    expect(decodeDtcMessage([0x43, 0x01, 0x33, 0x00, 0x00, 0x00, 0x00], false)).toEqual(['P0133']);
    expect(decodeDtcMessage([0x43, 0x03, 0x00, 0x04, 0x20, 0xc1, 0x00], false)).toEqual([
      'P0300',
      'P0420',
      'U0100',
    ]);
  });

  it('collects codes of several ECUs and several messages, with descriptions', () => {
    const codes = troubleCodes(
      'stored',
      [
        { ecu: '7E8', data: [0x43, 0x02, 0x01, 0x33, 0x03, 0x01] },
        { ecu: '7E9', data: [0x43, 0x01, 0x07, 0x00] },
        { ecu: '7E8', data: [0x47, 0x01, 0x04, 0x20] }, // another service: not ours
      ],
      true,
    );
    expect(codes).toEqual([
      {
        code: 'P0133',
        kind: 'stored',
        ecu: '7E8',
        description: 'O2 Sensor Circuit Slow Response (Bank 1 Sensor 1)',
        generic: true,
      },
      {
        code: 'P0301',
        kind: 'stored',
        ecu: '7E8',
        description: 'Cylinder 1 Misfire Detected',
        generic: true,
      },
      {
        code: 'P0700',
        kind: 'stored',
        ecu: '7E9',
        description: 'Transmission Control System Malfunction',
        generic: true,
      },
    ]);
  });

  it('reads a multi-frame answer with many codes (ISO-TP assembled before)', () => {
    // 8 codes: 43 08 + 16 bytes = 18 bytes, three CAN frames on the bus.
    const pairs = [0x0100, 0x0101, 0x0102, 0x0103, 0x0300, 0x0301, 0x0420, 0x0171];
    const data = [0x43, 0x08, ...pairs.flatMap((p) => [p >> 8, p & 0xff])];
    expect(decodeDtcMessage(data, true)).toEqual([
      'P0100',
      'P0101',
      'P0102',
      'P0103',
      'P0300',
      'P0301',
      'P0420',
      'P0171',
    ]);
  });
});

describe('generic DTC descriptions', () => {
  it('covers P0100-P0199 entirely, P0300-P0306, and common P04xx / P05xx', () => {
    for (let n = 0x100; n <= 0x199; n++) {
      const code = `P0${n.toString(16).toUpperCase().padStart(3, '0')}`;
      if (/[A-F]/.test(code)) continue; // decimal-looking codes only: P0100 ... P0199
      expect(GENERIC_DTC_DESCRIPTIONS.has(code), code).toBe(true);
    }
    for (let c = 0; c <= 6; c++) expect(GENERIC_DTC_DESCRIPTIONS.has(`P030${c}`)).toBe(true);
    for (const code of [
      'P0400',
      'P0401',
      'P0420',
      'P0430',
      'P0440',
      'P0442',
      'P0455',
      'P0456',
      'P0500',
      'P0505',
      'P0507',
      'P0562',
    ]) {
      expect(GENERIC_DTC_DESCRIPTIONS.has(code), code).toBe(true);
    }
    expect(describeDtc('P0171')).toBe('System Too Lean (Bank 1)');
    expect(describeDtc('P0162')).toBe('O2 Sensor Circuit Malfunction (Bank 2 Sensor 3)');
    expect(describeDtc('P0167')).toBe('O2 Sensor Heater Circuit Malfunction (Bank 2 Sensor 3)');
  });

  it('says manufacturer-specific or unknown otherwise', () => {
    expect(describeDtc('P1171')).toBe(UNKNOWN_DTC_DESCRIPTION);
    expect(describeDtc('B1234')).toBe('manufacturer-specific or unknown');
    expect(isGenericDtc('P1171')).toBe(false);
    expect(isGenericDtc('P2122')).toBe(true);
    expect(isGenericDtc('P3400')).toBe(true);
    expect(isGenericDtc('P3000')).toBe(false);
    expect(isGenericDtc('U0100')).toBe(true);
  });
});

describe('readTroubleCodes / clearTroubleCodes', () => {
  const requester = (
    answer: (cmd: string) => ReturnType<ObdRequester['request']>,
  ): ObdRequester & { asked: string[] } => {
    const asked: string[] = [];
    return {
      asked,
      request: (cmd) => {
        asked.push(cmd);
        return answer(cmd);
      },
    };
  };

  it('asks 03 / 07 / 0A', async () => {
    const r = requester(async (cmd) => [
      { ecu: '7E8', data: [Number.parseInt(cmd, 16) + 0x40, 0x01, 0x01, 0x33] },
    ]);
    expect((await readTroubleCodes(r, 'stored', true)).codes.map((c) => c.code)).toEqual(['P0133']);
    expect((await readTroubleCodes(r, 'pending', true)).codes[0]!.kind).toBe('pending');
    expect((await readTroubleCodes(r, 'permanent', true)).codes[0]!.kind).toBe('permanent');
    expect(r.asked).toEqual(['03', '07', '0A']);
  });

  it('NO DATA: no codes; a refusal: service not supported', async () => {
    const none = requester(async () => {
      throw new AgentError(AgentErrorCode.ObdNoData, '03: NO DATA');
    });
    expect(await readTroubleCodes(none, 'stored', false)).toEqual({
      kind: 'stored',
      supported: true,
      codes: [],
    });
    const refused = requester(async () => {
      throw new AgentError(AgentErrorCode.ObdNegativeResponse, '0A: refused');
    });
    expect(await readTroubleCodes(refused, 'permanent', true)).toEqual({
      kind: 'permanent',
      supported: false,
      codes: [],
    });
  });

  it('refuses to clear without confirmation, and sends 04 with it', async () => {
    const r = requester(async () => [{ ecu: '7E8', data: [0x44] }]);
    await expect(clearTroubleCodes(r, false)).rejects.toMatchObject({
      code: AgentErrorCode.ObdConfirmationRequired,
    });
    expect(r.asked).toEqual([]);
    expect(await clearTroubleCodes(r, true)).toEqual(['7E8']);
    expect(r.asked).toEqual(['04']);
  });
});
