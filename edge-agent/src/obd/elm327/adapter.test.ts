import { createLogger } from '@fleet/shared/log';
import { mulberry32 } from '@fleet/shared/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Elm327Emulator } from '../../../../firmware-sim/src/elm327/emulator.ts';
import { createEndpointPair } from '../../../../firmware-sim/src/transport/memory.ts';
import { VehicleModel } from '../../../../firmware-sim/src/vehicle/model.ts';
import { AgentError, AgentErrorCode, isAgentError } from '../../errors.ts';
import type { ByteStream } from '../../transport/byte-stream.ts';
import { ObdPoller } from '../obd-poller.ts';
import { PIDS, parseMode01Line } from '../pids.ts';
import { Elm327Adapter } from './adapter.ts';

const log = createLogger('test');

/** What the scripted chip does with one command: answer (in chunks, after delays) or stay silent. */
interface ScriptedReply {
  /** Everything the chip prints, prompt included. */
  text: string;
  /** [1...], default: all at once. */
  chunkSize?: number;
  /** Delay before each chunk, default 1 ms. */
  delayMs?: number;
}

/**
 * An in-memory ELM327 stand-in implementing ByteStream. It records every command and flags any
 * command that arrives before the previous answer's `>` was sent (the ELM327 data sheet: a
 * character received while busy aborts the current operation).
 */
class ScriptedElm327 implements ByteStream {
  readonly name = 'scripted-elm327';
  readonly commands: string[] = [];
  readonly raw: string[] = [];
  readonly earlyCommands: string[] = [];
  private readonly dataListeners: ((chunk: Buffer) => void)[] = [];
  private readonly closeListeners: ((err?: Error) => void)[] = [];
  private busy = false;
  closed = false;

  constructor(private readonly script: (command: string) => ScriptedReply | null) {}

  async write(data: Buffer | string): Promise<void> {
    if (this.closed) throw new Error('port closed');
    const text = data.toString();
    this.raw.push(text);
    for (const command of text.split('\r').filter((c) => c.length > 0)) {
      this.commands.push(command);
      if (this.busy) this.earlyCommands.push(command);
      const reply = this.script(command);
      if (reply === null) continue; // lost on the wire: the chip never answers
      this.busy = true;
      this.play(reply);
    }
  }

  /** Bytes the chip sends by itself (e.g. after a power glitch). */
  emit(text: string | Uint8Array): void {
    const chunk = typeof text === 'string' ? Buffer.from(text, 'latin1') : Buffer.from(text);
    for (const l of this.dataListeners) l(chunk);
  }

  private play({ text, chunkSize = text.length, delayMs = 1 }: ScriptedReply) {
    const chunks: string[] = [];
    for (let i = 0; i < text.length; i += chunkSize) chunks.push(text.slice(i, i + chunkSize));
    let at = 0;
    for (const chunk of chunks) {
      at += delayMs;
      setTimeout(() => {
        if (chunk.includes('>')) this.busy = false;
        this.emit(chunk);
      }, at);
    }
  }

  onData(listener: (chunk: Buffer) => void): void {
    this.dataListeners.push(listener);
  }

  onClose(listener: (err?: Error) => void): void {
    this.closeListeners.push(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const l of this.closeListeners) l();
  }
}

/** Answer `text` with echo on, like a chip after ATZ: echo, CR, the lines, an empty line, prompt. */
const withEcho = (command: string, ...lines: string[]) =>
  `${command}\r${lines.map((l) => `${l}\r`).join('')}\r>`;

/** Rejection of `promise`, asserting it is an AgentError. */
async function agentErrorOf(promise: Promise<unknown>): Promise<AgentError> {
  const err = await promise.then(
    (value: unknown) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AgentError);
  return err as AgentError;
}

