import { describe, expect, it } from 'vitest';
import { VehicleModel, type VehicleState } from './model.ts';
import { routeByName } from './route.ts';

const START = Date.UTC(2024, 4, 1, 8, 0, 0);

function run(model: VehicleModel, seconds: number): VehicleState[] {
  const states: VehicleState[] = [];
  for (let i = 0; i < seconds; i++) {
    model.step();
    states.push(model.state());
  }
  return states;
}

describe('VehicleModel', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = run(new VehicleModel({ seed: 11, startTimeMs: START }), 600);
    const b = run(new VehicleModel({ seed: 11, startTimeMs: START }), 600);
    const c = run(new VehicleModel({ seed: 12, startTimeMs: START }), 600);
    expect(a).toEqual(b);
    expect(c.map((s) => s.lat)).not.toEqual(a.map((s) => s.lat));
  });

  it('advances one whole simulated second per step from a whole-second start', () => {
    const model = new VehicleModel({ seed: 1, startTimeMs: START + 700 });
    expect(model.state().simTimeMs).toBe(START);
    model.step();
    model.step();
    expect(model.state().simTimeMs).toBe(START + 2000);
  });

  it('idles warm at ~750 rpm, drives, stops at lights and cruises near the limit', () => {
    const model = new VehicleModel({
      seed: 3,
      startTimeMs: START,
      route: routeByName('munich-altstadtring'),
    });
    const states = run(model, 3600);
    const warmIdle = states.slice(1800).filter((s) => s.speedKmh === 0 && s.gear === 0);
    expect(warmIdle.length).toBeGreaterThan(30);
    for (const s of warmIdle) expect(Math.abs(s.rpm - 750)).toBeLessThan(50);
    expect(Math.max(...states.map((s) => s.speedKmh))).toBeGreaterThan(40);
    expect(Math.max(...states.map((s) => s.speedKmh))).toBeLessThan(60);
    const stops = states.filter((s, i) => i > 0 && s.speedKmh === 0 && states[i - 1]!.speedKmh > 0).length;
    expect(stops).toBeGreaterThan(5);
    for (const s of states) {
      expect(Math.abs(s.accelMps2)).toBeLessThanOrEqual(6.0001);
      expect(s.rpm).toBeGreaterThan(600);
      expect(s.rpm).toBeLessThan(6000);
      expect((s.rpm * 4) % 1).toBe(0); // PID 0C resolution
    }
  });

  it('burns fuel at idle and more when driving, and warms the coolant to ~90 C', () => {
    const model = new VehicleModel({ seed: 5, startTimeMs: START, ambientC: 10, initialFuelPct: 50 });
    const first = model.state();
    expect(first.coolantC).toBe(10);
    expect(first.fuelLitresTrue).toBe(30);
    const states = run(model, 2400);
    const last = states.at(-1)!;
    const used = first.fuelLitresTrue - last.fuelLitresTrue;
    const km = last.odometerKm - first.odometerKm;
    expect(km).toBeGreaterThan(5);
    expect((used / km) * 100).toBeGreaterThan(5); // L/100 km, city
    expect((used / km) * 100).toBeLessThan(20);
    for (const s of states.filter((x) => x.speedKmh === 0 && x.coolantC > 80)) {
      expect(s.fuelRateLph).toBeGreaterThan(0.5);
      expect(s.fuelRateLph).toBeLessThan(1.2);
    }
    expect(last.coolantC).toBeGreaterThan(86);
    expect(last.coolantC).toBeLessThan(94);
    // MAF stays consistent with the fuel rate: L/h = MAF * 3600 / 14.7 / 745.
    for (const s of states) expect((s.mafGs * 3600) / 14.7 / 745).toBeCloseTo(s.fuelRateLph, 9);
  });

  it('reports the tank sender level quantised to 1/255 with slosh under acceleration', () => {
    const model = new VehicleModel({ seed: 9, startTimeMs: START, tankLitres: 60, initialFuelPct: 50 });
    const states = run(model, 1200);
    for (const s of states) {
      const a = (s.fuelLevelPct * 255) / 100;
      expect(Math.abs(a - Math.round(a))).toBeLessThan(1e-9);
    }
    const hard = states.filter((s) => Math.abs(s.accelMps2) > 1.5);
    expect(hard.length).toBeGreaterThan(5);
    const sloshLitres = hard.map((s) => Math.abs((s.fuelLevelPct / 100) * 60 - s.fuelLitresTrue));
    expect(Math.max(...sloshLitres)).toBeGreaterThan(1.5); // litres of apparent change from slosh
    const still = states.filter((s) => s.speedKmh === 0 && s.accelMps2 === 0);
    for (const s of still) expect(Math.abs(s.fuelLevelPct - (s.fuelLitresTrue / 60) * 100)).toBeLessThan(1);
  });

  it('stops the engine with the ignition off and restarts it', () => {
    const model = new VehicleModel({ seed: 2, startTimeMs: START });
    run(model, 120);
    model.setIgnition(false);
    const off = run(model, 10);
    for (const s of off) {
      expect(s.ignition).toBe(false);
      expect(s.rpm).toBe(0);
      expect(s.speedKmh).toBe(0);
      expect(s.fuelRateLph).toBe(0);
      expect(s.batteryV).toBeLessThan(13);
    }
    expect(off[0]!.fuelLitresTrue).toBe(off.at(-1)!.fuelLitresTrue);
    model.setIgnition(true);
    const on = run(model, 3);
    expect(on[0]!.runTimeS).toBe(1);
    expect(on[0]!.rpm).toBeGreaterThan(600);
    expect(on[0]!.batteryV).toBeGreaterThan(13.5);
  });

  it('takes refuels and drains, clamped to the tank', () => {
    const model = new VehicleModel({ seed: 2, startTimeMs: START, tankLitres: 50, initialFuelPct: 20 });
    model.addFuel(100);
    expect(model.state().fuelLitresTrue).toBe(50);
    model.addFuel(-60);
    expect(model.state().fuelLitresTrue).toBe(0);
  });
});

