import { describe, expect, it } from 'vitest';
import { parseScenario } from '../scenarios/format.ts';
import { during, runScenario } from '../testing/run-scenario.ts';
import { RealSender, type RealSenderParams, type SenderInput } from './fuel-sender.ts';
import { TankGauge } from './tank.ts';

/**
 * The real fuel sender stage by stage: each test switches off the stages it does not look at
 * (params of 0), drives the sender with a known input and checks the PID 2F byte it reports.
 */

const STEP = 100 / 255;
const TANK = new TankGauge(60);
/** Every stage off: the reading is the still level, quantised. */
const QUIET: Partial<RealSenderParams> = {
  tiltPctPerPct: 0,
  waveSigmaPct: 0,
  baffleOffsetPct: 0,
  reservoirPct: 0,
  hysteresisPct: 0,
  adcNoisePct: 0,
  fuelHeatRiseK: 0,
};
const STILL: SenderInput = {
  litres: 30,
  speedMps: 0,
  accelMps2: 0,
  gradePct: 0,
  ignition: true,
  engineRunning: true,
  ambientC: 15,
};

const pct = (byte: number): number => (byte * 100) / 255;

/** Readings (%) over `seconds` of the same input, or of inputs from a function of the second. */
function run(
  sender: RealSender,
  seconds: number,
  input: SenderInput | ((s: number) => SenderInput),
): number[] {
  const out: number[] = [];
  for (let s = 0; s < seconds; s++)
    out.push(pct(sender.read(typeof input === 'function' ? input(s) : input, 1)));
  return out;
}