describe('Elm327Adapter against a scripted chip', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('writes the command with CR and resolves with its lines, echo and SEARCHING... removed', async () => {
    const chip = new ScriptedElm327((cmd) => ({ text: withEcho(cmd, 'SEARCHING...', '41 00 BE 3E B8 11 ') }));
    const adapter = new Elm327Adapter(chip, log);
    await expect(adapter.send('0100')).resolves.toEqual(['41 00 BE 3E B8 11']);
    expect(chip.raw).toEqual(['0100\r']);
  });

  it('sends the next command only after the previous prompt, even when the prompt comes late', async () => {
    vi.useFakeTimers();
    // The answer text arrives at once, the prompt 50 ms later (e.g. adaptive timing waiting for
    // more ECUs, ELM327 data sheet "Adaptive Timing").
    const chip = new ScriptedElm327((cmd) => ({
      text: `41 ${cmd.slice(2)} 00 \r\r>`,
      chunkSize: 11,
      delayMs: 50,
    }));
    const adapter = new Elm327Adapter(chip, log);
    const first = adapter.send('010D');
    const second = adapter.send('010C');
    await vi.advanceTimersByTimeAsync(60); // answer text of 010D printed, prompt not yet
    expect(chip.commands).toEqual(['010D']);
    await vi.advanceTimersByTimeAsync(50); // prompt
    await expect(first).resolves.toEqual(['41 0D 00']);
    expect(chip.commands).toEqual(['010D', '010C']);
    await vi.advanceTimersByTimeAsync(200);
    await expect(second).resolves.toEqual(['41 0C 00']);
    expect(chip.earlyCommands).toEqual([]);
  });

  it('keeps order and never overlaps 30 concurrent commands answered in random chunks (seeded)', async () => {
    const rand = mulberry32(0x0e1327);
    const chip = new ScriptedElm327((cmd) => ({
      text: withEcho(cmd, `41 ${cmd.slice(2)} ${cmd.slice(2)} `),
      chunkSize: 1 + Math.floor(rand() * 6),
      delayMs: Math.floor(rand() * 2),
    }));
    const adapter = new Elm327Adapter(chip, log);
    const commands = Array.from(
      { length: 30 },
      (_, i) => `01${(i + 1).toString(16).toUpperCase().padStart(2, '0')}`,
    );
    const answers = await Promise.all(commands.map((c) => adapter.send(c)));
    expect(chip.commands).toEqual(commands);
    expect(chip.earlyCommands).toEqual([]);
    commands.forEach((c, i) => {
      expect(answers[i]).toEqual([`41 ${c.slice(2)} ${c.slice(2)}`]);
    });
  });

  it('rejects NO DATA with ObdNoData', async () => {
    const chip = new ScriptedElm327((cmd) => ({ text: withEcho(cmd, 'NO DATA') }));
    const err = await agentErrorOf(new Elm327Adapter(chip, log).send('0142'));
    expect(err.code).toBe(AgentErrorCode.ObdNoData);
    expect(isAgentError(err, AgentErrorCode.ObdNoData)).toBe(true);
    expect(err.message).toContain('0142');
  });

  // ELM327 data sheet, "Messages and What They Mean": one code each, so a caller can tell a bus
  // hiccup (retry) from a silent vehicle from a command the chip did not know.
  it.each([
    ['?', ['?'], AgentErrorCode.ObdUnknownCommand],
    ['CAN ERROR', ['CAN ERROR'], AgentErrorCode.ObdCanError],
    ['UNABLE TO CONNECT', ['SEARCHING...', 'UNABLE TO CONNECT'], AgentErrorCode.ObdUnableToConnect],
    ['BUFFER FULL', ['41 0C 1A F8', 'BUFFER FULL'], AgentErrorCode.ObdBufferFull],
    ['<RX ERROR', ['41 0C 1A <RX ERROR'], AgentErrorCode.ObdRxError],
    ['STOPPED', ['STOPPED'], AgentErrorCode.ObdStopped],
    ['BUS BUSY', ['BUS BUSY'], AgentErrorCode.ObdBusBusy],
    ['BUS ERROR', ['BUS ERROR'], AgentErrorCode.ObdBusError],
    ['FB ERROR', ['FB ERROR'], AgentErrorCode.ObdFeedbackError],
    ['DATA ERROR', ['41 0C 1A F8 DATA ERROR'], AgentErrorCode.ObdDataError],
    ['<DATA ERROR', ['41 0C 1A F8 <DATA ERROR'], AgentErrorCode.ObdDataError],
    ['BUS INIT: ...ERROR', ['BUS INIT: ...ERROR'], AgentErrorCode.ObdBusInitError],
    ['ERR94', ['ERR94'], AgentErrorCode.ObdAdapterError],
    ['LV RESET', ['LV RESET'], AgentErrorCode.ObdAdapterReset],
  ])('rejects %s with its own code', async (error, lines, code) => {
    const chip = new ScriptedElm327((cmd) => ({ text: withEcho(cmd, ...lines) }));
    const err = await agentErrorOf(new Elm327Adapter(chip, log).send('010C', { retries: 0 }));
    expect(err.code).toBe(code);
    expect(err.message).toContain(error);
    expect(err.message).toContain('010C');
  });

  it('repeats a request after a transient error, with a doubling backoff, at most `retries` times', async () => {
    vi.useFakeTimers();
    const answers = ['BUS BUSY', 'CAN ERROR', '<RX ERROR', 'BUFFER FULL', '41 0D 32'];
    const chip = new ScriptedElm327((cmd) => ({ text: withEcho(cmd, answers.shift() ?? 'NO DATA') }));
    const adapter = new Elm327Adapter(chip, log);
    const sent: number[] = [];
    const origWrite = chip.write.bind(chip);
    chip.write = async (data) => {
      sent.push(Date.now());
      return origWrite(data);
    };
    const t0 = Date.now();
    const result = adapter.send('010D', { retries: 4, backoffMs: 100 });
    await vi.advanceTimersByTimeAsync(2000);
    await expect(result).resolves.toEqual(['41 0D 32']);
    expect(chip.commands).toEqual(['010D', '010D', '010D', '010D', '010D']);
    // Answers take 1 ms each; the waits between attempts are 100, 200, 400, 800 ms.
    expect(sent.map((t) => t - t0)).toEqual([0, 101, 302, 703, 1504]);
    expect(adapter.stats.retries).toBe(4);

    // Retries exhausted: the last error is thrown.
    const busy = new ScriptedElm327((cmd) => ({ text: withEcho(cmd, 'BUS BUSY') }));
    const failing = agentErrorOf(new Elm327Adapter(busy, log).send('010D', { retries: 2, backoffMs: 10 }));
    await vi.advanceTimersByTimeAsync(1000);
    expect((await failing).code).toBe(AgentErrorCode.ObdBusBusy);
    expect(busy.commands).toHaveLength(3);
  });

  it('does not repeat NO DATA, ? or AT commands', async () => {
    for (const [cmd, answer] of [
      ['010D', 'NO DATA'],
      ['010D', '?'],
      ['ATSP6', 'CAN ERROR'],
    ] as const) {
      const chip = new ScriptedElm327((c) => ({ text: withEcho(c, answer) }));
      await agentErrorOf(new Elm327Adapter(chip, log).send(cmd));
      expect(chip.commands).toEqual([cmd]);
    }
  });

  it('takes a power-up banner in answer to an OBD request for an adapter reset', async () => {
    const chip = new ScriptedElm327(() => ({ text: '\x00\xff\r\rELM327 v1.5\r\r>' }));
    const err = await agentErrorOf(new Elm327Adapter(chip, log).send('010C'));
    expect(err.code).toBe(AgentErrorCode.ObdAdapterReset);
  });

  it('does not take ordinary answers for errors', async () => {
    const answers: Record<string, string[]> = {
      ATI: ['ELM327 v1.5'],
      ATRV: ['12.4V'],
      ATDP: ['AUTO, ISO 15765-4 (CAN 11/500)'],
      '0902': ['014', '0: 49 02 01 31 53 56', '1: 37 43 45 36 46 36 52', '2: 58 30 36 38 32 35 31'],
    };
    const chip = new ScriptedElm327((cmd) => ({ text: withEcho(cmd, ...(answers[cmd] ?? [])) }));
    const adapter = new Elm327Adapter(chip, log);
    for (const [cmd, lines] of Object.entries(answers))
      await expect(adapter.send(cmd)).resolves.toEqual(lines);
  });

  it('times out with ObdTimeout when no prompt comes, and the queue carries on', async () => {
    vi.useFakeTimers();
    const chip = new ScriptedElm327((cmd) =>
      cmd === '010C' ? null : { text: withEcho(cmd, cmd === 'ATI' ? 'ELM327 v1.5' : 'OK') },
    );
    const adapter = new Elm327Adapter(chip, log);
    const lost = adapter.send('010C', 300);
    const next = adapter.send('ATE0');
    const settled = vi.fn();
    lost.catch(settled);
    await vi.advanceTimersByTimeAsync(299);
    expect(settled).not.toHaveBeenCalled();
    expect(chip.commands).toEqual(['010C']);
    await vi.advanceTimersByTimeAsync(1);
    const err = await agentErrorOf(lost);
    expect(err.code).toBe(AgentErrorCode.ObdTimeout);
    expect(err.message).toMatch(/300 ms after 010C/);
    // Before ATE0 goes out the adapter waits for a late answer (300 ms drain), then finds its
    // prompt again with the identity probe.
    await vi.advanceTimersByTimeAsync(400);
    await expect(next).resolves.toEqual(['OK']);
    expect(chip.commands).toEqual(['010C', 'ATI', 'ATE0']);
    expect(adapter.stats).toMatchObject({ timeouts: 1, resyncs: 1 });
  });

  it('discards a half-received answer on timeout', async () => {
    vi.useFakeTimers();
    let n = 0;
    // First answer: the text without its prompt (the adapter is unplugged mid-answer); later: OK.
    const chip = new ScriptedElm327((cmd) =>
      n++ === 0 ? { text: '41 0C 1A' } : { text: withEcho(cmd, cmd === 'ATI' ? 'ELM327 v1.5' : 'OK') },
    );
    const adapter = new Elm327Adapter(chip, log);
    const lost = adapter.send('010C', 100).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(100);
    expect(isAgentError(await lost, AgentErrorCode.ObdTimeout)).toBe(true);
    expect(adapter.parser.pending).toBe(0);
    const next = adapter.send('ATE0');
    await vi.advanceTimersByTimeAsync(400);
    await expect(next).resolves.toEqual(['OK']);
  });

  it('never hands a late answer to the next command: it is drained, then the prompt is found again', async () => {
    vi.useFakeTimers();
    // 010C is answered 500 ms late (after its 200 ms timeout), while 010D waits in the queue.
    const chip = new ScriptedElm327((cmd) => {
      if (cmd === '010C') return { text: withEcho(cmd, '41 0C 1A F8'), delayMs: 500 };
      if (cmd === 'ATI') return { text: withEcho(cmd, 'ELM327 v1.5') };
      return { text: withEcho(cmd, '41 0D 32') };
    });
    const adapter = new Elm327Adapter(chip, log, { resyncDrainMs: 100 });
    const late = adapter.send('010C', 200).catch((e: unknown) => e);
    const next = adapter.send('010D');
    await vi.advanceTimersByTimeAsync(2000);
    expect(isAgentError(await late, AgentErrorCode.ObdTimeout)).toBe(true);
    await expect(next).resolves.toEqual(['41 0D 32']);
    // Drain found nothing within 100 ms, so the probe went out while the chip was still busy
    // (a real chip would print STOPPED); the late answer arrived first and was dropped.
    expect(chip.commands).toEqual(['010C', 'ATI', '010D']);
    expect(adapter.stats.strayResponses).toBeGreaterThanOrEqual(1);
  });

  it('gives up with ObdTimeout when the adapter stays mute after a timeout', async () => {
    vi.useFakeTimers();
    const chip = new ScriptedElm327(() => null);
    const adapter = new Elm327Adapter(chip, log, { resyncProbeTimeoutMs: 100 });
    const first = agentErrorOf(adapter.send('010C', 100));
    const second = agentErrorOf(adapter.send('010D'));
    await vi.advanceTimersByTimeAsync(2000);
    expect((await first).code).toBe(AgentErrorCode.ObdTimeout);
    const err = await second;
    expect(err.code).toBe(AgentErrorCode.ObdTimeout);
    expect(err.message).toMatch(/stopped answering/);
    expect(chip.commands).toEqual(['010C', 'ATI', 'ATI', 'ATI']);
  });

  it('rejects the command in flight at once when the port closes (unplugged adapter)', async () => {
    const chip = new ScriptedElm327(() => null);
    const adapter = new Elm327Adapter(chip, log);
    const pending = agentErrorOf(adapter.send('010C', 60_000));
    await new Promise((r) => setTimeout(r, 5));
    await chip.close();
    expect((await pending).code).toBe(AgentErrorCode.PortClosed);
    expect(adapter.closed).toBe(true);
    expect((await agentErrorOf(adapter.send('ATI'))).code).toBe(AgentErrorCode.PortClosed);
  });

  it('rejects with PortClosed when the stream cannot be written', async () => {
    const chip = new ScriptedElm327((cmd) => ({ text: withEcho(cmd, 'OK') }));
    await chip.close();
    const err = await agentErrorOf(new Elm327Adapter(chip, log).send('ATZ'));
    expect(err.code).toBe(AgentErrorCode.PortClosed);
    expect(err.message).toContain('scripted-elm327');
  });

  it('drops output nobody asked for instead of handing it to the next command', async () => {
    const chip = new ScriptedElm327((cmd) => ({ text: withEcho(cmd, '12.6V') }));
    const adapter = new Elm327Adapter(chip, log);
    chip.emit(Uint8Array.from([0x00, 0xff, ...Buffer.from('\r\rELM327 v1.5\r\r>')])); // power glitch + reset banner
    await expect(adapter.send('ATRV')).resolves.toEqual(['12.6V']);
    expect(adapter.parser.stats.junkBytes).toBe(2);
  });
});

