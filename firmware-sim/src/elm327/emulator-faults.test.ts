import { afterEach, describe, expect, it, vi } from 'vitest';
import { elmHarness, replyLines } from '../testing/elm-harness.ts';
import { ELM_ERROR_ANSWERS } from './faults.ts';

afterEach(() => {
  vi.useRealTimers();
});

function ready(options: Parameters<typeof elmHarness>[0] = {}) {
  const h = elmHarness(options);
  h.send('ATE0');
  h.send('ATSP6');
  return h;
}

describe('Elm327Emulator: error injection', () => {
  it('produces each error answer once, in the form a real adapter prints it, then answers again', () => {
    const h = ready();
    const expected: Record<(typeof ELM_ERROR_ANSWERS)[number], string[]> = {
      'NO DATA': ['NO DATA'],
      '?': ['?'],
      'CAN ERROR': ['CAN ERROR'],
      'BUS INIT: ...ERROR': ['BUS INIT: ...ERROR'],
      'UNABLE TO CONNECT': ['UNABLE TO CONNECT'],
      STOPPED: ['STOPPED'],
      'BUFFER FULL': ['41 0C 1A F8 ', 'BUFFER FULL'],
      '<DATA ERROR': ['41 0C 1A F8 <DATA ERROR'],
      '<RX ERROR': ['41 0C <RX ERROR'],
      'FB ERROR': ['FB ERROR'],
      'SEARCHING...': ['SEARCHING...', '41 0C 1A F8 '],
    };
    for (const answer of ELM_ERROR_ANSWERS) {
      h.emu.injectAnswer(answer);
      expect(replyLines(h.send('010C')), answer).toEqual(expected[answer]);
      expect(h.send('010C'), `after ${answer}`).toBe('41 0C 1A F8 \r\r>');
    }
  });

  it('injects an answer for the next N requests only, AT commands untouched', () => {
    const h = ready();
    h.emu.injectAnswer('CAN ERROR', 2);
    expect(h.send('ATI')).toBe('ELM327 v1.5\r\r>');
    expect(h.send('010D')).toBe('CAN ERROR\r\r>');
    expect(h.send('010C')).toBe('CAN ERROR\r\r>');
    expect(h.send('010D')).toBe('41 0D 32 \r\r>');
  });

  it('draws seeded random errors at the configured rates', () => {
    const run = (seed: number): string[] => {
      const h = ready({ faults: { rates: { 'NO DATA': 0.1, '<RX ERROR': 0.05 }, seed } });
      return Array.from({ length: 2000 }, () => h.send('010D'));
    };
    const a = run(3);
    expect(run(3)).toEqual(a);
    expect(run(4)).not.toEqual(a);
    const noData = a.filter((r) => r === 'NO DATA\r\r>').length;
    const rx = a.filter((r) => r.includes('<RX ERROR')).length;
    expect(noData).toBeGreaterThan(140);
    expect(noData).toBeLessThan(260);
    expect(rx).toBeGreaterThan(60);
    expect(rx).toBeLessThan(140);
    expect(a.filter((r) => r === '41 0D 32 \r\r>').length).toBe(2000 - noData - rx);
  });

  it('prints garbage after a power glitch, then its banner, with settings back to defaults', () => {
    const h = ready();
    h.send('ATH1');
    h.emu.powerGlitch(Uint8Array.from([0x00, 0xff, 0x8c]));
    expect([...Buffer.from(h.take(), 'latin1')]).toEqual([
      0x00,
      0xff,
      0x8c,
      ...Buffer.from('\r\rELM327 v1.5\r\r>', 'latin1'),
    ]);
    expect(h.send('ATI')).toBe('ATI\rELM327 v1.5\r\r>'); // echo is back on
    expect(h.emu.currentSettings).toMatchObject({ echo: true, headers: false });
    h.emu.powerGlitch();
    const junk = h.take();
    expect(junk.endsWith('\r\rELM327 v1.5\r\r>')).toBe(true);
    expect(junk.length).toBeGreaterThan('\r\rELM327 v1.5\r\r>'.length);
  });

  it('says nothing at all while unplugged, and powers up with its banner when plugged in', () => {
    const h = ready();
    h.emu.unplug();
    expect(h.emu.plugged).toBe(false);
    expect(h.send('ATI')).toBe('');
    expect(h.send('010D')).toBe('');
    h.emu.plugIn();
    expect(h.take()).toBe('\r\rELM327 v1.5\r\r>');
    expect(h.send('ATI')).toBe('ATI\rELM327 v1.5\r\r>');
  });

  it('drops a request in progress when unplugged', async () => {
    vi.useFakeTimers();
    const h = ready({ latencyMs: 30 });
    await vi.advanceTimersByTimeAsync(200);
    h.take();
    h.send('010D');
    await vi.advanceTimersByTimeAsync(10);
    h.emu.unplug();
    await vi.advanceTimersByTimeAsync(1000);
    expect(h.take()).toBe('');
  });
});

