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
