/**
 * Vehicle health on the agent: parsing service 02 (freeze frame) and 06 (monitor results), and
 * the battery per start (back-to-back ATRV as the ECU starts answering) through ObdPoller and
 * DiagnosticsWatch, against the firmware-sim ECU in memory (no port, no timers of its own: the
 * test steps the vehicle).
 */
import { createLogger } from '@fleet/shared/log';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Elm327Emulator } from '../../../firmware-sim/src/elm327/emulator.ts';
import { DiagnosticMemory } from '../../../firmware-sim/src/vehicle/diagnostics.ts';
import { VehicleModel } from '../../../firmware-sim/src/vehicle/model.ts';
import { OnBoardMonitors } from '../../../firmware-sim/src/vehicle/monitors.ts';
import { AgentErrorCode, isAgentError } from '../errors.ts';
import type { EcuMessage } from '../obd/frames/assembler.ts';
import { type DiagnosticReading, ObdPoller } from '../obd/obd-poller.ts';
import { freezeFrameData, readFreezeFrame } from '../obd/services/freeze-frame.ts';
import {
  discoverMonitorIds,
  monitorIdsFromBitmap,
  parseMonitorResults,
} from '../obd/services/monitor-results.ts';
import type { ObdRequester } from '../obd/services/request.ts';
import { AgentDb } from '../store/agent-db.ts';
import type { ByteStream } from '../transport/byte-stream.ts';
import { createMemoryStreamPair } from '../transport/memory.ts';
import { DiagnosticsWatch } from './diagnostics-watch.ts';

const log = createLogger('test');
log.level = 'silent';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const bytes = (hex: string) =>
  (hex.replace(/\s+/g, '').match(/../g) ?? []).map((b) => Number.parseInt(b, 16));

/** A requester answering from a table of command -> message hex (absent: NO DATA, as the adapter says). */
function tableRequester(table: Record<string, string>): ObdRequester & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async request(command: string): Promise<EcuMessage[]> {
      asked.push(command);
      const answer = table[command];
      if (answer === undefined) {
        const { AgentError } = await import('../errors.ts');
        throw new AgentError(AgentErrorCode.ObdNoData, `${command}: NO DATA`);
      }
      return [{ ecu: '7E8', data: bytes(answer) }];
    },
  };
}

describe('service 02: freeze frame', () => {
  it('decodes frame 0 with the service 01 scalings, only the PIDs the frame lists', async () => {
    const r = tableRequester({
      '020200': '42 02 00 03 01', // P0301 stored the frame
      '020000': '42 00 00 58 1B 80 03', // 02 04 05 | 0C 0D 0F 10 | 11 | 1F 20
      '020400': '42 04 00 99', // 60 %
      '020500': '42 05 00 87', // 95 °C
      '020C00': '42 0C 00 25 80', // 2400 rpm
      '020D00': '42 0D 00 48', // 72 km/h
      '021100': '42 11 00 66', // 40 %
      '020F00': '42 0F 00 41', // 25 °C
      '021000': '42 10 00 03 3F', // 8.31 g/s
    });
    const frame = await readFreezeFrame(r);
    expect(frame).toEqual({
      code: 'P0301',
      values: {
        engineLoad: 60,
        coolantTemp: 95,
        engineRpm: 2400,
        vehicleSpeed: 72,
        throttlePosition: 40,
        intakeAirTemp: 25,
        mafAirFlowRate: 8.31,
      },
    });
    // 06 and 07 (fuel trims) are not in the frame's bitmap: never asked.
    expect(r.asked).not.toContain('020600');
  });

  it('says "no frame" for 00 00 and refuses an answer for another PID', async () => {
    expect(await readFreezeFrame(tableRequester({ '020200': '42 02 00 00 00' }))).toBeNull();
    expect(await readFreezeFrame(tableRequester({}))).toBeNull();
    let caught: unknown;
    try {
      freezeFrameData(bytes('42 0D 00 48'), 0x0c);
    } catch (err) {
      caught = err;
    }
    expect(isAgentError(caught, AgentErrorCode.HealthBadFreezeFrame)).toBe(true);
  });
});

