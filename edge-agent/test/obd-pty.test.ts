/**
 * The OBD stack against firmware-sim's ELM327 emulator over real ptys (socat): initialisation,
 * discovery, multi-PID polling with the reply count, VIN, error answers, a late answer after a
 * timeout, unplug/replug and ignition off.
 */
import { createLogger } from '@fleet/shared/log';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AgentErrorCode } from '../src/errors.ts';
import { ObdPoller } from '../src/obd/obd-poller.ts';
import { ObdSession } from '../src/obd/obd-session.ts';
import { openSerial } from '../src/transport/serial.ts';
import {
  expectedReadings,
  SimulatedAdapter,
  startPoller,
  waitForModelReadings,
} from './support/simulated-adapter.ts';

const log = createLogger('obd-pty-test');
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function simulated(options: Parameters<typeof SimulatedAdapter.start>[0] = {}) {
  const sim = await SimulatedAdapter.start(options);
  cleanups.push(() => sim.close());
  return sim;
}

async function session(sim: SimulatedAdapter, extra: Partial<Parameters<typeof ObdSession.open>[0]> = {}) {
  const s = await ObdSession.open({ open: (baud) => openSerial(sim.hostPath, baud), log, ...extra });
  cleanups.push(() => s.close());
  return s;
}

describe('ObdSession over a pty', () => {
  it('initialises, finds CAN 11/500, discovers the PIDs, reads the VIN and the voltage', async () => {
    const sim = await simulated();
    const s = await session(sim);
    expect(sim.requests.slice(0, 6)).toEqual(['ATZ', 'ATE0', 'ATL0', 'ATS0', 'ATH1', 'ATAT1']);
    expect(s.identity).toMatchObject({ description: 'ELM327 v1.5', chip: 'ELM327', replyCount: true });
    expect(await s.connectVehicle()).toMatchObject({ number: 6, format: 'can11' });
    const support = await s.discoverSupportedPids();
    expect([...support.keys()]).toEqual(['7E8']);
    const pids = s.supportedPids();
    for (const pid of [0x04, 0x05, 0x0c, 0x0d, 0x0f, 0x10, 0x11, 0x1f, 0x2f, 0x46, 0x51, 0x5e, 0xa6]) {
      expect(pids.has(pid), pid.toString(16)).toBe(true);
    }
    // Discovery walked 00, 20, 40, 60, 80, A0 (A6 is supported) and stopped at C0.
    expect(sim.requests.filter((r) => /^01[0-9A-F]{2}$/.test(r))).toEqual([
      '0100',
      '0100',
      '0120',
      '0140',
      '0160',
      '0180',
      '01A0',
    ]);
    expect(await s.readVin()).toEqual({
      ecu: '7E8',
      vin: '1SV7CE6F6RX068251',
      valid: true,
      problems: [],
      checkDigitValid: true,
    });
    expect(await s.readVoltage()).toBeCloseTo(sim.model.state().batteryV, 1);
  });

  it('reads six PIDs per request with the reply-count digit, matching the vehicle model', async () => {
    const sim = await simulated();
    const s = await session(sim);
    await s.connectVehicle();
    await s.discoverSupportedPids();
    const readings = await s.readPids([0x0c, 0x0d, 0x2f, 0x05, 0x11, 0x04, 0xa6, 0x1f]);
    // 41 0C ab 0D a 2F a 05 a 11 a 04 a = 14 bytes -> 3 frames; 41 A6 abcd 1F ab = 9 -> 2 frames.
    expect(sim.requests.slice(-2)).toEqual(['010C0D2F0511043', '01A61F2']);
    const value = (pid: number) => readings.find((r) => r.pid === pid)?.value;
    const want = expectedReadings(sim.model.state());
    expect(value(0x0d)).toBe(want.speedKmh);
    expect(value(0x0c)).toBe(want.rpm);
    expect(value(0x2f)).toBeCloseTo(want.fuelLevelPct, 9);
    expect(value(0x05)).toBe(want.coolantC);
    expect(value(0xa6)).toBeCloseTo(Math.round(sim.model.state().odometerKm * 10) / 10, 6);
    expect(s.stats.frames.badFrames).toBe(0);
  });

  it('retries transient error answers and types the ones that persist', async () => {
    const sim = await simulated();
    const s = await session(sim);
    await s.connectVehicle();
    await s.discoverSupportedPids();

    sim.inject('BUS BUSY');
    sim.inject('7E803410D <RX ERROR');
    const readings = await s.readPids([0x0d]);
    expect(readings.map((r) => r.pid)).toEqual([0x0d]);
    expect(sim.requests.slice(-3)).toEqual(['010D1', '010D1', '010D1']);

    sim.inject('CAN ERROR', 3);
    await expect(s.request('010D')).rejects.toMatchObject({ code: AgentErrorCode.ObdCanError });
    // Transient ones are asked 3 times (2 retries), the others once.
    for (const [answer, code, times] of [
      ['?', AgentErrorCode.ObdUnknownCommand, 1],
      ['NO DATA', AgentErrorCode.ObdNoData, 1],
      ['BUFFER FULL', AgentErrorCode.ObdBufferFull, 3],
      ['FB ERROR', AgentErrorCode.ObdFeedbackError, 3],
      ['BUS INIT: ...ERROR', AgentErrorCode.ObdBusInitError, 3],
      ['7E803410D32 <DATA ERROR', AgentErrorCode.ObdDataError, 3],
      ['STOPPED', AgentErrorCode.ObdStopped, 3],
      ['ERR94', AgentErrorCode.ObdAdapterError, 1],
    ] as const) {
      sim.inject(answer, times);
      await expect(s.request('010D', { retries: 2, backoffMs: 5 }), answer).rejects.toMatchObject({ code });
    }
    // Garbage from a glitch before a good answer: counted, not fatal.
    sim.inject('7E8 ZZ 41 0D\r\u00ff\u00007E803410D32');
    expect((await s.request('010D')).map((m) => m.data)).toEqual([[0x41, 0x0d, 0x32]]);
    expect(s.stats.frames.badFrames).toBe(1);
    // And the link is still in sync.
    expect((await s.readPids([0x0d]))[0]!.value).toBe(expectedReadings(sim.model.state()).speedKmh);
  });

  it('never takes a late answer for the next request’s', async () => {
    const sim = await simulated();
    const s = await session(sim);
    await s.connectVehicle();
    await s.discoverSupportedPids();
    // The next request is answered after 400 ms with a stale speed of 99 km/h (63 hex) ...
    sim.inject('7E803410D63', 1, 400);
    await expect(s.request('010D', { timeoutMs: 150 })).rejects.toMatchObject({
      code: AgentErrorCode.ObdTimeout,
    });
    // ... which must not become the answer of the request after it.
    const speed = (await s.readPids([0x0d]))[0]!.value;
    expect(speed).toBe(expectedReadings(sim.model.state()).speedKmh);
    expect(speed).not.toBe(0x63);
    expect(s.adapter.stats.resyncs).toBe(1);
  });
});

