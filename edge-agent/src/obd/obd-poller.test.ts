import { createLogger } from '@fleet/shared/log';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Elm327Emulator } from '../../../firmware-sim/src/elm327/emulator.ts';
import { VehicleModel } from '../../../firmware-sim/src/vehicle/model.ts';
import type { ByteStream } from '../transport/byte-stream.ts';
import { createMemoryStreamPair } from '../transport/memory.ts';
import { ObdPoller } from './obd-poller.ts';
import { ScriptedElm327 } from './testing/scripted-elm327.ts';

const log = createLogger('test');
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

/** The emulator behind an in-memory stream pair; each open() plugs a fresh cable. */
function emulatedVehicle(vin = '1SV7CE6F6RX068251', dtcs: readonly string[] = []) {
  const model = new VehicleModel({ seed: 3, startTimeMs: Date.UTC(2024, 4, 1, 8) });
  for (let i = 0; i < 600 && model.state().speedKmh < 15; i++) model.step();
  let device: ByteStream | undefined;
  const emulator = new Elm327Emulator({
    vehicle: model,
    vin,
    dtcs,
    write: (bytes) => void device?.write(Buffer.from(bytes)).catch(() => {}),
    latencyMs: 1,
    resetDelayMs: 5,
    searchDelayMs: 5,
  });
  let host: ByteStream | undefined;
  const open = async () => {
    [host, device] = createMemoryStreamPair();
    device.onData((bytes) => emulator.receive(bytes));
    return host;
  };
  return { model, emulator, open, unplug: () => host?.close() };
}

function start(poller: ObdPoller) {
  const running = poller.run();
  stops.push(async () => {
    await poller.stop();
    await running;
  });
  return running;
}

