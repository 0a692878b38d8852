import { afterEach, describe, expect, it, vi } from 'vitest';
import { elmHarness, TEST_VIN } from '../testing/elm-harness.ts';
import { fixedState, hexBytes } from '../testing/fixtures.ts';
import type { VehicleState } from '../vehicle/model.ts';
import type { Elm327Options } from './emulator.ts';

const VIN = TEST_VIN;
const harness = elmHarness;

/** A harness past the usual start-up (echo off, protocol found), like an agent after init. */
function ready(options: Partial<Elm327Options> = {}, initial?: VehicleState) {
  const h = harness(options, initial);
  h.send('ATE0');
  h.send('ATSP6');
  return h;
}

/** Reply lines without the trailing empty line and prompt. */
function lines(reply: string): string[] {
  expect(reply.endsWith('\r\r>')).toBe(true);
  return reply.slice(0, -3).split('\r');
}

/** Data bytes of a mode 01 single-frame answer, after 41. */
function mode01(reply: string): number[] {
  const l = lines(reply);
  expect(l).toHaveLength(1);
  const bytes = hexBytes(l[0]!);
  expect(bytes[0]).toBe(0x41);
  return bytes.slice(1);
}

describe('Elm327Emulator: AT commands', () => {
  it('resets with ATZ, echo on, like a real chip', () => {
    const h = harness();
    expect(h.send('ATZ')).toBe('ATZ\r\r\rELM327 v1.5\r\r>');
    expect(h.send('ATI')).toBe('ATI\rELM327 v1.5\r\r>');
    expect(h.send('AT@1')).toBe('AT@1\rOBDII to RS232 Interpreter\r\r>');
  });

  it('turns echo, linefeeds, spaces and headers on and off', () => {
    const h = harness();
    expect(h.send('ATE0')).toBe('ATE0\rOK\r\r>');
    expect(h.send('ATI')).toBe('ELM327 v1.5\r\r>');
    expect(h.send('ATL1')).toBe('OK\r\n\r\n>');
    expect(h.send('ATI')).toBe('ELM327 v1.5\r\n\r\n>');
    expect(h.send('ATL0')).toBe('OK\r\r>');
    h.send('ATSP6');
    expect(h.send('010D')).toBe('41 0D 32 \r\r>');
    h.send('ATS0');
    expect(h.send('010D')).toBe('410D32\r\r>');
    h.send('ATH1');
    expect(h.send('010D')).toBe('7E803410D32\r\r>');
    h.send('ATS1');
    expect(h.send('010D')).toBe('7E8 03 41 0D 32 \r\r>');
    h.send('ATE1');
    expect(h.send('ATH0')).toBe('ATH0\rOK\r\r>');
    expect(h.emu.currentSettings).toMatchObject({
      echo: true,
      headers: false,
      spaces: true,
      linefeeds: false,
    });
  });

  it('ignores case and spaces in commands', () => {
    const h = ready();
    expect(h.send('at h1')).toBe('OK\r\r>');
    expect(h.send('01 0d')).toBe('7E8 03 41 0D 32 \r\r>');
    expect(h.send('a t d p n')).toBe('6\r\r>');
  });

  it('answers ? to unknown or malformed commands', () => {
    const h = ready();
    expect(h.send('ATX')).toBe('?\r\r>');
    expect(h.send('ATE')).toBe('?\r\r>');
    expect(h.send('ATSPD')).toBe('?\r\r>');
    expect(h.send('HELLO')).toBe('?\r\r>');
    expect(h.send('0')).toBe('?\r\r>');
    expect(h.send('01020304050607080')).toBe('?\r\r>'); // 8 request bytes: over a single frame
    expect(h.send('X'.repeat(150))).toBe('?\r\r>');
  });

  it('accepts timing commands', () => {
    const h = ready();
    for (const cmd of ['ATAT0', 'ATAT1', 'ATAT2', 'ATST19', 'ATST FF', 'ATM0', 'ATPC', 'ATD', 'ATWS']) {
      expect(h.send(cmd)).not.toContain('?');
    }
    expect(h.emu.currentSettings).toMatchObject({ adaptiveTiming: 1, timeout: 0x32 }); // ATWS reset them
  });

  it('reads the battery voltage with ATRV, engine running or not', () => {
    const h = ready();
    expect(h.send('ATRV')).toBe('14.2V\r\r>');
    h.setState({ ignition: false, batteryV: 12.46 });
    expect(h.send('ATRV')).toBe('12.5V\r\r>');
  });
});