describe('ObdSession over a pty: adapter identity', () => {
  it('tells an OBDLink (STN1110, answers STI) from an ELM327 clone', async () => {
    const sim = await simulated({ emulator: { adapter: 'stn' } });
    const s = await session(sim);
    expect(sim.requests).toContain('STI');
    expect(s.identity).toMatchObject({
      chip: 'STN',
      stn: expect.stringMatching(/^STN1110/),
      replyCount: true,
    });
  });
});

describe('ObdSession over a pty: a K-line vehicle (ISO 14230-4 KWP)', () => {
  it('reads one PID per request, headers 83 F1 10, the VIN from numbered messages, DTCs 3 per line', async () => {
    const sim = await simulated({
      dtcs: ['P0133', 'P0420', 'P0171', 'U0100'],
      emulator: { protocol: 'kwp', busInitMs: 50 },
    });
    const s = await session(sim);
    expect(await s.connectVehicle()).toMatchObject({ number: 5, format: 'legacy' });
    await s.discoverSupportedPids();
    expect([...s.support.keys()]).toEqual(['10']);
    const readings = await s.readPids([0x0c, 0x0d, 0x2f]);
    // No multi-PID requests and no reply count off CAN.
    expect(sim.requests.slice(-3)).toEqual(['010C', '010D', '012F']);
    const want = expectedReadings(sim.model.state());
    expect(readings.map((r) => [r.ecu, r.pid, r.value])).toEqual([
      ['10', 0x0c, want.rpm],
      ['10', 0x0d, want.speedKmh],
      ['10', 0x2f, want.fuelLevelPct],
    ]);
    expect((await s.readVin())?.vin).toBe('1SV7CE6F6RX068251');
    const dtcs = await s.readTroubleCodes('stored');
    expect(dtcs.codes.map((c) => c.code)).toEqual(['P0133', 'P0420', 'P0171', 'U0100']);
    expect(s.stats.frames.badFrames).toBe(0);
  });
});

