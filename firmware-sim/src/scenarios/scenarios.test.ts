import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { during, runScenario, type ScenarioRun } from '../testing/run-scenario.ts';
import { BUILTIN_SCENARIOS } from './builtin.ts';
import { DEFAULT_THRESHOLDS, parseScenario, type ScenarioDefinition } from './format.ts';
import { loadScenario } from './index.ts';
import type { Label } from './labels.ts';

const G = 9.81;

function ofType<T extends Label['type']>(run: ScenarioRun, type: T): Extract<Label, { type: T }>[] {
  return run.labels.filter((l): l is Extract<Label, { type: T }> => l.type === type);
}

function scenario(def: Omit<ScenarioDefinition, 'name'> & { name?: string }): ScenarioDefinition {
  return parseScenario({ name: 'test', ...def });
}

/** One step of the tank sender (PID 2F) in litres, for a tank of `tankLitres`. */
const senderStepL = (tankLitres: number): number => tankLitres / 255;

describe('scenarios: determinism', () => {
  const fingerprint = (run: ScenarioRun): string =>
    createHash('sha256')
      .update(JSON.stringify(run.ticks.map((t) => [t.state, t.plugged, t.fix])))
      .digest('hex');

  it('gives the same labels and truth twice for a seed, and different ones for another seed', () => {
    const a = runScenario(loadScenario('mixed'), 10 * 3600, { seed: 5 });
    const b = runScenario(loadScenario('mixed'), 10 * 3600, { seed: 5 });
    const c = runScenario(loadScenario('mixed'), 10 * 3600, { seed: 6 });
    expect(a.labels.length).toBeGreaterThan(5);
    expect(JSON.stringify(b.labels)).toBe(JSON.stringify(a.labels));
    expect(fingerprint(b)).toBe(fingerprint(a));
    expect(JSON.stringify(c.labels)).not.toBe(JSON.stringify(a.labels));
  });

  it('draws each range per occurrence, so repeats differ but replay', () => {
    const run = runScenario(loadScenario('fuel-theft'), 14 * 3600, { seed: 2 });
    const volumes = ofType(run, 'fuel_theft').map((l) => l.requestedL);
    expect(volumes.length).toBeGreaterThanOrEqual(2);
    expect(new Set(volumes).size).toBe(volumes.length);
    for (const v of volumes) {
      expect(v).toBeGreaterThanOrEqual(10);
      expect(v).toBeLessThanOrEqual(30);
    }
  });
});