describe('real fuel sender', () => {
  it('reports whole PID 2F steps: A * 100 / 255, the still level rounded to the nearest', () => {
    const sender = new RealSender(TANK, 1, QUIET);
    for (const litres of [0, 7.3, 30, 44.44, 60]) {
      const byte = sender.read({ ...STILL, litres }, 1);
      expect(Number.isInteger(byte)).toBe(true);
      expect(byte).toBe(Math.round(((litres / 60) * 100 * 255) / 100));
    }
    // With every stage on, still whole steps.
    const noisy = run(new RealSender(TANK, 1), 300, { ...STILL, speedMps: 14 });
    for (const r of noisy) expect(Number.isInteger(Math.round(r * 2.55 * 1e6) / 1e6)).toBe(true);
  });

  it('reads a slope as a level offset: the grade the vehicle stands on tilts the surface', () => {
    const tilt = 0.25;
    const flat = run(new RealSender(TANK, 1, { ...QUIET, tiltPctPerPct: tilt }), 30, STILL).at(-1)!;
    const uphill = run(new RealSender(TANK, 1, { ...QUIET, tiltPctPerPct: tilt }), 30, {
      ...STILL,
      gradePct: 10,
    }).at(-1)!;
    const downhill = run(new RealSender(TANK, 1, { ...QUIET, tiltPctPerPct: tilt }), 30, {
      ...STILL,
      gradePct: -10,
    }).at(-1)!;
    expect(flat).toBeCloseTo(50, 0);
    // Two readings, each rounded to a step: within one step of the 2.5 % offset.
    expect(Math.abs(uphill - flat - tilt * 10)).toBeLessThanOrEqual(STEP + 1e-9);
    expect(Math.abs(flat - downhill - tilt * 10)).toBeLessThanOrEqual(STEP + 1e-9);
    // Braking at 1 g tips the fuel forward like a 100 % downhill grade, for as long as it lasts.
    const braking = run(new RealSender(TANK, 1, { ...QUIET, tiltPctPerPct: tilt }), 10, {
      ...STILL,
      speedMps: 10,
      accelMps2: -9.81,
    }).at(-1)!;
    expect(flat - braking).toBeGreaterThan(20);
  });

  it('keeps settling for minutes after a drive: the baffle compartment drains with its time constant', () => {
    const params = { ...QUIET, baffleOffsetPct: 3, baffleFillS: 120, baffleSettleS: 240 };
    const sender = new RealSender(TANK, 1, params);
    // Half an hour at 50 km/h fills the compartment: the reading stands 3 % high.
    const driving = run(sender, 1800, { ...STILL, speedMps: 50 / 3.6 });
    expect(driving.at(-1)! - 50).toBeCloseTo(3, 0);
    // Stopped, engine idling: down to 1/e of the offset after one time constant, not before.
    const stopped = run(sender, 1200, STILL);
    const offsetAt = (s: number) => stopped[s - 1]! - 50;
    expect(offsetAt(30)).toBeGreaterThan(2.2);
    expect(Math.abs(offsetAt(240) - 3 / Math.E)).toBeLessThanOrEqual(STEP);
    expect(Math.abs(offsetAt(1200))).toBeLessThanOrEqual(STEP / 2 + 1e-9);
  });

  it('has float hysteresis: the reading lags a falling level by half the dead band and ignores small reversals', () => {
    const band = 1.5;
    const sender = new RealSender(TANK, 1, { ...QUIET, hysteresisPct: band });
    // The level falls 3 % (1.8 L) over 10 min: the float hangs half a band above it.
    const falling = run(sender, 600, (s) => ({ ...STILL, litres: 30 - (1.8 * s) / 599 }));
    expect(falling[0]).toBeCloseTo(50, 0);
    expect(Math.abs(falling.at(-1)! - (47 + band / 2))).toBeLessThanOrEqual(STEP / 2 + 1e-9);
    // It rises back by 0.5 %: less than the band, so the float does not move.
    const rising = run(sender, 60, { ...STILL, litres: 28.2 + 0.3 });
    expect(rising.at(-1)).toBe(falling.at(-1));
    // Without friction the same fall is read as it is.
    const free = run(new RealSender(TANK, 1, QUIET), 600, (s) => ({
      ...STILL,
      litres: 30 - (1.8 * s) / 599,
    }));
    expect(free.at(-1)).toBeCloseTo(47, 0);
  });

  it('reads warm fuel high: thermal expansion of the litres a pump counted at 15 degrees C', () => {
    const params = { ...QUIET, fuelHeatRiseK: 15, fuelWarmS: 1800, expansionPerK: 0.00095 };
    const sender = new RealSender(TANK, 1, params);
    const cold = run(sender, 1, { ...STILL, litres: 50 })[0]!;
    expect(sender.fuelC).toBeCloseTo(15, 1);
    // Five hours with the engine running: the fuel is ~30 degrees C, 50 L take 50.71 L.
    const warm = run(sender, 5 * 3600, { ...STILL, litres: 50 }).at(-1)!;
    expect(sender.fuelC!).toBeGreaterThan(29.9);
    const expected = ((50 * 0.00095 * 15) / 60) * 100;
    expect(Math.abs(warm - cold - expected)).toBeLessThanOrEqual(STEP);
    // Parked for a night, it cools back to ambient and the reading with it.
    const night = run(sender, 12 * 3600, { ...STILL, litres: 50, ignition: false, engineRunning: false });
    expect(sender.fuelC!).toBeLessThan(17);
    expect(night.at(-1)! - cold).toBeLessThan(expected);
  });

  it('damps and rate-limits in the ECU, and takes the sender as it is at key-on', () => {
    const sender = new RealSender(TANK, 1, { ...QUIET, ecuDampingS: 60, ecuRateLimitPctPerS: 0.1 });
    run(sender, 10, STILL);
    // 12 L (20 %) poured in with the ignition on: at most 0.1 %/s shows, and then the lag.
    const filling = run(sender, 300, { ...STILL, litres: 42 });
    expect(filling[29]! - 50).toBeLessThanOrEqual(3 + STEP);
    expect(filling[29]! - 50).toBeGreaterThan(1.5);
    expect(filling.at(-1)! - 50).toBeGreaterThan(15);
    expect(filling.at(-1)! - 50).toBeLessThan(20);
    // Key off, 12 L taken, key on: the first reading is the new level, not a damped one.
    run(sender, 60, { ...STILL, litres: 30, ignition: false, engineRunning: false });
    const keyOn = run(sender, 1, { ...STILL, litres: 30 })[0]!;
    expect(keyOn).toBeCloseTo(50, 0);
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const drive = (seed: number) =>
      run(new RealSender(TANK, seed), 600, { ...STILL, speedMps: 14, accelMps2: 0.2 });
    expect(drive(7)).toEqual(drive(7));
    expect(drive(7)).not.toEqual(drive(8));
  });
});

describe('a simulated stop on a slope', () => {
  const slopeIdle = parseScenario({
    name: 'slope-idle',
    events: [{ type: 'idle', at: '10m', durationS: '10m', gradePct: 8 }],
  });

  it('stands on the scripted grade while idling; only the real sender reads it as a level change', () => {
    const real = runScenario(slopeIdle, 1800, { sender: 'real', tankLitres: 45 });
    const ideal = runScenario(slopeIdle, 1800, { sender: 'ideal', tankLitres: 45 });
    const idle = real.labels.find((l) => l.type === 'long_idle');
    expect(idle).toBeDefined();
    expect(during(real, idle!).every((t) => t.state.gradePct === 8 && t.state.speedKmh === 0)).toBe(true);
    // Reading minus the truth in the idle's last minute: ~0.25 %/% x 8 % high with the real sender.
    const bias = (run: typeof real) => {
      const last = during(run, idle!).slice(-60);
      return (
        last.reduce((a, t) => a + t.state.fuelLevelPct - (t.state.fuelLitresTrue / 45) * 100, 0) / last.length
      );
    };
    expect(bias(real)).toBeGreaterThan(1);
    expect(Math.abs(bias(ideal))).toBeLessThan(0.4);
    // Back on the road the grade is the road's again (the built-in loops' gentle terrain).
    expect(Math.abs(real.ticks.at(-1)!.state.gradePct)).toBeLessThan(2);
  });
});