describe('Elm327Emulator: protocols', () => {
  it('searches once after ATSP0 and then reports CAN 11/500 (A6)', () => {
    const h = harness();
    h.send('ATE0');
    expect(h.send('ATSP0')).toBe('OK\r\r>');
    expect(h.send('ATDP')).toBe('AUTO\r\r>');
    expect(h.send('ATDPN')).toBe('A0\r\r>');
    expect(lines(h.send('0100'))).toEqual(['SEARCHING...', '41 00 98 1B 80 03 ']);
    expect(lines(h.send('0100'))).toEqual(['41 00 98 1B 80 03 ']);
    expect(h.send('ATDP')).toBe('AUTO, ISO 15765-4 (CAN 11/500)\r\r>');
    expect(h.send('ATDPN')).toBe('A6\r\r>');
    // A reset forgets the connection but keeps the stored protocol: it searches again.
    h.send('ATZ');
    h.send('ATE0');
    expect(lines(h.send('010D'))).toEqual(['SEARCHING...', '41 0D 32 ']);
  });

  it('searches on the first request after power-up (auto is the default)', () => {
    const h = harness();
    expect(h.send('010D')).toBe('010D\rSEARCHING...\r41 0D 32 \r\r>');
  });

  it('talks directly with ATSP6 and fails on protocols the vehicle does not speak', () => {
    const h = harness();
    h.send('ATE0');
    h.send('ATSP6');
    expect(h.send('ATDPN')).toBe('6\r\r>');
    expect(h.send('ATDP')).toBe('ISO 15765-4 (CAN 11/500)\r\r>');
    expect(h.send('010D')).toBe('41 0D 32 \r\r>');
    h.send('ATSP3');
    expect(h.send('010D')).toBe('BUS INIT: ...ERROR\r\r>');
    h.send('ATSP8');
    expect(h.send('010D')).toBe('CAN ERROR\r\r>');
    h.send('ATSPA6');
    expect(h.send('ATDPN')).toBe('A6\r\r>');
    expect(lines(h.send('010D'))).toEqual(['SEARCHING...', '41 0D 32 ']);
  });
});