/**
 * A ByteStream over the host side of firmware-sim's in-memory endpoint pair, with the emulator
 * on the device side: the same bytes a pty would carry.
 */
function emulatedAdapter(options: { resetDelayMs?: number; latencyMs?: number } = {}) {
  const model = new VehicleModel({ seed: 7, startTimeMs: Date.UTC(2024, 4, 1, 8) });
  // Drive until the vehicle is moving, so speed and rpm are not the trivial 0 (bounded loop).
  for (let i = 0; i < 600 && model.state().speedKmh < 20; i++) model.step();
  const [device, host] = createEndpointPair();
  const emulator = new Elm327Emulator({
    vehicle: model,
    vin: '1SV7CE6F6RX068251',
    write: (bytes) => device.write(bytes),
    latencyMs: options.latencyMs ?? 2,
    resetDelayMs: options.resetDelayMs ?? 20,
    searchDelayMs: 10,
    logger: log,
  });
  device.onData((bytes) => emulator.receive(bytes));
  const closeListeners: ((err?: Error) => void)[] = [];
  let closed = false;
  const stream: ByteStream = {
    name: 'memory:elm327-emulator',
    async write(data) {
      if (closed) throw new Error('stream closed');
      host.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
    },
    onData(listener) {
      host.onData((bytes) => listener(Buffer.from(bytes)));
    },
    onClose(listener) {
      closeListeners.push(listener);
    },
    async close() {
      if (closed) return;
      closed = true;
      await host.close();
      for (const l of closeListeners) l();
    },
  };
  const cleanup = async () => {
    emulator.close();
    await stream.close();
    await device.close();
  };
  return { model, emulator, stream, cleanup };
}

