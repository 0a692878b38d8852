/**
 * firmware-sim's ELM327 emulator on the device end of a real pty pair (socat), the agent's side
 * left for the code under test:
 *
 *   code under test --openSerial(host)--> pty <==socat==> pty <--device endpoint-- tap --> Elm327Emulator
 *                                                                                |
 *                              scripted error answers, recorded requests <------+
 *
 * The tap between the device endpoint and the emulator records every request line and can answer
 * the next OBD requests itself (error answers, late answers), which the emulator has no option for.
 * unplug() kills socat (both pty paths vanish, the agent's port closes); replug() recreates them
 * at the same paths and reattaches the same emulator.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, type Logger } from '@fleet/shared/log';
import { expect, vi } from 'vitest';
import { Elm327Emulator, type Elm327Options } from '../../../firmware-sim/src/elm327/emulator.ts';
import type { ByteEndpoint } from '../../../firmware-sim/src/transport/endpoint.ts';
import { openSerialEndpoint } from '../../../firmware-sim/src/transport/serial.ts';
import { VehicleModel, type VehicleState } from '../../../firmware-sim/src/vehicle/model.ts';
import { createPtyPair, type PtyPair } from '../../../firmware-sim/test/socat.ts';
import { ObdPoller, type ObdPollerOptions } from '../../src/obd/obd-poller.ts';
import { openSerial } from '../../src/transport/serial.ts';

export interface SimulatedAdapterOptions {
  seed?: number;
  vin?: string;
  dtcs?: string[];
  pids?: number[];
  /** Emulator turnaround per command, ms (default 5: quick tests; the bench uses realistic ones). */
  latencyMs?: number;
  resetDelayMs?: number;
  searchDelayMs?: number;
  /** Drive until the vehicle moves this fast, so PIDs are not trivially 0 (default 20 km/h). */
  driveToKmh?: number;
  /** Further emulator options (protocol, adapter kind, ...), passed as they are. */
  emulator?: Partial<Omit<Elm327Options, 'vehicle' | 'vin' | 'write'>>;
}

/** What PIDs 0C/0D/2F/05/A6 must decode to for the model's state (J1979 encodings, by hand). */
export function expectedReadings(s: VehicleState) {
  const byte = (v: number) => Math.min(255, Math.max(0, Math.round(v)));
  return {
    speedKmh: byte(s.speedKmh),
    rpm: Math.min(0xffff, Math.round(s.rpm * 4)) / 4,
    fuelLevelPct: (100 * byte((s.fuelLevelPct * 255) / 100)) / 255,
    coolantC: byte(s.coolantC + 40) - 40,
    // A6: 4 bytes, 0.1 km a count.
    odometerKm: Math.round(s.odometerKm * 10) / 10,
  };
}

/**
 * The daemon's OBD loop (ObdPoller, no delay between cycles, 150 ms before a retry) on the
 * adapter's host side, slow PIDs every 100 ms; `stop` ends it and waits for its loop.
 */
export function startPoller(
  sim: SimulatedAdapter,
  log: Logger,
  options: ObdPollerOptions = {},
): { poller: ObdPoller; stop: () => Promise<void> } {
  const poller = new ObdPoller((baud) => openSerial(sim.hostPath, baud), log, 0, 150, {
    slowPeriodMs: 100,
    ...options,
  });
  const running = poller.run();
  return {
    poller,
    stop: async () => {
      await poller.stop();
      await running;
    },
  };
}

/** Waits until the poller polls and its latest readings are the model's. */
export async function waitForModelReadings(poller: ObdPoller, sim: SimulatedAdapter, timeoutMs: number) {
  await vi.waitFor(
    () => {
      expect(poller.state).toBe('polling');
      expect(poller.latest).toEqual(expectedReadings(sim.model.state()));
    },
    { timeout: timeoutMs, interval: 20 },
  );
}