describe('ObdPoller over a pty', () => {
  it('polls, survives unplug/replug of the adapter and ignition off/on, by itself', async () => {
    const sim = await simulated();
    const { poller, stop } = startPoller(sim, log);
    cleanups.push(stop);
    await waitForModelReadings(poller, sim, 8000);
    expect(poller.vin?.vin).toBe('1SV7CE6F6RX068251');
    expect(poller.fuelRateSource).toBe('fuel-rate-pid');
    expect(poller.fuelRateLph).toBeCloseTo(Math.round(sim.model.state().fuelRateLph * 20) / 20, 6);
    // Multi-PID requests with the reply-count digit went out.
    expect(sim.requests.some((r) => /^01([0-9A-F]{2}){2,6}[1-9A-F]$/.test(r))).toBe(true);

    // Unplug: the port disappears.
    await sim.unplug();
    await vi.waitFor(() => expect(poller.state).toBe('disconnected'), { timeout: 5000, interval: 10 });
    expect(poller.latest).toEqual({
      coolantC: null,
      rpm: null,
      speedKmh: null,
      fuelLevelPct: null,
      odometerKm: null,
    });
    await new Promise((r) => setTimeout(r, 400)); // a few failed reopen attempts
    expect(poller.state).toBe('disconnected');

    // Replug: back to polling without help.
    await sim.replug();
    await vi.waitFor(
      () => {
        expect(poller.state).toBe('polling');
        expect(poller.latest.rpm).not.toBeNull();
      },
      { timeout: 8000, interval: 20 },
    );
    expect(poller.stats.disconnects).toBeGreaterThanOrEqual(1);

    // Ignition off: NO DATA while ATRV answers.
    sim.model.setIgnition(false);
    await vi.waitFor(() => expect(poller.state).toBe('no-vehicle'), { timeout: 8000, interval: 20 });
    expect(poller.latest.rpm).toBeNull();
    await vi.waitFor(() => expect(poller.voltage).toBeGreaterThan(6), { timeout: 3000, interval: 20 });

    // Ignition on: polling again.
    sim.model.setIgnition(true);
    await vi.waitFor(
      () => {
        expect(poller.state).toBe('polling');
        expect(poller.latest.rpm).not.toBeNull();
      },
      { timeout: 8000, interval: 20 },
    );
    expect(poller.stats.vehicleLost).toBe(1);
  });

  it('starts with the ignition off (UNABLE TO CONNECT) and waits for the vehicle', async () => {
    const sim = await simulated();
    sim.model.setIgnition(false);
    const poller = new ObdPoller((baud) => openSerial(sim.hostPath, baud), log, 0, 150, {
      session: { protocolFallbacks: [6] },
    });
    const running = poller.run();
    cleanups.push(async () => {
      await poller.stop();
      await running;
    });
    await vi.waitFor(() => expect(poller.state).toBe('no-vehicle'), { timeout: 5000, interval: 20 });
    expect(poller.identity?.description).toBe('ELM327 v1.5');
    expect(sim.requests).toContain('ATRV');
    sim.model.setIgnition(true);
    await vi.waitFor(() => expect(poller.state).toBe('polling'), { timeout: 5000, interval: 20 });
  });
});
