import { describe, expect, it } from 'vitest';
import { summarizeConsumption } from '../fuel/consumption.ts';
import { type DriveSample, parseDriveLogCsv } from '../fuel/drive-log.ts';
import { TankCalibration } from '../fuel/tank.ts';
import { createDetectorPipeline, runDetectors } from './pipeline.ts';

/**
 * The detectors on small synthetic drives: each test builds second-by-second samples with the
 * sensor's real flaws (PID 2F's 100/255 % steps, slosh under acceleration, silence with the
 * ignition off) and checks what must and must not be reported.
 */

const T0 = Date.UTC(2024, 4, 1, 8);
const TANK = 80;
/** PID 2F: one byte, A * 100 / 255 %. */
const quantise = (pct: number): number => (Math.round((pct * 255) / 100) * 100) / 255;

/** Deterministic noise (a small LCG) so every run sees the same drive. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1_664_525 + 1_013_904_223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

class Drive {
  readonly samples: DriveSample[] = [];
  ts = T0;
  litres: number;
  /** How many litres the sender reads above the tank (a real one does just after a restart). */
  readsHighL = 0;
  private readonly noise = rng(7);

  constructor(startLitres: number) {
    this.litres = startLitres;
  }

  private push(s: Partial<DriveSample> & { ignition: boolean }, levelPct: number | null): void {
    this.samples.push({
      ts: this.ts,
      speedKmh: null,
      rpm: null,
      fuelLevelPct:
        levelPct === null
          ? null
          : quantise(Math.min(100, Math.max(0, levelPct + (100 * this.readsHighL) / TANK))),
      fuelRateLph: null,
      mafGps: null,
      lat: 48.1,
      lon: 11.5,
      ...s,
    });
    this.ts += 1000;
  }

  /** Driving at `kmh` with speed swings of +-amp km/h (period 20 s): slosh of several %. */
  drive(seconds: number, kmh = 50, amp = 15, lph = 6): this {
    let prev = kmh;
    for (let i = 0; i < seconds; i++) {
      const v = Math.max(3, kmh + amp * Math.sin((2 * Math.PI * i) / 20));
      const accel = (v - prev) / 3.6; // m/s^2 over the last second
      prev = v;
      this.litres -= lph / 3600;
      const slosh = 2.5 * accel + this.noise() * 0.6;
      this.push(
        { speedKmh: Math.round(v), rpm: 2000, fuelRateLph: lph, ignition: true },
        (100 * this.litres) / TANK + slosh,
      );
    }
    return this;
  }

  idle(seconds: number, lph = 0.9): this {
    for (let i = 0; i < seconds; i++) {
      this.litres -= lph / 3600;
      this.push(
        { speedKmh: 0, rpm: 800, fuelRateLph: lph, ignition: true },
        (100 * this.litres) / TANK + this.noise() * 0.2,
      );
    }
    return this;
  }

  /** Ignition off: the ECU is silent (no OBD values), `change` litres move meanwhile. */
  off(seconds: number, change = 0): this {
    for (let i = 0; i < seconds; i++) {
      this.litres += change / seconds;
      this.push({ ignition: false }, null);
    }
    return this;
  }

  /** Ignition on, engine stopped (accessory power): the tank can be read while `change` moves. */
  parkedOn(seconds: number, change = 0, over = seconds): this {
    for (let i = 0; i < seconds; i++) {
      if (i < over) this.litres += change / over;
      this.push({ speedKmh: 0, rpm: 0, ignition: true }, (100 * this.litres) / TANK + this.noise() * 0.2);
    }
    return this;
  }
}

const fuelEvents = (events: { type: string }[]) =>
  events.filter((e) => e.type === 'fuel_drain' || e.type === 'refuel' || e.type === 'fuel_leak');