describe('Elm327Emulator: service 01', () => {
  it('encodes each PID per SAE J1979 (decoded here by hand)', () => {
    const s = fixedState();
    const h = ready({}, s);
    const [pid05, a05] = mode01(h.send('0105'));
    expect(pid05).toBe(0x05);
    expect(a05! - 40).toBe(s.coolantC); // A - 40
    const [, a0c, b0c] = mode01(h.send('010C'));
    expect([a0c, b0c]).toEqual([0x1a, 0xf8]);
    expect((256 * a0c! + b0c!) / 4).toBe(s.rpm); // (256A + B) / 4
    const [, a0d] = mode01(h.send('010D'));
    expect(a0d).toBe(s.speedKmh); // A km/h
    const [, a0f] = mode01(h.send('010F'));
    expect(a0f! - 40).toBe(s.intakeC);
    const [, a10, b10] = mode01(h.send('0110'));
    expect((256 * a10! + b10!) / 100).toBe(s.mafGs); // (256A + B) / 100 g/s
    const [, a11] = mode01(h.send('0111'));
    expect(a11).toBe(51); // 20 % * 255 / 100
    expect((a11! * 100) / 255).toBeCloseTo(s.throttlePct, 0);
    const [, a1f, b1f] = mode01(h.send('011F'));
    expect(256 * a1f! + b1f!).toBe(s.runTimeS);
    const [, a2f] = mode01(h.send('012F'));
    expect(a2f).toBe(0x80);
    expect((a2f! * 100) / 255).toBe(s.fuelLevelPct); // A * 100 / 255 %
    const [, a46] = mode01(h.send('0146'));
    expect(a46! - 40).toBe(s.ambientC);
    const [, a5e, b5e] = mode01(h.send('015E'));
    expect((256 * a5e! + b5e!) / 20).toBe(s.fuelRateLph); // (256A + B) / 20 L/h
    const [, a04] = mode01(h.send('0104'));
    expect(a04).toBe(77); // round(30 * 2.55)
    const [, a, b, c, d] = mode01(h.send('01A6'));
    expect((a! * 2 ** 24 + b! * 2 ** 16 + c! * 2 ** 8 + d!) / 10).toBe(s.odometerKm);
    expect(mode01(h.send('0151'))).toEqual([0x51, 0x01]); // gasoline
  });

  it('clamps values outside a PID range', () => {
    const h = ready({}, fixedState({ speedKmh: 300, coolantC: -60, rpm: 20000, fuelLevelPct: 100 }));
    expect(mode01(h.send('010D'))).toEqual([0x0d, 0xff]);
    expect(mode01(h.send('0105'))).toEqual([0x05, 0x00]);
    expect(mode01(h.send('010C'))).toEqual([0x0c, 0xff, 0xff]);
    expect(mode01(h.send('012F'))).toEqual([0x2f, 0xff]);
  });

  it('publishes support bitmaps consistent with the PIDs it answers', () => {
    const h = ready();
    // Hand-built: 01 04 05 | 0C 0D 0F 10 | 11 | 1F 20  ->  98 1B 80 03
    expect(mode01(h.send('0100'))).toEqual([0x00, 0x98, 0x1b, 0x80, 0x03]);
    expect(mode01(h.send('0120'))).toEqual([0x20, 0x80, 0x02, 0x80, 0x01]); // 21, 2F, 31, 40
    expect(mode01(h.send('0140'))).toEqual([0x40, 0x04, 0x00, 0x80, 0x05]); // 46, 51, 5E, 60
    expect(mode01(h.send('0160'))).toEqual([0x60, 0x00, 0x00, 0x00, 0x01]); // 80
    expect(mode01(h.send('0180'))).toEqual([0x80, 0x00, 0x00, 0x00, 0x01]); // A0
    expect(mode01(h.send('01A0'))).toEqual([0xa0, 0x04, 0x00, 0x00, 0x00]); // A6
    expect(h.send('01C0')).toBe('NO DATA\r\r>');

    // Every PID the bitmaps announce answers; every other one is NO DATA.
    for (let base = 0; base < 0xc0; base += 0x20) {
      const [, ...bitmap] = mode01(h.send(`01${base.toString(16).padStart(2, '0')}`));
      const bits = ((bitmap[0]! << 24) | (bitmap[1]! << 16) | (bitmap[2]! << 8) | bitmap[3]!) >>> 0;
      for (let i = 1; i <= 0x20; i++) {
        const pid = base + i;
        const reply = h.send(`01${pid.toString(16).padStart(2, '0')}`);
        const announced = ((bits >>> (32 - i)) & 1) === 1;
        expect(reply === 'NO DATA\r\r>', `PID ${pid.toString(16)}`).toBe(!announced);
      }
    }
  });

  it('answers only the PIDs configured for the ECU', () => {
    const h = ready({ pids: [0x0c, 0x0d] });
    expect(mode01(h.send('0100'))).toEqual([0x00, 0x00, 0x18, 0x00, 0x00]);
    expect(h.send('015E')).toBe('NO DATA\r\r>');
    expect(h.send('0120')).toBe('NO DATA\r\r>');
  });

  it('answers multi-PID requests in one response, split by PID lengths', () => {
    const h = ready();
    expect(lines(h.send('010C0D2F'))).toEqual(['008', '0: 41 0C 1A F8 0D 32 ', '1: 2F 80 00 00 00 00 00 ']);
    h.send('ATH1');
    expect(lines(h.send('010C0D2F'))).toEqual([
      '7E8 10 08 41 0C 1A F8 0D 32 ',
      '7E8 21 2F 80 00 00 00 00 00 ',
    ]);
    expect(lines(h.send('010D0C'))).toEqual(['7E8 06 41 0D 32 0C 1A F8 ']);
    h.send('ATH0');

    // Six PIDs, reassembled from the frames with the announced length and decoded by length.
    const reply = lines(h.send('01050C0D2F5E10'));
    const total = Number.parseInt(reply[0]!, 16);
    const data = reply
      .slice(1)
      .flatMap((l) => hexBytes(l.slice(l.indexOf(':') + 1)))
      .slice(0, total);
    expect(data[0]).toBe(0x41);
    const lengths: Record<number, number> = { 5: 1, 12: 2, 13: 1, 47: 1, 94: 2, 16: 2 };
    const values = new Map<number, number[]>();
    for (let i = 1; i < data.length; ) {
      const pid = data[i]!;
      values.set(pid, data.slice(i + 1, i + 1 + lengths[pid]!));
      i += 1 + lengths[pid]!;
    }
    expect([...values.keys()].sort((a, b) => a - b)).toEqual([0x05, 0x0c, 0x0d, 0x10, 0x2f, 0x5e]);
    expect(values.get(0x0c)).toEqual([0x1a, 0xf8]);
    expect(values.get(0x5e)).toEqual([0x00, 0x32]);

    expect(h.send('01050C0D2F5E1011')).toBe('?\r\r>'); // 7 PIDs: no longer a single frame
  });

  it('leaves unsupported PIDs out of a multi-PID answer', () => {
    const h = ready();
    expect(h.send('010D422F')).toBe('41 0D 32 2F 80 \r\r>');
    expect(h.send('014243')).toBe('NO DATA\r\r>');
  });

  it('accepts the trailing reply-count digit', () => {
    const h = ready();
    expect(h.send('010D1')).toBe('41 0D 32 \r\r>');
    expect(h.send('010C0D1')).toBe('41 0C 1A F8 0D 32 \r\r>');
  });

  it('answers from the vehicle state at the time of each request', () => {
    const h = ready();
    expect(mode01(h.send('010D'))).toEqual([0x0d, 50]);
    h.setState({ speedKmh: 73.6 });
    expect(mode01(h.send('010D'))).toEqual([0x0d, 74]);
  });

  it('says NO DATA with the ignition off while ATRV still answers', () => {
    const h = ready();
    h.setState({ ignition: false, batteryV: 12.4 });
    expect(h.send('010D')).toBe('NO DATA\r\r>');
    expect(h.send('0100')).toBe('NO DATA\r\r>');
    expect(h.send('ATRV')).toBe('12.4V\r\r>');
    h.setState({ ignition: true });
    expect(h.send('010D')).toBe('41 0D 32 \r\r>');
  });

  it('cannot connect on auto with the ignition off', () => {
    const h = harness({}, fixedState({ ignition: false }));
    h.send('ATE0');
    expect(h.send('010D')).toBe('SEARCHING...\rUNABLE TO CONNECT\r\r>');
    expect(h.send('ATDPN')).toBe('A0\r\r>');
  });
});