describe('service 06: monitor results (CAN format)', () => {
  it('parses 9-byte records: OBDMID TID UASID value min max, pass within limits', () => {
    const tests = parseMonitorResults(bytes('46 A3 0B 24 00 0F 00 00 00 1E  A3 0C 24 00 96 00 00 00 1E'));
    expect(tests).toEqual([
      { mid: 0xa3, tid: 0x0b, uasid: 0x24, value: 15, min: 0, max: 30, unit: 'counts', passed: true },
      { mid: 0xa3, tid: 0x0c, uasid: 0x24, value: 150, min: 0, max: 30, unit: 'counts', passed: false },
    ]);
    const [cat] = parseMonitorResults(bytes('46 21 A9 01 00 64 00 C8 FF FF'));
    expect(cat).toMatchObject({ mid: 0x21, value: 100, min: 200, max: 0xffff, unit: '', passed: false });
    let caught: unknown;
    try {
      parseMonitorResults(bytes('46 A3 0B 24 00 0F 00 00 00'));
    } catch (err) {
      caught = err;
    }
    expect(isAgentError(caught, AgentErrorCode.HealthBadMonitorRecord)).toBe(true);
  });

  it('follows the support chain 0600 -> 0620 ... and stops where the last bit is clear', async () => {
    expect(monitorIdsFromBitmap(bytes('46 A0 78 00 00 00'))).toEqual([0xa2, 0xa3, 0xa4, 0xa5]);
    const r = tableRequester({
      '0600': '46 00 00 00 00 01',
      '0620': '46 20 80 00 00 01',
      '0640': '46 40 00 00 00 01',
      '0660': '46 60 00 00 00 01',
      '0680': '46 80 00 00 00 01',
      '06A0': '46 A0 78 00 00 00',
    });
    expect(await discoverMonitorIds(r)).toEqual([0x21, 0xa2, 0xa3, 0xa4, 0xa5]);
    expect(r.asked).toEqual(['0600', '0620', '0640', '0660', '0680', '06A0']);
    expect(await discoverMonitorIds(tableRequester({}))).toEqual([]);
  });
});

/** The firmware-sim ECU in memory, with an ageing battery and a misfiring cylinder. */
function simulatedVehicle() {
  const model = new VehicleModel({
    seed: 11,
    startTimeMs: Date.UTC(2024, 4, 1, 8),
    battery: { crankV: 9.2, crankS: 3 },
  });
  const memory = new DiagnosticMemory();
  let device: ByteStream | undefined;
  const emulator = new Elm327Emulator({
    vehicle: model,
    vin: '1SV7CE6F6RX068251',
    diagnostics: memory,
    monitors: new OnBoardMonitors({ misfireCylinder: 3, misfirePct: 5, misfireLimit: 30 }),
    write: (b) => void device?.write(Buffer.from(b)).catch(() => {}),
    latencyMs: 1,
    resetDelayMs: 5,
    searchDelayMs: 5,
  });
  const open = async () => {
    const [host, dev] = createMemoryStreamPair();
    device = dev;
    dev.onData((b) => emulator.receive(b));
    return host;
  };
  return { model, memory, open };
}

