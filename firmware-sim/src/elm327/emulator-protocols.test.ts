import { describe, expect, it } from 'vitest';
import { elmHarness, replyLines, TEST_VIN } from '../testing/elm-harness.ts';
import { fixedState, hexBytes } from '../testing/fixtures.ts';
import { DiagnosticMemory } from '../vehicle/diagnostics.ts';

/** 8-bit sum of all bytes: the K-line message checksum (ISO 9141-2 section 9.1). */
const checksum = (bytes: number[]): number => bytes.reduce((s, b) => (s + b) & 0xff, 0);

describe('Elm327Emulator: K-line vehicles', () => {
  it('ISO 9141-2: auto search finds protocol 3, headers 48 6B 10 and a checksum', () => {
    const h = elmHarness({ protocol: 'iso9141' });
    h.send('ATE0');
    expect(replyLines(h.send('010D'))).toEqual(['SEARCHING...', '41 0D 32 ']);
    expect(h.send('ATDPN')).toBe('A3\r\r>');
    expect(h.send('ATDP')).toBe('AUTO, ISO 9141-2\r\r>');
    h.send('ATH1');
    expect(h.send('010D')).toBe('48 6B 10 41 0D 32 43 \r\r>');
    const bytes = hexBytes(replyLines(h.send('010C'))[0]!);
    expect(bytes.slice(0, 3)).toEqual([0x48, 0x6b, 0x10]);
    expect(bytes.at(-1)).toBe(checksum(bytes.slice(0, -1)));
    h.send('ATS0');
    expect(h.send('010D')).toBe('486B10410D3243\r\r>');
  });

  it('ISO 14230-4 KWP: format byte 80 + length, tester F1, ECU 10; answers on ATSP4 and ATSP5', () => {
    const h = elmHarness({ protocol: 'kwp' });
    h.send('ATE0');
    h.send('ATH1');
    expect(replyLines(h.send('010D'))).toEqual(['SEARCHING...', '83 F1 10 41 0D 32 04 ']);
    expect(h.send('ATDPN')).toBe('A5\r\r>');
    for (const sp of ['ATSP4', 'ATSP5']) {
      h.send(sp);
      // A fixed K-line protocol initialises the bus on first use.
      expect(replyLines(h.send('010D'))).toEqual(['BUS INIT: ...OK', '83 F1 10 41 0D 32 04 ']);
      expect(h.send('010D')).toBe('83 F1 10 41 0D 32 04 \r\r>');
    }
    h.send('ATSP3'); // ISO 9141-2: this ECU does not answer its 5-baud init
    expect(h.send('010D')).toBe('BUS INIT: ...ERROR\r\r>');
    h.send('ATSP6');
    expect(h.send('010D')).toBe('CAN ERROR\r\r>');
  });

  it('answers only the first PID of a multi-PID request, one message per line', () => {
    for (const protocol of ['iso9141', 'kwp'] as const) {
      const h = elmHarness({ protocol });
      h.send('ATE0');
      h.send('ATSP0');
      h.send('0100');
      expect(h.send('010C0D2F')).toBe('41 0C 1A F8 \r\r>');
      expect(h.send('010D0C')).toBe('41 0D 32 \r\r>');
      expect(h.send('01020304050607080')).toBe('?\r\r>');
    }
  });

  it('sends the VIN as five numbered messages and DTCs three per message', () => {
    const memory = new DiagnosticMemory(['P0133', 'P0420', 'U0100', 'C0035']);
    const h = elmHarness({ protocol: 'iso9141', diagnostics: memory });
    h.send('ATE0');
    h.send('0100');
    const vin = replyLines(h.send('0902'));
    expect(vin).toHaveLength(5);
    const data = vin.map(hexBytes);
    data.forEach((m, i) => {
      expect(m.slice(0, 3)).toEqual([0x49, 0x02, i + 1]);
    });
    const chars = data.flatMap((m) => m.slice(3)).slice(3);
    expect(String.fromCharCode(...chars)).toBe(TEST_VIN);
    expect(replyLines(h.send('03'))).toEqual(['43 01 33 04 20 C1 00 ', '43 40 35 00 00 00 00 ']);
    expect(h.send('07')).toBe('47 00 00 00 00 00 00 \r\r>');
    expect(h.send('04')).toBe('44 \r\r>');
    expect(h.send('03')).toBe('43 00 00 00 00 00 00 \r\r>');
  });

  it('loses the K-line session with the ignition: NO DATA, then the init fails until it is back', () => {
    const h = elmHarness({ protocol: 'iso9141' });
    h.send('ATE0');
    h.send('ATSP3');
    expect(replyLines(h.send('010D'))).toEqual(['BUS INIT: ...OK', '41 0D 32 ']);
    h.setState({ ignition: false, batteryV: 12.31 });
    expect(h.send('010D')).toBe('NO DATA\r\r>');
    expect(h.send('010D')).toBe('BUS INIT: ...ERROR\r\r>');
    expect(h.send('ATRV')).toBe('12.3V\r\r>');
    h.setState({ ignition: true });
    expect(replyLines(h.send('010D'))).toEqual(['BUS INIT: ...OK', '41 0D 32 ']);
  });
});