describe('Elm327Emulator: services 03, 04, 09', () => {
  it('reads the VIN as ISO-TP frames with headers on', () => {
    const h = ready();
    h.send('ATH1');
    const frames = lines(h.send('0902')).map((l) => l.trim().split(' '));
    expect(frames).toHaveLength(3);
    for (const f of frames) {
      expect(f[0]).toBe('7E8');
      expect(f).toHaveLength(9); // id + 8 CAN data bytes
    }
    const data = frames.map((f) => f.slice(1).map((b) => Number.parseInt(b, 16)));
    expect(data[0]!.slice(0, 2)).toEqual([0x10, 20]); // first frame, 20 bytes
    expect(data[1]![0]).toBe(0x21);
    expect(data[2]![0]).toBe(0x22);
    const payload = [...data[0]!.slice(2), ...data[1]!.slice(1), ...data[2]!.slice(1)].slice(0, 20);
    expect(payload.slice(0, 3)).toEqual([0x49, 0x02, 0x01]);
    expect(String.fromCharCode(...payload.slice(3))).toBe(VIN);
  });

  it('reads the VIN with numbered lines with headers off', () => {
    const h = ready();
    const l = lines(h.send('0902'));
    expect(l[0]).toBe('014');
    expect(l[1]).toMatch(/^0: 49 02 01 /);
    expect(l[2]).toMatch(/^1: /);
    expect(l[3]).toMatch(/^2: /);
    const payload = l
      .slice(1)
      .flatMap((x) => hexBytes(x.slice(2)))
      .slice(0, 0x14);
    expect(String.fromCharCode(...payload.slice(3))).toBe(VIN);
    expect(mode01(h.send('0900').replace('49', '41'))).toEqual([0x00, 0x40, 0x00, 0x00, 0x00]);
  });

  it('reports no stored DTCs, or the configured ones, and clears them', () => {
    expect(ready().send('03')).toBe('43 00 \r\r>');
    const h = ready({ dtcs: ['P0133', 'U0100'] });
    expect(h.send('03')).toBe('43 02 01 33 C1 00 \r\r>');
    expect(h.send('04')).toBe('44 \r\r>');
    expect(h.send('03')).toBe('43 00 \r\r>');
    expect(h.send('07')).toBe('47 00 \r\r>');
  });

  it('is silent for services it does not implement', () => {
    expect(ready().send('0800')).toBe('NO DATA\r\r>');
  });
});