describe('battery per start and monitors through ObdPoller and DiagnosticsWatch', () => {
  it('catches the cranking dip with back-to-back ATRV, reports it per start, and the misfiring cylinder', async () => {
    const car = simulatedVehicle();
    for (let i = 0; i < 10; i++) car.model.step(); // the first start's crank is over
    const db = new AgentDb(':memory:');
    cleanups.push(() => db.close());
    const watch = new DiagnosticsWatch(
      db.events,
      db.troubleCodes,
      () => Date.now(),
      () => null,
      log,
    );
    const readings: DiagnosticReading[] = [];
    const poller = new ObdPoller(car.open, log, 0, 50, {
      slowPeriodMs: 20,
      diagnostics: {
        dtcPeriodMs: 3_600_000,
        voltagePeriodMs: 50,
        crankWindowMs: 2000,
        monitorPeriodMs: 200,
        onReading: (r) => {
          readings.push(r);
          watch.observe(r);
        },
      },
    });
    const running = poller.run();
    cleanups.push(async () => {
      await poller.stop();
      await running;
    });
    await vi.waitFor(() => expect(poller.state).toBe('polling'), { timeout: 5000 });
    // Parked half an hour (surface charge gone): the agent reads the resting voltage while no
    // ECU answers.
    car.model.setIgnition(false);
    for (let i = 0; i < 1800; i++) car.model.step();
    await vi.waitFor(
      () => expect(readings.some((r) => r.kind === 'voltage' && r.engine === 'off')).toBe(true),
      {
        timeout: 10_000,
      },
    );
    readings.length = 0;
    // Key on: the starter turns for 3 simulated seconds; they pass 300 ms of wall time later.
    car.model.setIgnition(true);
    setTimeout(() => {
      for (let i = 0; i < 4; i++) car.model.step();
    }, 300);
    const batteries = () => db.events.listSince(0, 100).filter((e) => e.type === 'battery');
    const before = batteries().length;
    await vi.waitFor(() => expect(batteries().length).toBe(before + 1), { timeout: 8000 });
    const crank = readings.find((r) => r.kind === 'crank');
    expect(crank).toMatchObject({ kind: 'crank', late: false });
    if (crank?.kind !== 'crank') throw new Error('no crank reading');
    expect(crank.samples).toBeGreaterThan(3);
    expect(crank.minV).toBeGreaterThan(9.0);
    expect(crank.minV).toBeLessThan(9.4);
    expect(crank.lastV).toBeGreaterThan(13.5); // stopped early: charging after the dip
    const battery = batteries().at(-1)!;
    expect(battery.details).toMatchObject({ phase: 'start', low: true, reasons: ['cranking'] });
    expect(battery.details.restingV as number).toBeCloseTo(12.65, 1);
    expect(battery.details.crankV as number).toBeCloseTo(crank.minV, 2);

    // Service 06 a few poll periods later: cylinder 3 over its limit once the engine ran long enough.
    for (let i = 0; i < 120; i++) car.model.step();
    await vi.waitFor(
      () => {
        const m = db.events
          .listSince(0, 100)
          .filter((e) => e.type === 'monitors')
          .at(-1);
        expect(m?.details.failed).toEqual(['misfire cylinder 3']);
      },
      { timeout: 8000 },
    );
    const monitors = db.events
      .listSince(0, 100)
      .filter((e) => e.type === 'monitors')
      .at(-1)!;
    // 123 s running x 12.5 firings/s x 5 % = 76 counts this cycle; the others 0; limit 30.
    expect(monitors.details.misfire).toEqual([
      { cylinder: 1, count: 0, average: 0, limit: 30 },
      { cylinder: 2, count: 0, average: 0, limit: 30 },
      {
        cylinder: 3,
        count: Math.floor((car.model.state().runTimeS * 12.5 * 5) / 100),
        average: 0,
        limit: 30,
      },
      { cylinder: 4, count: 0, average: 0, limit: 30 },
    ]);
    expect(monitors.details.catalyst).toEqual([
      { bank: 1, tid: 0xa9, value: 420, min: 200, max: 0xffff, passed: true },
    ]);
  }, 30_000);

  it('puts the freeze frame and PIDs 21/31 into the dtc event of the code that stored it', async () => {
    const car = simulatedVehicle();
    for (let i = 0; i < 600 && car.model.state().speedKmh < 20; i++) car.model.step();
    const db = new AgentDb(':memory:');
    cleanups.push(() => db.close());
    const watch = new DiagnosticsWatch(
      db.events,
      db.troubleCodes,
      () => Date.now(),
      () => null,
      log,
    );
    const poller = new ObdPoller(car.open, log, 0, 50, {
      slowPeriodMs: 20,
      diagnostics: {
        dtcPeriodMs: 3_600_000,
        voltagePeriodMs: 60_000,
        crankWindowMs: 0,
        onReading: (r) => watch.observe(r),
      },
    });
    const running = poller.run();
    cleanups.push(async () => {
      await poller.stop();
      await running;
    });
    await vi.waitFor(() => expect(poller.state).toBe('polling'), { timeout: 5000 });
    const at = car.model.state();
    car.memory.store('P0302');
    for (let i = 0; i < 60; i++) car.model.step(); // the frame keeps the moment, not now
    await vi.waitFor(() => expect(db.events.listSince(0, 100).some((e) => e.type === 'dtc')).toBe(true), {
      timeout: 5000,
    });
    const dtc = db.events.listSince(0, 100).find((e) => e.type === 'dtc')!;
    expect(dtc.details).toMatchObject({
      code: 'P0302',
      description: 'Cylinder 2 Misfire Detected',
      freezeFrame: {
        vehicleSpeed: Math.round(at.speedKmh),
        engineRpm: Math.round(at.rpm * 4) / 4,
        coolantTemp: Math.round(at.coolantC),
      },
      distanceMilOnKm: Math.floor(car.model.state().odometerKm - at.odometerKm),
    });
    expect(typeof dtc.details.distanceSinceClearKm).toBe('number');
  }, 20_000);
});