describe('Elm327Emulator: adapter identity and AT commands', () => {
  it('an STN adapter answers ATI like an ELM327 and STI / STDI with its own identity', () => {
    const h = elmHarness({ adapter: 'stn' });
    expect(h.send('ATZ')).toBe('ATZ\r\r\rELM327 v1.4b\r\r>');
    h.send('ATE0');
    expect(h.send('ATI')).toBe('ELM327 v1.4b\r\r>');
    expect(h.send('STI')).toBe('STN1110 v4.0.1\r\r>');
    expect(h.send('STDI')).toBe('OBDLink SX r4.2\r\r>');
    expect(h.send('STXYZ')).toBe('?\r\r>');
    // An ELM327 clone knows no ST commands.
    const elm = elmHarness();
    elm.send('ATE0');
    expect(elm.send('STI')).toBe('?\r\r>');
  });

  it('shows raw CAN frames with ATCAF0 and no answers with ATR0', () => {
    const h = elmHarness();
    h.send('ATE0');
    h.send('ATSP6');
    h.send('ATCAF0');
    expect(h.send('010D')).toBe('03 41 0D 32 00 00 00 00 \r\r>');
    expect(replyLines(h.send('0902'))).toEqual([
      '10 14 49 02 01 31 53 56 ',
      '21 37 43 45 36 46 36 52 ',
      '22 58 30 36 38 32 35 31 ',
    ]);
    h.send('ATH1');
    expect(h.send('010D')).toBe('7E8 03 41 0D 32 00 00 00 00 \r\r>');
    h.send('ATCAF1');
    h.send('ATR0');
    expect(h.send('010D')).toBe('\r>');
    h.send('ATR1');
    expect(h.send('010D')).toBe('7E8 03 41 0D 32 \r\r>');
  });

  it('accepts the set-up commands agents send, and rejects malformed ones', () => {
    const h = elmHarness();
    h.send('ATE0');
    for (const cmd of [
      'ATSH7E0',
      'ATSH686AF1',
      'ATCRA7E8',
      'ATCF7E8',
      'ATCM7F8',
      'ATAL',
      'ATNL',
      'ATCFC1',
      'ATSW00',
      'ATWM686AF10100',
      'ATIIA33',
      'ATKW0',
      'ATIB10',
      'ATV1',
      'ATTP6',
      'ATTPA6',
      'ATSPA3',
    ]) {
      expect(h.send(cmd), cmd).toBe('OK\r\r>');
    }
    for (const cmd of ['ATSH7E', 'ATSHXYZ', 'ATSW', 'ATBRD23', 'AT@2'])
      expect(h.send(cmd), cmd).toBe('?\r\r>');
  });

  it('reports the MIL and DTC count in PID 01, and permanent codes in service 0A', () => {
    const memory = new DiagnosticMemory();
    const h = elmHarness({ diagnostics: memory });
    h.send('ATE0');
    h.send('ATSP6');
    expect(h.send('0101')).toBe('41 01 00 07 65 00 \r\r>');
    memory.setPending('P0133');
    expect(h.send('07')).toBe('47 01 01 33 \r\r>');
    expect(h.send('0101')).toBe('41 01 00 07 65 00 \r\r>');
    memory.store('P0133');
    memory.store('P0420');
    expect(h.send('0101')).toBe('41 01 82 07 65 00 \r\r>');
    expect(h.send('03')).toBe('43 02 01 33 04 20 \r\r>');
    expect(h.send('07')).toBe('47 00 \r\r>');
    expect(h.send('04')).toBe('44 \r\r>');
    expect(h.send('0101')).toBe('41 01 00 07 65 00 \r\r>');
    expect(h.send('0A')).toBe('4A 02 01 33 04 20 \r\r>'); // a scan tool cannot clear these
  });

  it('keeps stored codes given as options (--dtc) and answers ATRV with the ignition off', () => {
    const h = elmHarness({ dtcs: ['p0133'] }, fixedState({ ignition: false, batteryV: 12.34 }));
    h.send('ATE0');
    expect(h.send('ATRV')).toBe('12.3V\r\r>');
    expect(replyLines(h.send('0101'))).toEqual(['SEARCHING...', 'UNABLE TO CONNECT']);
    h.setState({ ignition: true });
    expect(replyLines(h.send('0101'))).toEqual(['SEARCHING...', '41 01 81 07 65 00 ']);
  });
});