describe('Elm327Emulator: line discipline', () => {
  it('repeats the last command on a bare CR', () => {
    const h = harness();
    h.send('ATSP6');
    expect(h.send('010D')).toBe('010D\r41 0D 32 \r\r>');
    expect(h.send('')).toBe('\r41 0D 32 \r\r>');
    expect(h.send('  ')).toBe('  \r41 0D 32 \r\r>');
  });

  it('ignores bytes outside printable ASCII, LF included', () => {
    const h = ready();
    h.take();
    h.emu.receive(Uint8Array.from([0x00, 0xff, 0x80, 0x41, 0x54, 0x09, 0x49, 0x0d, 0x0a]));
    expect(h.take()).toBe('ELM327 v1.5\r\r>');
  });

  it('assembles commands split over several chunks', () => {
    const h = ready();
    h.take();
    h.emu.receive('01');
    h.emu.receive('0');
    expect(h.take()).toBe('');
    h.emu.receive('D\r');
    expect(h.take()).toBe('41 0D 32 \r\r>');
  });

  it('answers pipelined commands of one chunk in order', () => {
    const h = ready();
    h.take();
    h.emu.receive('ATI\r010D\r');
    expect(h.take()).toBe('ELM327 v1.5\r\r>41 0D 32 \r\r>');
  });
});

describe('Elm327Emulator: timing', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('delays ATZ and each answer, and skips the final wait with a reply count', async () => {
    vi.useFakeTimers();
    const h = harness({ latencyMs: 30, resetDelayMs: 500, searchDelayMs: 300 });
    expect(h.send('ATZ')).toBe('ATZ\r');
    await vi.advanceTimersByTimeAsync(499);
    expect(h.take()).toBe('');
    await vi.advanceTimersByTimeAsync(1);
    expect(h.take()).toBe('\r\rELM327 v1.5\r\r>');

    h.send('ATE0');
    await vi.advanceTimersByTimeAsync(30);
    expect(h.take()).toBe('OK\r\r>');

    // First request: searching, then latency, then the adaptive wait for more ECUs (2 x 30 ms).
    expect(h.send('010D')).toBe('SEARCHING...\r');
    await vi.advanceTimersByTimeAsync(329);
    expect(h.take()).toBe('');
    await vi.advanceTimersByTimeAsync(1);
    expect(h.take()).toBe('41 0D 32 \r');
    await vi.advanceTimersByTimeAsync(59);
    expect(h.take()).toBe('');
    await vi.advanceTimersByTimeAsync(1);
    expect(h.take()).toBe('\r>');

    // With the expected reply count the prompt follows the answer at once.
    h.send('010D1');
    await vi.advanceTimersByTimeAsync(30);
    expect(h.take()).toBe('41 0D 32 \r\r>');

    // Adaptive timing off: the full ATST timeout (0x32 x 4.096 ms) after the answer.
    h.send('ATAT0');
    await vi.advanceTimersByTimeAsync(30);
    h.take();
    h.send('010D');
    await vi.advanceTimersByTimeAsync(30);
    expect(h.take()).toBe('41 0D 32 \r');
    await vi.advanceTimersByTimeAsync(204);
    expect(h.take()).toBe('');
    await vi.advanceTimersByTimeAsync(1);
    expect(h.take()).toBe('\r>');
  });

  it('reads the vehicle when the bus answers, not when the command arrives', async () => {
    vi.useFakeTimers();
    const h = harness({ latencyMs: 30 });
    h.send('ATE0');
    h.send('ATSP6');
    await vi.advanceTimersByTimeAsync(100);
    h.take();
    h.send('010D1');
    h.setState({ speedKmh: 12 });
    await vi.advanceTimersByTimeAsync(30);
    expect(h.take()).toBe('41 0D 0C \r\r>');
  });

  it('prints STOPPED when the host sends before the prompt, then carries on', async () => {
    vi.useFakeTimers();
    const h = harness({ latencyMs: 30 });
    h.send('ATE0');
    h.send('ATSP6');
    await vi.advanceTimersByTimeAsync(100);
    h.take();
    h.send('010D');
    await vi.advanceTimersByTimeAsync(10);
    h.emu.receive('X'); // consumed by the interruption
    expect(h.take()).toBe('STOPPED\r\r>');
    await vi.advanceTimersByTimeAsync(100);
    expect(h.take()).toBe('');
    h.send('010D1');
    await vi.advanceTimersByTimeAsync(30);
    expect(h.take()).toBe('41 0D 32 \r\r>');
  });

  it('stops answering after close()', async () => {
    vi.useFakeTimers();
    const h = harness({ latencyMs: 30 });
    h.send('ATI');
    h.emu.close();
    await vi.advanceTimersByTimeAsync(100);
    expect(h.take()).toBe('');
    h.emu.receive('ATI\r');
    expect(h.take()).toBe('');
  });
});