describe('fuel level detectors', () => {
  it('does not alarm on slosh: two hours of stop-and-go with +-5 % swings in the readings', () => {
    const d = new Drive(60);
    for (let i = 0; i < 12; i++) d.drive(540, 45, 25, 7).idle(60);
    const swing =
      Math.max(...d.samples.map((s) => s.fuelLevelPct ?? 0)) -
      Math.min(...d.samples.map((s) => s.fuelLevelPct ?? 100));
    expect(swing).toBeGreaterThan(10); // the readings really do slosh by more than the drain threshold
    expect(fuelEvents(runDetectors(d.samples, { tankLitres: TANK }))).toEqual([]);
  });

  it('does not alarm on quantised steps: a long idle that burns one PID 2F step after another', () => {
    // 2 h at 2 L/h: 4 L, thirteen 0.31 L steps, each a drop between two consecutive readings.
    const d = new Drive(40).idle(7200, 2);
    const events = runDetectors(d.samples, { tankLitres: TANK, idleThresholdS: 99_999 });
    expect(fuelEvents(events)).toEqual([]);
  });

  it('reports a theft during ignition off with its volume, within a minute of the ignition coming back', () => {
    const d = new Drive(60).drive(900).idle(20).off(1800, -12);
    const back = d.ts;
    d.idle(30).drive(600);
    const p = createDetectorPipeline({ tankLitres: TANK });
    const emitted: { type: string; volumeL?: number; at: number; start: number; end: number }[] = [];
    for (const s of d.samples) for (const e of p.push(s)) emitted.push({ ...e, at: s.ts });
    for (const e of p.flush()) emitted.push({ ...e, at: Number.POSITIVE_INFINITY });
    const drains = emitted.filter((e) => e.type === 'fuel_drain');
    expect(drains).toHaveLength(1);
    expect(drains[0]!.volumeL).toBeGreaterThan(12 * 0.9);
    expect(drains[0]!.volumeL).toBeLessThan(12 * 1.1);
    expect(drains[0]!.at - back).toBeLessThanOrEqual(60_000);
    expect(drains[0]!.start).toBeLessThan(back - 1800_000 + 1000);
    expect(drains[0]!.end).toBeGreaterThanOrEqual(back);
    expect(emitted.filter((e) => e.type === 'refuel')).toEqual([]);
  });

  it('learns how high its sender reads just after a drain across a gap, and measures the next drain net of it', () => {
    const d = new Drive(70);
    // Each theft: the first readings after the restart read 0.7 L high (the float sticks above a
    // level that fell, the pump reservoir refills); they settle while driving to the next stop.
    const theftThenDrive = () => {
      d.drive(900).idle(20).off(1800, -12);
      d.readsHighL = 0.7;
      d.idle(40);
      d.readsHighL = 0;
      d.drive(900).idle(60).off(600).idle(20);
    };
    theftThenDrive();
    theftThenDrive();
    const drains = runDetectors(d.samples, { tankLitres: TANK }).filter((e) => e.type === 'fuel_drain');
    expect(drains).toHaveLength(2);
    // The first drain has nothing to learn from: only the prior (0.3 % of the tank) is taken off,
    // so it still comes out short by most of the bias.
    expect(drains[0]!.volumeL).toBeLessThan(12 - 0.4);
    expect(drains[0]!.details.afterDrainBiasL).toBeCloseTo(0.003 * TANK, 2);
    // The stop after it showed the reading had been high; the second is measured net of that.
    expect(drains[1]!.details.afterDrainBiasL).toBeGreaterThan(0.4);
    expect(Math.abs(drains[1]!.volumeL! - 12)).toBeLessThan(0.35);
  });

  it('closes a drain seen in the readings on its own, within 60 s of its end, without flush()', () => {
    const d = new Drive(50).drive(600).idle(10).parkedOn(60);
    const startDrain = d.ts;
    d.parkedOn(400, -6, 300); // 6 L over 5 min, then steady
    const drainEnd = startDrain + 300_000;
    d.parkedOn(600);
    const p = createDetectorPipeline({ tankLitres: TANK });
    let found: { at: number; volumeL?: number } | null = null;
    for (const s of d.samples) {
      for (const e of p.push(s)) if (e.type === 'fuel_drain') found = { at: s.ts, volumeL: e.volumeL };
    }
    expect(found).not.toBeNull();
    expect(found!.at - drainEnd).toBeLessThanOrEqual(60_000);
    expect(Math.abs(found!.volumeL! - 6)).toBeLessThan(0.6);
  });

  it('reports a refuel with the litres added, and the consumption stays right across it', () => {
    const d = new Drive(20).drive(1200, 50, 10, 6).idle(15).off(300, 45).idle(20).drive(1200, 50, 10, 6);
    const events = runDetectors(d.samples, { tankLitres: TANK });
    const refuels = events.filter((e) => e.type === 'refuel');
    expect(refuels).toHaveLength(1);
    expect(Math.abs(refuels[0]!.volumeL! - 45)).toBeLessThan(1);
    expect(events.filter((e) => e.type === 'fuel_drain')).toEqual([]);
    const summary = summarizeConsumption(d.samples, { tankLitres: TANK });
    // 2 x 20 min at 6 L/h + idle: ~4.06 L, whether counted by the engine or by the tank.
    expect(summary.litresSource).toBe('fuel_rate');
    expect(Math.abs(summary.litresUsed! - 4.06)).toBeLessThan(0.1);
    expect(summary.tankLitres).not.toBeNull();
    expect(Math.abs(summary.tankLitres! - 4.06)).toBeLessThan(0.8);
    expect(summary.refuelL).toBeCloseTo(refuels[0]!.volumeL!, 5);
  });

  it('takes no rise first seen in motion for a refuel when the stop before it read no rise', () => {
    // The long median in motion reads 6 L (7.5 % of the tank) high for five minutes (a full
    // tank's slosh, a long grade); the stop before read the true level, and so does the one after
    // a short park: taken for a refuel, the high median became the level going into that park.
    const d = new Drive(70).drive(900).idle(60);
    d.readsHighL = 6;
    d.drive(300);
    d.readsHighL = 0;
    d.drive(60).idle(10).off(600).idle(30).drive(600);
    expect(fuelEvents(runDetectors(d.samples, { tankLitres: TANK }))).toEqual([]);
  });

  it('still reports a refuel across a park that the vehicle drives off from without a quiet reading', () => {
    const d = new Drive(20).drive(1200, 50, 10, 6).idle(15).off(300, 45).drive(1200, 50, 10, 6);
    const refuels = runDetectors(d.samples, { tankLitres: TANK }).filter((e) => e.type === 'refuel');
    expect(refuels).toHaveLength(1);
    expect(Math.abs(refuels[0]!.volumeL! - 45)).toBeLessThan(2);
  });

  it('ignores a drop in motion unless detectDrainInMotion is set', () => {
    const d = new Drive(60).drive(900);
    // 8 L vanish while driving (a leaking line, a bad sender): the engine does not explain them.
    for (let i = 0; i < 120; i++) d.drive(1).litres -= 8 / 120;
    d.drive(900);
    expect(runDetectors(d.samples, { tankLitres: TANK }).filter((e) => e.type === 'fuel_drain')).toEqual([]);
    const inMotion = runDetectors(d.samples, { tankLitres: TANK, detectDrainInMotion: true }).filter(
      (e) => e.type === 'fuel_drain',
    );
    expect(inMotion).toHaveLength(1);
    expect(Math.abs(inMotion[0]!.volumeL! - 8)).toBeLessThan(1.6);
  });
});

