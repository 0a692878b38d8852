import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseScenario } from '../scenarios/format.ts';
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
    obd: () => obd,
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

describe('SimVehicle with a scenario', () => {
  const shortDay = parseScenario({
    name: 'short-day',
    events: [
      { type: 'dtc', at: 20, code: 'P0133' },
      { type: 'gps_loss', at: 40, durationS: 20 },
      { type: 'park', at: 60, durationS: 90 },
      { type: 'refuel', at: 80, volumeL: 12, durationS: 30, delayS: 5 },
      { type: 'unplug', at: 200, durationS: 30 },
    ],
  });

  function tempDir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'fsim-'));
    dirs.push(dir);
    return dir;
  }

  async function runDay(dir: string) {
    const truthFile = join(dir, 'truth.jsonl');
    const labelsFile = join(dir, 'labels.jsonl');
    const t = startSim({ epochs: 300, truthFile, labelsFile, scenario: shortDay, tickMs: 1 });
    await t.sim.whenEpochsDone();
    const truth = readFileSync(truthFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as TruthRecord);
    const labels = readFileSync(labelsFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    return {
      t,
      truth,
      labels,
      truthText: readFileSync(truthFile, 'utf8'),
      labelsText: readFileSync(labelsFile, 'utf8'),
    };
  }

  it('writes labels next to the truth file, both the same for the same seed', async () => {
    const a = await runDay(tempDir());
    const b = await runDay(tempDir());
    expect(b.truthText).toBe(a.truthText);
    expect(b.labelsText).toBe(a.labelsText);

    expect(a.labels[0]).toMatchObject({ type: 'meta', vehicleId: 'van-7', scenario: 'short-day', seed: 7 });
    const types = a.labels.slice(1).map((l) => l.type);
    expect(types).toEqual(
      expect.arrayContaining(['gps_fix_loss', 'refuel', 'ignition_off', 'unplug', 'dtc']),
    );
    const at = (ts: number) => a.truth.find((r) => r.ts === ts)!;

    const loss = a.labels.find((l) => l.type === 'gps_fix_loss')!;
    for (const r of a.truth)
      expect(r.gpsFix).toBe(!(r.ts >= (loss.start as number) && r.ts < (loss.end as number)));
    const unplug = a.labels.find((l) => l.type === 'unplug')!;
    for (const r of a.truth) {
      expect(r.adapterPlugged).toBe(!(r.ts >= (unplug.start as number) && r.ts < (unplug.end as number)));
    }
    const refuel = a.labels.find((l) => l.type === 'refuel')!;
    expect(at(refuel.end as number).fuelLitresTrue - at(refuel.start as number).fuelLitresTrue).toBeCloseTo(
      12,
      2,
    );
    expect(at(refuel.start as number).ignition).toBe(false);
    const dtc = a.labels.find((l) => l.type === 'dtc')!;
    expect(dtc).toMatchObject({ code: 'P0133', end: null, mil: true });
    expect('truncated' in dtc).toBe(false);
    expect(at(dtc.start as number).milOn).toBe(true);
    expect(a.truth[0]!.milOn).toBe(false);

    // Without a fix the sentences carry no position.
    const dark = a.t
      .nmea()
      .split('\r\n')
      .filter((s) => s.startsWith('$GPRMC') && s.split(',')[2] === 'V');
    expect(dark).toHaveLength(20);
    expect(dark[0]!.split(',').slice(3, 7)).toEqual(['', '', '', '']);
  });

  it('goes silent when unplugged and prints its banner when plugged back in', async () => {
    const t = startSim({ epochs: 5 });
    await t.ask('ATE0');
    expect(await t.ask('ATI')).toBe('ELM327 v1.5\r\r>');
    t.sim.unplug();
    expect(await t.ask('ATI')).toBe('');
    t.sim.plugIn();
    for (let i = 0; i < 100 && !t.obd().endsWith('>'); i++) await new Promise((r) => setTimeout(r, 1));
    expect(t.obd()).toBe('\r\rELM327 v1.5\r\r>');
    expect(await t.ask('ATI')).toBe('ATI\rELM327 v1.5\r\r>');
  });

  it('speaks the configured protocol, adapter and DTCs', async () => {
    const t = startSim({ epochs: 1, protocol: 'kwp', adapter: 'stn', dtcs: ['P0420'] });
    await t.ask('ATE0');
    await t.ask('ATH1');
    expect(await t.ask('STI')).toBe('STN1110 v4.0.1\r\r>');
    expect(await t.ask('03')).toMatch(/^SEARCHING\.\.\.\r87 F1 10 43 04 20 00 00 00 00 [0-9A-F]{2} \r\r>$/);
    expect(await t.ask('ATDPN')).toBe('A5\r\r>');
  });
});