describe('VehicleModel: what a scenario makes the driver do', () => {
  /** Drive until moving at >= kmh (bounded). */
  function driveTo(model: VehicleModel, kmh: number): void {
    for (let i = 0; i < 1200 && model.state().speedKmh < kmh; i++) model.step();
    expect(model.state().speedKmh).toBeGreaterThanOrEqual(kmh);
  }

  it('pulls over gently and holds with the engine running, then drives on', () => {
    const model = new VehicleModel({
      seed: 4,
      startTimeMs: START,
      route: routeByName('munich-motorway-ring'),
    });
    driveTo(model, 60);
    model.pullOver();
    const stopping = run(model, 60);
    for (const s of stopping) expect(s.accelMps2).toBeGreaterThanOrEqual(-1.6 - 1e-9);
    expect(model.held).toBe(true);
    const held = run(model, 30);
    for (const s of held) {
      expect(s.speedKmh).toBe(0);
      expect(s.engineRunning).toBe(true);
      expect(s.rpm).toBeGreaterThan(600);
    }
    model.resume();
    expect(run(model, 30).at(-1)!.speedKmh).toBeGreaterThan(20);
  });

  it('brakes and launches hard on request, far beyond natural driving', () => {
    const model = new VehicleModel({
      seed: 4,
      startTimeMs: START,
      route: routeByName('munich-motorway-ring'),
    });
    driveTo(model, 60);
    model.harshBrake(0.6 * 9.81);
    const braking = run(model, 10);
    expect(Math.min(...braking.map((s) => s.accelMps2))).toBeCloseTo(-0.6 * 9.81, 6);
    expect(braking.at(-1)!.speedKmh).toBe(0);
    model.pullOver();
    run(model, 5);
    model.harshAccelerate(0.4 * 9.81, 4);
    model.resume();
    const launch = run(model, 10);
    expect(Math.max(...launch.map((s) => s.accelMps2))).toBeCloseTo(0.4 * 9.81, 6);
  });

  it('cruises over the limit with an override', () => {
    const model = new VehicleModel({
      seed: 4,
      startTimeMs: START,
      route: routeByName('munich-motorway-ring'),
    });
    driveTo(model, 60);
    model.setCruiseOverride(150);
    const states = run(model, 240).slice(120);
    for (const s of states) expect(s.speedKmh).toBeGreaterThan(140);
    model.setCruiseOverride(null);
    expect(run(model, 120).at(-1)!.speedKmh).toBeLessThan(130);
  });

  it('moves fuel through named flows, clamped to the tank, reporting what really moved', () => {
    const model = new VehicleModel({ seed: 2, startTimeMs: START, tankLitres: 50, initialFuelPct: 10 });
    model.setIgnition(false);
    model.setFuelFlow('siphon', -3600); // 1 L/s
    run(model, 3);
    expect(model.state().fuelLitresTrue).toBeCloseTo(2, 9);
    run(model, 5);
    expect(model.state().fuelLitresTrue).toBe(0);
    expect(model.endFuelFlow('siphon')).toBeCloseTo(-5, 9);
    model.setFuelFlow('nozzle', 36_000); // 10 L/s
    run(model, 6);
    expect(model.state().fuelLitresTrue).toBe(50);
    expect(model.endFuelFlow('nozzle')).toBeCloseTo(50, 9);
  });

  it('stalls on an empty tank, rolls to a stop, and restarts only with fuel and a key cycle', () => {
    const model = new VehicleModel({ seed: 6, startTimeMs: START, tankLitres: 60, initialFuelPct: 0.5 });
    const states = run(model, 1800);
    const dead = states.findIndex((s) => !s.engineRunning);
    expect(dead).toBeGreaterThan(0);
    expect(states[dead]!.ignition).toBe(true);
    expect(states[dead]!.fuelLitresTrue).toBe(0);
    expect(states[dead]!.rpm).toBe(0);
    const after = states.slice(dead);
    for (const s of after) {
      expect(s.engineRunning).toBe(false);
      expect(s.fuelRateLph).toBe(0);
      expect(s.accelMps2).toBeGreaterThanOrEqual(-1.2 - 1e-9);
    }
    expect(after.at(-1)!.speedKmh).toBe(0);
    expect(after.at(-1)!.batteryV).toBeLessThan(12.2);
    expect(model.stranded).toBe(true);
    model.setIgnition(false);
    model.setIgnition(true); // no fuel: cranks, does not start
    expect(model.state().engineRunning).toBe(false);
    model.addFuel(10);
    model.setIgnition(false);
    model.setIgnition(true);
    expect(model.state().engineRunning).toBe(true);
    expect(run(model, 120).some((s) => s.speedKmh > 10)).toBe(true);
  });

  it('reads a shaped tank through its calibration', () => {
    const model = new VehicleModel({
      seed: 2,
      startTimeMs: START,
      tankLitres: 400,
      tankShape: { kind: 'cylinder' },
      initialFuelPct: 5.2,
    });
    model.setIgnition(false);
    const s = run(model, 2).at(-1)!;
    // 5.2 % of the volume sits 10 % up a cylinder's height: the sender says ~10 %.
    expect(s.fuelLevelPct).toBeGreaterThan(9);
    expect(s.fuelLevelPct).toBeLessThan(11);
  });
});