describe('driving detectors', () => {
  it('reports idling over the threshold once, with its duration and fuel', () => {
    const d = new Drive(50).drive(300).idle(400, 1.2).drive(300).idle(100).drive(60);
    const idles = runDetectors(d.samples, { tankLitres: TANK, idleThresholdS: 300 }).filter(
      (e) => e.type === 'long_idle',
    );
    expect(idles).toHaveLength(1);
    expect(idles[0]!.details.durationS).toBe(400);
    expect(idles[0]!.details.fuelL).toBeCloseTo((1.2 * 399) / 3600, 2);
  });

  it('finds harsh braking, acceleration (speed derivative) and cornering (lateral g)', () => {
    const s: DriveSample[] = [];
    const speeds = [0, 5, 20, 35, 40, 40, 40, 40, 20, 5, 0, 0];
    for (const [i, v] of speeds.entries()) {
      s.push({
        ts: T0 + i * 1000,
        speedKmh: v,
        rpm: 1500,
        fuelLevelPct: 50,
        fuelRateLph: 3,
        mafGps: null,
        lat: null,
        lon: null,
        ignition: true,
        accelYG: i === 5 ? 0.62 : 0.05,
      });
    }
    const events = runDetectors(s, { tankLitres: TANK });
    const brake = events.filter((e) => e.type === 'harsh_brake');
    const accel = events.filter((e) => e.type === 'harsh_accel');
    const corner = events.filter((e) => e.type === 'harsh_corner');
    expect(brake).toHaveLength(1); // 40 -> 20 -> 5 km/h: 0.57 g then 0.42 g, one episode
    expect(brake[0]!.details.peakG).toBeCloseTo(20 / 3.6 / 9.81, 2);
    expect(accel).toHaveLength(1);
    expect(corner).toHaveLength(1);
    expect(corner[0]!.details.peakG).toBe(0.62);
  });

  it('reports speeding only above limit + margin for the minimum time', () => {
    const d = new Drive(50)
      .drive(60, 55, 0)
      .drive(40, 75, 0)
      .drive(60, 55, 0)
      .drive(10, 90, 0)
      .drive(60, 50, 0);
    const speeding = runDetectors(d.samples, { tankLitres: TANK, speedLimitKmh: 50 }).filter(
      (e) => e.type === 'speeding',
    );
    expect(speeding).toHaveLength(1); // the 10 s burst is under speedingMinS
    expect(speeding[0]!.details).toMatchObject({ limitKmh: 50, maxSpeedKmh: 75 });
    expect(runDetectors(d.samples, { tankLitres: TANK }).filter((e) => e.type === 'speeding')).toEqual([]);
  });
});

