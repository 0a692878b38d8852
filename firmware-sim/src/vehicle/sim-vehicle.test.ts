import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createEndpointPair } from '../transport/memory.ts';
import { SimVehicle, type SimVehicleOptions, type TruthRecord } from './sim-vehicle.ts';

const START = Date.UTC(2024, 4, 1, 8, 0, 0);
const dirs: string[] = [];
const sims: SimVehicle[] = [];

afterEach(() => {
  for (const s of sims.splice(0)) s.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function startSim(options: Partial<SimVehicleOptions> = {}) {
  const [elmDevice, elmHost] = createEndpointPair(['elm', 'agent']);
  const [gpsDevice, gpsHost] = createEndpointPair(['gps', 'agent']);
  let nmea = '';
  let obd = '';
  gpsHost.onData((b) => {
    nmea += Buffer.from(b).toString('ascii');
  });
  elmHost.onData((b) => {
    obd += Buffer.from(b).toString('latin1');
  });
  const sim = new SimVehicle({
    id: 'van-7',
    seed: 7,
    startTimeMs: START,
    elm: elmDevice,
    gps: gpsDevice,
    tickMs: 2,
    latencyMs: 0,
    resetDelayMs: 0,
    searchDelayMs: 0,
    ...options,
  });
  sims.push(sim);
  sim.start();
  return {
    sim,
    nmea: () => nmea,
    async ask(cmd: string): Promise<string> {
      obd = '';
      elmHost.write(Buffer.from(`${cmd}\r`));
      for (let i = 0; i < 100 && !obd.endsWith('>'); i++) await new Promise((r) => setTimeout(r, 1));
      return obd;
    },
  };
}

/** RMC fields back to an epoch time and signed degrees, the way a reader would. */
function readRmc(sentence: string): { ts: number; lat: number; lon: number } {
  const f = sentence.slice(1, sentence.indexOf('*')).split(',');
  const [hh, mm, ss] = [f[1]!.slice(0, 2), f[1]!.slice(2, 4), f[1]!.slice(4)].map(Number);
  const [d, mo, y] = [f[9]!.slice(0, 2), f[9]!.slice(2, 4), f[9]!.slice(4, 6)].map(Number);
  const ts = Date.UTC(2000 + y!, mo! - 1, d!, hh!, mm!, ss!);
  const lat = (Number(f[3]!.slice(0, 2)) + Number(f[3]!.slice(2)) / 60) * (f[4] === 'S' ? -1 : 1);
  const lon = (Number(f[5]!.slice(0, 3)) + Number(f[5]!.slice(3)) / 60) * (f[6] === 'W' ? -1 : 1);
  return { ts, lat, lon };
}

describe('SimVehicle', () => {
  it('emits N epochs of RMC+GGA matching the truth file, then only answers OBD', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fsim-'));
    dirs.push(dir);
    const truthFile = join(dir, 'truth.jsonl');
    const t = startSim({ epochs: 25, truthFile });
    await t.sim.whenEpochsDone();
    await new Promise((r) => setTimeout(r, 20));

    const sentences = t.nmea().split('\r\n').filter(Boolean);
    expect(sentences).toHaveLength(50);
    expect(sentences.filter((s) => s.startsWith('$GPRMC'))).toHaveLength(25);
    expect(sentences[0]!.startsWith('$GPRMC')).toBe(true);
    expect(sentences[1]!.startsWith('$GPGGA')).toBe(true);

    const truth = readFileSync(truthFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as TruthRecord);
    expect(truth).toHaveLength(25);
    truth.forEach((rec, i) => {
      expect(rec.epoch).toBe(i);
      expect(rec.ts).toBe(START + i * 1000);
      expect(Number.isInteger(rec.ts) && rec.ts % 1000 === 0).toBe(true);
      expect(rec.vehicleId).toBe('van-7');
      const rmc = readRmc(sentences[2 * i]!);
      expect(rmc.ts).toBe(rec.ts);
      expect(rmc.lat).toBe(rec.lat); // exactly as written, not merely close
      expect(rmc.lon).toBe(rec.lon);
      expect(Object.keys(rec)).toEqual(
        expect.arrayContaining(['epoch', 'ts', 'lat', 'lon', 'speedKmh', 'rpm', 'fuelLevelPct']),
      );
    });

    // GPS silent, vehicle frozen, OBD still answering from the last state.
    const silentFrom = t.nmea().length;
    await new Promise((r) => setTimeout(r, 30));
    expect(t.nmea().length).toBe(silentFrom);
    expect(t.sim.model.state().simTimeMs).toBe(truth.at(-1)!.ts);
    await t.ask('ATE0');
    expect(await t.ask('010D1')).toMatch(/^(SEARCHING\.\.\.\r)?41 0D [0-9A-F]{2} \r\r>$/);
    const rpmReply = await t.ask('010C1');
    const [a, b] = rpmReply
      .trim()
      .split(' ')
      .slice(2)
      .map((x) => Number.parseInt(x, 16));
    expect((256 * a! + b!) / 4).toBe(truth.at(-1)!.rpm);
    const fuelReply = await t.ask('012F1');
    const level = Number.parseInt(fuelReply.trim().split(' ')[2]!, 16);
    expect((level * 100) / 255).toBe(truth.at(-1)!.fuelLevelPct);
  });

  it('replays the same GPS stream for the same seed', async () => {
    const a = startSim({ epochs: 30 });
    const b = startSim({ epochs: 30 });
    const c = startSim({ epochs: 30, seed: 8 });
    await Promise.all([a.sim.whenEpochsDone(), b.sim.whenEpochsDone(), c.sim.whenEpochsDone()]);
    await new Promise((r) => setTimeout(r, 10));
    expect(a.nmea()).toBe(b.nmea());
    expect(a.nmea()).not.toBe(c.nmea());
  });

  it('gives the vehicle a fixed VIN readable over OBD', async () => {
    const t = startSim({ epochs: 1 });
    await t.ask('ATE0');
    await t.ask('ATSP6');
    const reply = await t.ask('0902');
    const payload = reply
      .split('\r')
      .filter((l) => /^[0-9A-F]:/.test(l))
      .flatMap((l) => l.slice(2).trim().split(' '))
      .map((x) => Number.parseInt(x, 16))
      .slice(3, 20);
    expect(String.fromCharCode(...payload)).toBe(t.sim.vin);
  });
});