describe('Elm327Emulator: timing', () => {
  /** Wall time (fake ms) from sending a command to its prompt. */
  async function timeTo(h: ReturnType<typeof elmHarness>, cmd: string): Promise<number> {
    h.take();
    const start = Date.now();
    h.emu.receive(`${cmd}\r`);
    let out = '';
    for (let i = 0; i < 20_000 && !out.endsWith('>'); i++) {
      await vi.advanceTimersByTimeAsync(1);
      out += h.take();
    }
    return Date.now() - start;
  }

  it('makes the reply count measurable: 010D1 skips the wait for more ECUs', async () => {
    vi.useFakeTimers();
    const h = elmHarness({ latencyMs: 30 });
    await timeTo(h, 'ATE0');
    await timeTo(h, 'ATSP6');
    expect(await timeTo(h, '010D')).toBe(30 + 60); // adaptive timing ATAT1: 2 x latency
    expect(await timeTo(h, '010D1')).toBe(30);
    await timeTo(h, 'ATAT0');
    expect(await timeTo(h, '010D')).toBe(30 + 205); // the full ATST timeout
    await timeTo(h, 'ATST19');
    expect(await timeTo(h, '010D')).toBe(30 + 102);
  });

  it('is slower on the K-line: 5-baud init once, then bus time per request', async () => {
    vi.useFakeTimers();
    const can = elmHarness({ latencyMs: 30 });
    const kline = elmHarness({ latencyMs: 30, protocol: 'iso9141' });
    for (const h of [can, kline]) {
      await timeTo(h, 'ATE0');
      await timeTo(h, h === can ? 'ATSP6' : 'ATSP3');
    }
    expect(await timeTo(kline, '010D1')).toBeGreaterThan(2600);
    const canMs = await timeTo(can, '010D1');
    const klineMs = await timeTo(kline, '010D1');
    expect(canMs).toBe(30);
    // 10.4 kbaud bytes, P2 and P3: ~100 ms more a request.
    expect(klineMs).toBeGreaterThanOrEqual(canMs + 90);
    expect(klineMs).toBeLessThan(canMs + 130);
  });

  it('is ten times quicker as an STN adapter, and slower on a slow serial line', async () => {
    vi.useFakeTimers();
    const stn = elmHarness({ adapter: 'stn', latencyMs: undefined, resetDelayMs: undefined });
    expect(await timeTo(stn, 'ATZ')).toBe(200);
    await timeTo(stn, 'ATE0');
    await timeTo(stn, 'ATSP6');
    expect(await timeTo(stn, '010D1')).toBe(3);
    const slow = elmHarness({ latencyMs: 30, baudRate: 9600 });
    await timeTo(slow, 'ATE0');
    await timeTo(slow, 'ATSP6');
    // "41 0D 32 \r": 10 characters of 10 bits at 9600 baud, 10 ms on the wire.
    expect(await timeTo(slow, '010D1')).toBe(30 + 10);
  });
});