describe('drive log and tank', () => {
  it('reads the CSV log format: ISO or epoch ms, empty cells, unknown columns; bad rows counted', () => {
    const text = [
      'ts,speed_kmh,rpm,fuel_level_pct,fuel_rate_lph,maf_gps,lat,lon,ignition,driver_note,accel_x_g',
      '2024-05-01T08:00:00.000Z,12,900.25,50.1961,1.20,3.10,48.1,11.5,1,hello,0.100',
      `${T0 + 1000},,,,,,,,0,,`,
      '2024-05-01T08:00:02.000Z,abc,900,50,1,1,48,11,1,x,0',
      'yesterday,1,1,1,1,1,1,1,1,x,0',
      '2024-05-01T08:00:04.000Z,1,1,1,1,1,1,1,maybe,x,0',
      '2024-05-01T08:00:05.000Z,1,1',
      '2024-05-01T08:00:06.000Z,1,1,101.5,1,1,1,1,1,x,0',
    ].join('\n');
    const { samples, errors } = parseDriveLogCsv(text);
    expect(samples).toHaveLength(2);
    expect(samples[0]).toMatchObject({
      ts: T0,
      speedKmh: 12,
      fuelLevelPct: 50.1961,
      ignition: true,
      accelXG: 0.1,
    });
    expect(samples[1]).toMatchObject({ ts: T0 + 1000, speedKmh: null, fuelLevelPct: null, ignition: false });
    expect(errors.map((e) => e.line)).toEqual([4, 5, 6, 7, 8]);
    expect(errors[0]!.reason).toMatch(/speed_kmh/);
    expect(parseDriveLogCsv('speed,rpm\n1,2').errors[0]!.reason).toMatch(/no "ts" column/);
  });

  it('turns readings into litres through a non-linear table and knows the step size', () => {
    const cyl = new TankCalibration(80, [
      [0, 0],
      [50, 40],
      [90, 76],
      [100, 80],
    ]);
    expect(cyl.litres(25)).toBeCloseTo(20, 6);
    expect(cyl.litres(95)).toBeCloseTo(78, 6);
    expect(cyl.litres(120)).toBe(80);
    expect(new TankCalibration(400).maxStepLitres()).toBeCloseTo(400 / 255, 3);
  });
});