/** PID 0D/0C/2F/05 values the ECU must report for a vehicle state, by the J1979 encodings. */
function expectedReadings(s: ReturnType<VehicleModel['state']>) {
  const byte = (v: number) => Math.min(255, Math.max(0, Math.round(v)));
  return {
    speedKmh: byte(s.speedKmh), // A = speed, km/h
    rpm: Math.min(0xffff, Math.round(s.rpm * 4)) / 4, // (256A + B) / 4
    fuelLevelPct: (100 * byte((s.fuelLevelPct * 255) / 100)) / 255, // 100A / 255
    coolantC: byte(s.coolantC + 40) - 40, // A - 40
    odometerKm: Math.round(s.odometerKm * 10) / 10, // A6: 32 bits of 0.1 km
  };
}

describe('Elm327Adapter against firmware-sim’s ELM327 emulator', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  it('initialises like ObdPoller and reads 010D, 010C, 012F, 0105 matching the vehicle model', async () => {
    const sim = emulatedAdapter();
    cleanups.push(sim.cleanup);
    const adapter = new Elm327Adapter(sim.stream, log);

    expect(await adapter.send('ATZ', 1500)).toEqual(['ELM327 v1.5']); // echo of ATZ removed
    for (const cmd of ['ATE0', 'ATL0', 'ATS0', 'ATH0', 'ATSP0'])
      expect(await adapter.send(cmd)).toEqual(['OK']);
    expect(sim.emulator.currentSettings).toMatchObject({
      echo: false,
      linefeeds: false,
      spaces: false,
      headers: false,
    });

    // 0100 runs the protocol search; its bitmap must announce the PIDs we poll: PID n of
    // 01..20 is bit (32 - n) of A..D (SAE J1979, "PIDs supported").
    const support = await adapter.send('0100', 10_000);
    expect(support).toHaveLength(1);
    const bitmap = parseMode01Line(support[0]!, 0x00);
    expect(bitmap).toHaveLength(4);
    const bits = ((bitmap![0]! << 24) | (bitmap![1]! << 16) | (bitmap![2]! << 8) | bitmap![3]!) >>> 0;
    for (const pid of [0x05, 0x0c, 0x0d, 0x20]) expect((bits >>> (32 - pid)) & 1, `PID ${pid}`).toBe(1);

    const state = sim.model.state();
    expect(state.speedKmh).toBeGreaterThan(0);
    const want = expectedReadings(state);

    const speed = await adapter.send('010D');
    const rpm = await adapter.send('010C');
    const fuel = await adapter.send('012F');
    const coolant = await adapter.send('0105');
    // Spaces off (ATS0): "410D2A", one line each.
    expect(speed).toHaveLength(1);
    expect(speed[0]).toMatch(/^410D[0-9A-F]{2}$/);
    expect(rpm[0]).toMatch(/^410C[0-9A-F]{4}$/);

    const decode = (lines: string[], def: (typeof PIDS)[keyof typeof PIDS]) => {
      const data = parseMode01Line(lines[0]!, def.pid);
      expect(data).toHaveLength(def.bytes);
      return def.decode(data!);
    };
    expect(decode(speed, PIDS.speedKmh)).toBe(want.speedKmh);
    expect(decode(rpm, PIDS.rpm)).toBe(want.rpm);
    expect(decode(fuel, PIDS.fuelLevelPct)).toBeCloseTo(want.fuelLevelPct, 9);
    expect(decode(coolant, PIDS.coolantC)).toBe(want.coolantC);
  });

  it('maps the emulator’s NO DATA (ignition off) and ? to typed errors', async () => {
    const sim = emulatedAdapter();
    cleanups.push(sim.cleanup);
    const adapter = new Elm327Adapter(sim.stream, log);
    await adapter.send('ATE0');
    await adapter.send('ATSP6');
    expect(isAgentError(await adapter.send('ATXYZ').catch((e) => e), AgentErrorCode.ObdUnknownCommand)).toBe(
      true,
    );
    expect(isAgentError(await adapter.send('01C0').catch((e) => e), AgentErrorCode.ObdNoData)).toBe(true);
    sim.model.setIgnition(false);
    expect(isAgentError(await adapter.send('010D').catch((e) => e), AgentErrorCode.ObdNoData)).toBe(true);
    // ATSP8: a CAN protocol the vehicle does not speak.
    await adapter.send('ATSP8');
    sim.model.setIgnition(true);
    expect(isAgentError(await adapter.send('010D').catch((e) => e), AgentErrorCode.ObdCanError)).toBe(true);
  });

  it('runs ObdPoller end to end and tracks the vehicle model', async () => {
    const sim = emulatedAdapter();
    cleanups.push(sim.cleanup);
    const poller = new ObdPoller(async () => sim.stream, log, 0, 100, { slowPeriodMs: 50 });
    const running = poller.run();
    cleanups.push(async () => {
      await poller.stop();
      await running;
    });

    await vi.waitFor(
      () => {
        expect(poller.state).toBe('polling');
        expect(poller.latest).toEqual(expectedReadings(sim.model.state()));
      },
      { timeout: 5000, interval: 20 },
    );

    // The vehicle moves on: the poller follows within a few cycles.
    const before = sim.model.state();
    for (let i = 0; i < 30 && sim.model.state().rpm === before.rpm; i++) sim.model.step();
    expect(sim.model.state().rpm).not.toBe(before.rpm);
    await vi.waitFor(() => expect(poller.latest).toEqual(expectedReadings(sim.model.state())), {
      timeout: 5000,
      interval: 20,
    });

    await poller.stop();
    await expect(running).resolves.toBeUndefined();
  });

  // adapter.ts header: "The ELM327 must not receive a command before it printed its prompt".
  // After a timeout the late answer of the timed-out command (with its `>`) must not resolve the
  // next command's send(). Here ATZ takes longer than its timeout (slow clones do).
  it('gives each command its own answer after a timed-out ATZ', async () => {
    const sim = emulatedAdapter({ resetDelayMs: 150 });
    cleanups.push(sim.cleanup);
    const adapter = new Elm327Adapter(sim.stream, log);
    // Queued back to back, as ObdPoller does (ATZ retry, then ATE0 ...).
    const reset = adapter.send('ATZ', 100).catch((e: unknown) => e);
    const battery = adapter.send('ATRV');
    expect(isAgentError(await reset, AgentErrorCode.ObdTimeout)).toBe(true);
    expect(await battery).toEqual([`${sim.model.state().batteryV.toFixed(1)}V`]);
  });
});