describe('ObdPoller', () => {
  it('reports connecting -> polling, fills latest, picks the fuel-rate source, and stops cleanly', async () => {
    const car = emulatedVehicle();
    const poller = new ObdPoller(car.open, log, 0, 50, { slowPeriodMs: 20 });
    expect(poller.state).toBe('connecting');
    const running = start(poller);
    await vi.waitFor(() => expect(poller.latest.fuelLevelPct).not.toBeNull(), {
      timeout: 3000,
      interval: 10,
    });
    expect(poller.state).toBe('polling');
    expect(poller.identity?.chip).toBe('ELM327');
    expect(poller.protocol?.number).toBe(6);
    expect(poller.fuelRateSource).toBe('fuel-rate-pid');
    expect(poller.readings.get(0x0c)?.ecu).toBe('7E8');
    expect(poller.stats.cycles).toBeGreaterThan(0);
    await poller.stop();
    await expect(running).resolves.toBeUndefined();
  });

  it('reports the MIL with the codes even when the poll cycle has not read PID 01 (read it then)', async () => {
    const car = emulatedVehicle(undefined, ['P0302']);
    const codes: { stored: string[]; milOn: boolean | null }[] = [];
    // No PID 01 in the poll groups: the codes read at connect has no status from a cycle.
    const poller = new ObdPoller(car.open, log, 0, 50, {
      fastPids: [0x0c],
      slowPids: [0x0d],
      diagnostics: {
        crankWindowMs: 0,
        onReading: (r) => {
          if (r.kind === 'codes') codes.push({ stored: r.stored.map((c) => c.code), milOn: r.milOn });
        },
      },
    });
    start(poller);
    await vi.waitFor(() => expect(codes.length).toBeGreaterThan(0), { timeout: 3000, interval: 10 });
    expect(codes[0]).toEqual({ stored: ['P0302'], milOn: true });
    expect(poller.readings.has(0x01)).toBe(false);
  });

  it('goes disconnected when the cable is pulled and comes back on a new one', async () => {
    const car = emulatedVehicle();
    const poller = new ObdPoller(car.open, log, 0, 30, { slowPeriodMs: 20 });
    start(poller);
    await vi.waitFor(() => expect(poller.state).toBe('polling'), { timeout: 3000, interval: 5 });
    await car.unplug();
    await vi.waitFor(() => expect(poller.stats.disconnects).toBe(1), { timeout: 3000, interval: 2 });
    await vi.waitFor(() => expect(poller.state).toBe('polling'), { timeout: 3000, interval: 5 });
    expect(poller.stats.connects).toBe(2);
  });

  it('reads the VIN each time it finds a vehicle and tells only a change (an adapter moved to another vehicle)', async () => {
    const first = emulatedVehicle('1SV7CE6F6RX068251');
    const second = emulatedVehicle('1SVZZ9Y3XRP012345');
    const told: (string | null)[] = [];
    let cars = [first, first, second];
    const poller = new ObdPoller(() => cars[0]!.open(), log, 0, 30, {
      slowPeriodMs: 20,
      onVin: (v) => told.push(v?.vin ?? null),
    });
    start(poller);
    await vi.waitFor(() => expect(poller.state).toBe('polling'), { timeout: 3000, interval: 5 });
    expect(poller.vin).toMatchObject({ vin: '1SV7CE6F6RX068251', valid: true, ecu: '7E8' });
    // Unplugged and plugged back into the same vehicle: read again, nothing new to tell.
    await cars[0]!.unplug();
    cars = cars.slice(1);
    await vi.waitFor(() => expect(poller.stats.connects).toBe(2), { timeout: 3000, interval: 5 });
    await vi.waitFor(() => expect(poller.state).toBe('polling'), { timeout: 3000, interval: 5 });
    expect(told).toEqual(['1SV7CE6F6RX068251']);
    // Moved to another vehicle: its VIN replaces the first, and is told.
    await cars[0]!.unplug();
    cars = cars.slice(1);
    await vi.waitFor(() => expect(told).toEqual(['1SV7CE6F6RX068251', '1SVZZ9Y3XRP012345']), {
      timeout: 3000,
      interval: 5,
    });
    expect(poller.vin?.vin).toBe('1SVZZ9Y3XRP012345');
  });

  it('treats an adapter that stops answering (repeated timeouts) as gone, and reconnects', async () => {
    let mute = false;
    const opened: ScriptedElm327[] = [];
    const poller = new ObdPoller(
      async () => {
        const chip = new ScriptedElm327((cmd) => {
          if (mute) return null;
          if (cmd === '0100') return ['7E8064100BE1FA813'];
          if (cmd.startsWith('010C')) return ['7E804410C1AF8'];
          if (cmd.startsWith('01')) return ['NO DATA'];
          return undefined;
        });
        opened.push(chip);
        return chip;
      },
      log,
      0,
      30,
      {
        session: { requestTimeoutMs: 50, adapter: { resyncDrainMs: 50, resyncProbeTimeoutMs: 100 } },
        maxConsecutiveTimeouts: 2,
        fastPids: [0x0c],
        slowPids: [],
      },
    );
    start(poller);
    await vi.waitFor(() => expect(poller.latest.rpm).toBe(1726), { timeout: 3000, interval: 5 });
    mute = true;
    await vi.waitFor(() => expect(poller.state).toBe('disconnected'), { timeout: 10_000, interval: 5 });
    mute = false;
    await vi.waitFor(() => expect(poller.state).toBe('polling'), { timeout: 10_000, interval: 5 });
    expect(opened.length).toBeGreaterThanOrEqual(2);
    expect(opened[0]!.closed).toBe(true);
  });

  it('re-initialises an adapter that restarted by itself (power-up banner mid-session)', async () => {
    let glitch = false;
    const poller = new ObdPoller(
      async () =>
        new ScriptedElm327((cmd) => {
          if (cmd === '0100') return ['7E8064100BE1FA813'];
          if (cmd.startsWith('010C')) {
            if (glitch) {
              glitch = false;
              return ['\u0000\u00ff', 'ELM327 v1.5'];
            }
            return ['7E804410C1AF8'];
          }
          return undefined;
        }),
      log,
      0,
      20,
      { fastPids: [0x0c], slowPids: [] },
    );
    start(poller);
    await vi.waitFor(() => expect(poller.state).toBe('polling'), { timeout: 3000, interval: 5 });
    glitch = true;
    await vi.waitFor(() => expect(poller.stats.connects).toBe(2), { timeout: 3000, interval: 2 });
    await vi.waitFor(() => expect(poller.state).toBe('polling'), { timeout: 3000, interval: 5 });
  });
});