interface ScriptedAnswer {
  text: string;
  delayMs: number;
}

export class SimulatedAdapter {
  readonly model: VehicleModel;
  readonly emulator: Elm327Emulator;
  /** Every command line the adapter received, in order. */
  readonly requests: string[] = [];
  /** Bytes the emulator wrote (what the host reads from the wire). */
  bytesToHost = 0;
  bytesFromHost = 0;
  private pair: PtyPair | undefined;
  private device: ByteEndpoint | undefined;
  private readonly scripted: ScriptedAnswer[] = [];
  private line = '';

  private constructor(
    readonly dir: string,
    readonly vin: string,
    options: SimulatedAdapterOptions,
  ) {
    this.model = new VehicleModel({ seed: options.seed ?? 7, startTimeMs: Date.UTC(2024, 4, 1, 8) });
    const target = options.driveToKmh ?? 20;
    for (let i = 0; i < 900 && this.model.state().speedKmh < target; i++) this.model.step();
    this.emulator = new Elm327Emulator({
      vehicle: this.model,
      vin,
      write: (bytes) => {
        this.bytesToHost += bytes.length;
        this.device?.write(bytes);
      },
      ...(options.dtcs ? { dtcs: options.dtcs } : {}),
      ...(options.pids ? { pids: options.pids } : {}),
      latencyMs: options.latencyMs ?? 5,
      resetDelayMs: options.resetDelayMs ?? 50,
      searchDelayMs: options.searchDelayMs ?? 30,
      logger: createLogger('elm327-sim'),
      ...options.emulator,
    });
  }

  static async start(options: SimulatedAdapterOptions = {}): Promise<SimulatedAdapter> {
    const dir = mkdtempSync(join(tmpdir(), 'obd-pty-'));
    const sim = new SimulatedAdapter(dir, options.vin ?? '1SV7CE6F6RX068251', options);
    await sim.plug();
    return sim;
  }

  /** The path the agent opens. */
  get hostPath(): string {
    return join(this.dir, 'elm-host');
  }

  /** The next `count` OBD requests get `text` (lines without the prompt) instead of the vehicle's answer. */
  inject(text: string, count = 1, delayMs = 2): void {
    for (let i = 0; i < count; i++) this.scripted.push({ text, delayMs });
  }

  /** Pull the USB cable: socat goes away, both pty paths vanish, the agent's port closes. */
  async unplug(): Promise<void> {
    const device = this.device;
    this.device = undefined;
    await this.pair?.close();
    this.pair = undefined;
    await device?.close();
  }

  /** Plug it back in at the same paths. */
  async replug(): Promise<void> {
    await this.plug();
  }

  async close(): Promise<void> {
    this.emulator.close();
    await this.unplug();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async plug(): Promise<void> {
    this.pair = await createPtyPair(join(this.dir, 'elm-sim'), this.hostPath);
    this.device = await openSerialEndpoint(this.pair.device, { logger: createLogger('elm-sim-port') });
    this.device.onData((bytes) => this.receive(bytes));
  }

  private receive(bytes: Uint8Array): void {
    this.bytesFromHost += bytes.length;
    const text = Buffer.from(bytes).toString('latin1');
    this.line += text;
    let cr = this.line.indexOf('\r');
    while (cr !== -1) {
      const command = this.line.slice(0, cr).replace(/\s+/g, '').toUpperCase();
      this.line = this.line.slice(cr + 1);
      cr = this.line.indexOf('\r');
      this.requests.push(command);
      const scripted = /^[0-9A-F]+$/.test(command) ? this.scripted.shift() : undefined;
      if (scripted) {
        setTimeout(() => {
          const out = Buffer.from(`${scripted.text}\r\r>`, 'latin1');
          this.bytesToHost += out.length;
          this.device?.write(out);
        }, scripted.delayMs);
      } else {
        this.emulator.receive(`${command}\r`);
      }
    }
  }
}