describe('scenarios: each label matches what the model did', () => {
  it('fuel theft: parked, ignition off, the true tank drops by the labelled volume', () => {
    const run = runScenario(loadScenario('fuel-theft'), 12 * 3600, { seed: 3 });
    const thefts = ofType(run, 'fuel_theft');
    expect(thefts.length).toBeGreaterThanOrEqual(2);
    for (const theft of thefts) {
      const before = run.at(theft.start).state;
      const after = run.at(theft.end!).state;
      // Engine off throughout: only the siphon moved fuel.
      for (const t of during(run, theft)) {
        expect(t.state.ignition).toBe(false);
        expect(t.state.speedKmh).toBe(0);
      }
      expect(after.ignition).toBe(false);
      expect(before.fuelLitresTrue - after.fuelLitresTrue).toBeCloseTo(theft.volumeL, 3);
      expect(theft.volumeL).toBeGreaterThan(5);
      // The sender saw it too, within its quantisation and the still-tank noise.
      const sensed = ((before.fuelLevelPct - after.fuelLevelPct) / 100) * before.tankLitres;
      expect(Math.abs(sensed - theft.volumeL)).toBeLessThanOrEqual(3 * senderStepL(before.tankLitres));
      expect([theft.lat, theft.lon]).toEqual([before.lat, before.lon]);
      expect(theft.rateLph).toBeCloseTo((theft.requestedL / ((theft.end! - theft.start) / 1000)) * 3600, 0);
      // ...inside an ignition-off label.
      const off = ofType(run, 'ignition_off').find((l) => l.start <= theft.start && l.end! >= theft.end!);
      expect(off).toBeDefined();
    }
  });

  it('refuel: parked, ignition off, the tank rises by the labelled volume', () => {
    const run = runScenario(loadScenario('refuel'), 8 * 3600, { seed: 4 });
    const refuels = ofType(run, 'refuel');
    expect(refuels.length).toBeGreaterThanOrEqual(2);
    for (const refuel of refuels) {
      const before = run.at(refuel.start).state;
      const after = run.at(refuel.end!).state;
      for (const t of during(run, refuel)) expect(t.state.ignition).toBe(false);
      expect(after.fuelLitresTrue - before.fuelLitresTrue).toBeCloseTo(refuel.volumeL, 3);
      // 20-40 L asked; less only when the tank was full first (volumes are rounded to 0.1 mL).
      expect(refuel.volumeL).toBeGreaterThanOrEqual(
        Math.min(20, before.tankLitres - before.fuelLitresTrue) - 1e-3,
      );
      const sensed = ((after.fuelLevelPct - before.fuelLevelPct) / 100) * before.tankLitres;
      expect(Math.abs(sensed - refuel.volumeL)).toBeLessThanOrEqual(3 * senderStepL(before.tankLitres));
      // A few minutes at a pump (~35 L/min).
      expect((refuel.end! - refuel.start) / 1000).toBeLessThan(300);
    }
  });

  it('slow leak: the labelled volume is rate x duration, over driving and parking', () => {
    const leak = scenario({
      vehicle: { initialFuelPct: 90 },
      schedule: { tripS: '20m', parkS: '15m' },
      events: [{ type: 'leak', at: '5m', rateLph: 0.6, durationS: '3h' }],
    });
    const run = runScenario(leak, 4 * 3600);
    const [label] = ofType(run, 'fuel_leak');
    expect(label).toBeDefined();
    expect((label!.end! - label!.start) / 1000).toBe(3 * 3600);
    expect(label!.volumeL).toBeCloseTo(0.6 * 3, 6);
    const ticks = during(run, label!);
    expect(ticks.some((t) => t.state.ignition)).toBe(true);
    expect(ticks.some((t) => !t.state.ignition)).toBe(true);
    // While parked (no consumption) the tank drops at exactly the leak rate.
    const parked = ticks.filter((t, i) => i > 0 && !t.state.ignition && !ticks[i - 1]!.state.ignition);
    expect(parked.length).toBeGreaterThan(600);
    for (const t of parked.slice(1, 50)) {
      const prev = run.at(t.state.simTimeMs - 1000).state;
      expect(prev.fuelLitresTrue - t.state.fuelLitresTrue).toBeCloseTo(0.6 / 3600, 9);
    }
  });

  it('harsh braking and acceleration: labelled with peak g beyond the thresholds, and only when scripted', () => {
    const run = runScenario(loadScenario('harsh-driving'), 2 * 3600, { seed: 8 });
    const brakes = ofType(run, 'harsh_brake');
    const accels = ofType(run, 'harsh_accel');
    expect(brakes.length).toBeGreaterThanOrEqual(8);
    expect(accels.length).toBeGreaterThanOrEqual(8);
    for (const l of [...brakes, ...accels]) {
      expect(l.scripted).toBe(true);
      const threshold =
        l.type === 'harsh_brake' ? DEFAULT_THRESHOLDS.harshBrakeG : DEFAULT_THRESHOLDS.harshAccelG;
      expect(l.peakG).toBeGreaterThanOrEqual(threshold);
      expect(l.peakG).toBeLessThan(0.8);
      // The states after `start` up to `end` are the seconds of that acceleration.
      const accelsG = run.ticks
        .filter((t) => t.state.simTimeMs > l.start && t.state.simTimeMs <= l.end!)
        .map((t) => t.state.accelMps2 / G);
      const peak = l.type === 'harsh_brake' ? -Math.min(...accelsG) : Math.max(...accelsG);
      expect(peak).toBeCloseTo(l.peakG, 3);
      expect(l.speedKmhBefore).toBeCloseTo(run.at(l.start).state.speedKmh, 1);
    }
    // Natural driving stays under the thresholds: no label without a scripted cause.
    const natural = runScenario(loadScenario('none'), 3 * 3600, { seed: 8 });
    expect(ofType(natural, 'harsh_brake')).toEqual([]);
    expect(ofType(natural, 'harsh_accel')).toEqual([]);
  });

  it('speeding: above the limit + margin for the labelled duration', () => {
    const run = runScenario(loadScenario('speeding'), 3600, { seed: 2 });
    const labels = ofType(run, 'speeding');
    expect(labels.length).toBeGreaterThanOrEqual(2);
    for (const l of labels) {
      expect(l.limitKmh).toBe(120);
      expect(l.scripted).toBe(true);
      const ticks = during(run, l);
      expect(ticks).toHaveLength(l.durationS);
      expect(l.durationS).toBeGreaterThanOrEqual(DEFAULT_THRESHOLDS.speedingMinS);
      for (const t of ticks) expect(t.state.speedKmh).toBeGreaterThan(130);
      expect(run.at(l.end!).state.speedKmh).toBeLessThanOrEqual(130);
      expect(Math.max(...ticks.map((t) => t.state.speedKmh))).toBeCloseTo(l.maxSpeedKmh, 1);
    }
  });

  it('long idling: engine running at a standstill for the labelled time, with its fuel', () => {
    const run = runScenario(loadScenario('long-idle'), 2 * 3600, { seed: 5 });
    const labels = ofType(run, 'long_idle');
    expect(labels.length).toBeGreaterThanOrEqual(1);
    for (const l of labels) {
      const ticks = during(run, l);
      expect(ticks).toHaveLength(l.durationS);
      expect(l.durationS).toBeGreaterThanOrEqual(DEFAULT_THRESHOLDS.longIdleS);
      for (const t of ticks) {
        expect(t.state.engineRunning).toBe(true);
        expect(t.state.speedKmh).toBe(0);
      }
      expect(l.fuelL).toBeGreaterThan((l.durationS / 3600) * 0.5);
      expect(l.fuelL).toBeLessThan((l.durationS / 3600) * 1.5);
    }
  });

  it('ignition off: OBD-visible ignition off over exactly the labelled interval', () => {
    const run = runScenario(loadScenario('ignition-off'), 3 * 3600, { seed: 1 });
    const labels = ofType(run, 'ignition_off');
    expect(labels.length).toBeGreaterThanOrEqual(2);
    for (const l of labels) {
      for (const t of during(run, l)) {
        expect(t.state.ignition).toBe(false);
        expect(t.state.rpm).toBe(0);
        expect(t.state.batteryV).toBeGreaterThan(12.2);
        expect(t.state.batteryV).toBeLessThan(12.7);
      }
      expect(run.at(l.start - 1000).state.ignition).toBe(true);
      if (!l.truncated) expect(run.at(l.end!).state.ignition).toBe(true);
      expect(l.durationS).toBe((l.end! - l.start) / 1000);
    }
  });

  it('DTC: pending first, then stored with the MIL on from the labelled time', () => {
    const run = runScenario(loadScenario('dtc'), 3600);
    const labels = ofType(run, 'dtc');
    expect(labels.map((l) => l.code).sort()).toEqual(['P0133', 'P0420']);
    const p0133 = labels.find((l) => l.code === 'P0133')!;
    expect(p0133.end).toBeNull();
    expect(p0133.mil).toBe(true);
    expect(p0133.pendingFrom).toBe(run.ticks[600]!.state.simTimeMs);
    expect(p0133.start).toBe(run.ticks[900]!.state.simTimeMs);
    expect(run.diagnostics.stored).toEqual(['P0133', 'P0420']);
    expect(run.diagnostics.milOn).toBe(true);
  });

  it('unplug and GPS fix loss: the adapter and fix flags are off over exactly the labelled intervals', () => {
    const s = scenario({
      events: [
        { type: 'unplug', at: 100, durationS: 60 },
        { type: 'gps_loss', at: 130, durationS: 90 },
      ],
    });
    const run = runScenario(s, 600);
    const [unplug] = ofType(run, 'unplug');
    const [loss] = ofType(run, 'gps_fix_loss');
    expect([unplug!.start, unplug!.end]).toEqual([
      run.ticks[100]!.state.simTimeMs,
      run.ticks[160]!.state.simTimeMs,
    ]);
    expect([loss!.start, loss!.end]).toEqual([
      run.ticks[130]!.state.simTimeMs,
      run.ticks[220]!.state.simTimeMs,
    ]);
    run.ticks.forEach((t, i) => {
      expect(t.plugged, `plugged at ${i}`).toBe(i < 100 || i >= 160);
      expect(t.fix, `fix at ${i}`).toBe(i < 130 || i >= 220);
    });
  });

  it('adapter errors: every error answer and a power glitch are injected and labelled', () => {
    const run = runScenario(loadScenario('adapter-errors'), 15 * 60);
    expect(run.injected.map((i) => i.answer)).toEqual(ofType(run, 'obd_error').map((l) => l.answer));
    expect(new Set(run.injected.map((i) => i.answer)).size).toBe(11);
    expect(run.glitches).toBe(1);
    expect(ofType(run, 'power_glitch')).toHaveLength(1);
  });

  it('empty tank: the engine dies, the vehicle rolls to a stop, a rescue refuels and it restarts', () => {
    const run = runScenario(loadScenario('empty-tank'), 3600, { seed: 2 });
    const [dry] = ofType(run, 'out_of_fuel');
    const [rescue] = ofType(run, 'refuel');
    expect(dry).toBeDefined();
    expect(rescue).toMatchObject({ rescue: true });
    expect(rescue!.volumeL).toBeCloseTo(10, 6);
    const stall = run.at(dry!.start).state;
    expect(stall.ignition).toBe(true);
    expect(stall.engineRunning).toBe(false);
    expect(stall.fuelLitresTrue).toBe(0);
    // Rolled to a stop without power, stranded until the rescue, then running again.
    const stranded = during(run, dry!);
    expect(stranded.at(-1)!.state.speedKmh).toBe(0);
    for (const t of stranded) expect(t.state.engineRunning).toBe(false);
    expect(run.at(dry!.end!).state.engineRunning).toBe(true);
    expect(rescue!.start - dry!.start).toBeGreaterThanOrEqual(20 * 60 * 1000);
    expect(run.ticks.some((t) => t.state.simTimeMs > dry!.end! && t.state.speedKmh > 20)).toBe(true);
  });

  it('runs every built-in scenario for two hours without an unexplained label', () => {
    const known = new Set([
      'fuel_theft',
      'fuel_leak',
      'refuel',
      'harsh_brake',
      'harsh_accel',
      'speeding',
      'long_idle',
      'ignition_off',
      'out_of_fuel',
      'dtc',
      'unplug',
      'gps_fix_loss',
      'obd_error',
      'power_glitch',
    ]);
    for (const def of BUILTIN_SCENARIOS) {
      const run = runScenario(loadScenario(def.name), 2 * 3600, { seed: 11 });
      for (const l of run.labels) {
        expect(known.has(l.type), `${def.name}: ${l.type}`).toBe(true);
        expect(l.vehicleId).toBe('test-1');
        if (l.end !== null) expect(l.end).toBeGreaterThanOrEqual(l.start);
        if ('scripted' in l && (l.type === 'harsh_brake' || l.type === 'harsh_accel')) {
          expect(l.scripted, `${def.name}: natural ${l.type}`).toBe(true);
        }
      }
    }
  });
});
