import { Random } from './random.ts';
import type { TankGauge } from './tank.ts';

/**
 * The fuel level sender and the ECU behind PID 2F: from the litres in the tank to the byte A the
 * ECU reports (A * 100 / 255 % of the sender's travel).
 *
 *   ideal  the simulator's first model: the still level, plus slosh proportional to the
 *          longitudinal acceleration and a little noise, quantised. Kept (bit for bit) so the
 *          datasets made with it stay the same.
 *   real   what a real tank and ECU do (issue 14): every stage below, with the parameters of
 *          RealSenderParams. Its defaults are tuned on the carOBD trips of a 45 L petrol car
 *          (bench/fuel-sender.ts prints the comparison).
 *
 *   litres (at 15 degrees C) --thermal expansion--> volume --tank shape--> still level %
 *     + tilt: road grade and acceleration tip the surface (the float is off the tank's centre)
 *     + baffle: the sender's compartment, filled by slosh while moving, drains back for minutes
 *     + reservoir: the pump's swirl pot, refilled from the tank by the jet pump for minutes after
 *       the engine starts, draining back slowly while parked
 *     + waves: slosh while moving, dying out within seconds of stopping
 *     --> float with friction (a dead band: it moves only once the surface has left it)
 *     + ADC noise --> ECU: first-order damping and a rate limit --> 1/255 quantisation
 */
export type SenderModelName = 'ideal' | 'real';
export const SENDER_MODELS: readonly SenderModelName[] = ['ideal', 'real'];

/** What the sender sees of the vehicle in one simulated second. */
export interface SenderInput {
  /** Litres in the tank, measured at 15 degrees C (what a pump meter counts). */
  litres: number;
  speedMps: number;
  /** Longitudinal acceleration over the last second, m/s^2, positive forwards. */
  accelMps2: number;
  /** Road grade under the vehicle, %, positive nose up. */
  gradePct: number;
  /** The ECU is powered (ignition on): it reads and filters the sender. */
  ignition: boolean;
  engineRunning: boolean;
  ambientC: number;
}

export interface FuelSender {
  readonly model: SenderModelName;
  /**
   * Advance `elapsedS` (1 per simulated second; 0 when fuel is added or taken at once) and return
   * PID 2F byte A (0...255).
   */
  read(input: SenderInput, elapsedS: number): number;
  /** Fuel temperature, degrees C (the ideal sender has none: ambient). */
  readonly fuelC: number | null;
}

/** Tank sender slosh of the ideal model: % of capacity per m/s^2 of longitudinal acceleration. */
const SLOSH_PCT_PER_MPS2 = 2.5;

const toByte = (pct: number): number => Math.min(255, Math.max(0, Math.round((pct * 255) / 100)));

/**
 * The simulator's original sender: the true level plus slosh, quantised. Draws from the vehicle's
 * 'sensor' stream exactly as before, so the other sensors' noise is unchanged too.
 */
export class IdealSender implements FuelSender {
  readonly model = 'ideal';
  readonly fuelC = null;

  constructor(
    private readonly tank: TankGauge,
    private readonly sensor: Random,
  ) {}

  read(input: SenderInput): number {
    const truePct = this.tank.readingPct(input.litres);
    const moving = input.speedMps > 0.5;
    const sloshPct =
      SLOSH_PCT_PER_MPS2 * input.accelMps2 * (1 + 0.2 * this.sensor.gaussian()) +
      this.sensor.gaussian() * (moving ? 0.3 : 0.1);
    return toByte(truePct + sloshPct);
  }
}

/**
 * The real sender's parameters, each with a plausible range and its default. "tuned": fitted to
 * the carOBD trips (a 2014 Toyota Etios, 45 L; bench/fuel-sender.ts prints the fit). A range with
 * no source named is an engineering estimate from tank geometry and common sender and ECU designs,
 * not a measurement: the carOBD car shows only one point in it.
 */
export interface RealSenderParams {
  /**
   * Reading % per % of effective slope (grade + 100 a / g): the surface tilts and the float, some
   * 10-30 cm off the centre of a 20-40 cm deep tank, rises or sinks with it. 0.1-1.0 (geometry:
   * 100 x offset / depth / 100); tuned 0.25 (the old ideal model's 2.5 %/(m/s^2) is 0.245).
   * Positive: the float sits towards the rear.
   */
  tiltPctPerPct: number;
  /** How fast the surface follows a new slope (fuel flowing under the baffles), s: 0.5-5; tuned 1. */
  tiltLagS: number;
  /**
   * Slosh waves while moving, sigma % of travel: 1-10 on a baffled car tank; tuned 4.8. About the
   * same at any speed (the carOBD car: 4.8 % at 1-20 km/h, 5.3 at 20-40, 4.0 at 40-60, 3.9 above).
   */
  waveSigmaPct: number;
  /** Correlation time of the waves while moving, s: 1-5; tuned 3.5. */
  waveMemoryS: number;
  /** Time constant of the waves dying out once stopped, s: 0.5-3; tuned 1 (carOBD: calm within ~2 s). */
  waveCalmS: number;
  /**
   * The sender's baffle compartment, overfilled by slosh while moving (negative: emptied), % of
   * travel: -3...3; tuned 0.4. It fills over `baffleFillS` of driving and drains back after a
   * stop with `baffleSettleS`: the settling that goes on for minutes.
   */
  baffleOffsetPct: number;
  /** Time constant of the compartment filling while moving, s: 60-600; 240. */
  baffleFillS: number;
  /** Time constant of the compartment draining after the vehicle stops, s: 60-900; tuned 120. */
  baffleSettleS: number;
  /**
   * The fuel pump's reservoir (swirl pot), % of travel it holds: 0-4 (up to ~1.8 L in a 45 L
   * tank); tuned 3 (the carOBD idle trips sink 0.8-2.3 % in their first 10 min). Kept full by the jet pump while the engine runs (the running level is the
   * calibrated one); it drains back through its check valve while parked, so the level reads high
   * at key-on after a long park and sinks for minutes after the start.
   */
  reservoirPct: number;
  /** Time constant of the jet pump refilling it after the start, s: 120-900; tuned 300. */
  reservoirFillS: number;
  /** ...and of it draining back into the tank while the engine is off, s: 3600-86400; 10800. */
  reservoirDrainS: number;
  /** Float friction dead band, % of travel (the float sticks until the surface leaves it): 0.2-1.5; 0.6. */
  hysteresisPct: number;
  /** Electrical noise on the sender's resistance at the ECU's ADC, sigma % of travel: 0-0.3; tuned 0.2 (the ±1 step flicker at rest). */
  adcNoisePct: number;
  /**
   * ECU damping of the reported level (first-order time constant, s): 0 (raw: the carOBD car)
   * to 120 (ECUs and clusters that average the needle). Restarts from the sender at key-on
   * ("fast fill", so a refuel shows at once).
   */
  ecuDampingS: number;
  /** ECU rate limit of the reported level, % per second; Infinity: none (the carOBD car). 0.02-1 where present. */
  ecuRateLimitPctPerS: number;
  /**
   * Volume expansion of the fuel per kelvin: gasoline 0.00095, diesel 0.00083 (API MPMS 11.1 /
   * ASTM D1250 volume correction at 15 degrees C).
   */
  expansionPerK: number;
  /** Fuel temperature rise over ambient with the engine running (pump, return line, exhaust heat), K: 2-15; 6. */
  fuelHeatRiseK: number;
  /** Time constant of the fuel warming with the engine running, s: 1800-5400; 2700. */
  fuelWarmS: number;
  /** ...and of cooling back to ambient with the engine off, s: 3600-14400; 7200. */
  fuelCoolS: number;
}

export const REAL_SENDER_DEFAULTS: RealSenderParams = {
  tiltPctPerPct: 0.25,
  tiltLagS: 1,
  waveSigmaPct: 4.8,
  waveMemoryS: 3.5,
  waveCalmS: 1,
  baffleOffsetPct: 0.4,
  baffleFillS: 240,
  baffleSettleS: 120,
  reservoirPct: 3,
  reservoirFillS: 300,
  reservoirDrainS: 10_800,
  hysteresisPct: 0.6,
  adcNoisePct: 0.2,
  ecuDampingS: 0,
  ecuRateLimitPctPerS: Number.POSITIVE_INFINITY,
  expansionPerK: 0.00095,
  fuelHeatRiseK: 6,
  fuelWarmS: 2700,
  fuelCoolS: 7200,
};

const G = 9.81;
/** Reference temperature of the litres a pump counts. */
const REFERENCE_C = 15;

/** A first-order lag with time constant tauS over dtS seconds (tauS 0: follow at once). */
const lag = (value: number, target: number, tauS: number, dtS: number): number =>
  tauS <= 0 ? target : value + (target - value) * (1 - Math.exp(-dtS / tauS));

/** The sender and ECU of a real vehicle (see the file comment for the stages). Deterministic per seed. */
export class RealSender implements FuelSender {
  readonly model = 'real';
  readonly params: RealSenderParams;
  private readonly rng: Random;
  private fuelTempC: number | null = null;
  private tiltPct = 0;
  private bafflePct = 0;
  /** Reservoir fill, 0...1; a simulated vehicle starts after a long park: empty. */
  private reservoirFill = 0;
  private wavePct = 0;
  private floatPct: number | null = null;
  private reportedPct: number | null = null;
  private ecuOn = false;

  constructor(
    private readonly tank: TankGauge,
    seed: number,
    params: Partial<RealSenderParams> = {},
  ) {
    this.params = { ...REAL_SENDER_DEFAULTS, ...params };
    this.rng = Random.fork(seed, 'fuel-sender');
  }

  get fuelC(): number | null {
    return this.fuelTempC;
  }

  read(input: SenderInput, elapsedS: number): number {
    const p = this.params;
    const dt = elapsedS;
    // Fuel temperature: warms while the engine runs, cools back to ambient when it is off.
    this.fuelTempC ??= input.ambientC;
    this.fuelTempC = input.engineRunning
      ? lag(this.fuelTempC, input.ambientC + p.fuelHeatRiseK, p.fuelWarmS, dt)
      : lag(this.fuelTempC, input.ambientC, p.fuelCoolS, dt);
    const volume = input.litres * (1 + p.expansionPerK * (this.fuelTempC - REFERENCE_C));
    const stillPct = this.tank.readingPct(Math.min(volume, this.tank.capacityLitres));

    const moving = input.speedMps > 0.5;
    const slopePct = input.gradePct + (100 * input.accelMps2) / G;
    this.tiltPct = lag(this.tiltPct, p.tiltPctPerPct * slopePct, p.tiltLagS, dt);
    this.bafflePct = moving
      ? lag(this.bafflePct, p.baffleOffsetPct, p.baffleFillS, dt)
      : lag(this.bafflePct, 0, p.baffleSettleS, dt);
    this.reservoirFill = input.engineRunning
      ? lag(this.reservoirFill, 1, p.reservoirFillS, dt)
      : lag(this.reservoirFill, 0, p.reservoirDrainS, dt);
    // AR(1) waves with a stationary sigma of waveSigmaPct while moving, dying out once stopped.
    const keep = Math.exp(-dt / (moving ? p.waveMemoryS : p.waveCalmS));
    const sigma = moving ? p.waveSigmaPct : 0;
    this.wavePct = keep * this.wavePct + Math.sqrt(1 - keep * keep) * sigma * this.rng.gaussian();

    // The float follows the surface only once it has moved more than half the dead band away.
    const reservoirPct = p.reservoirPct * (1 - this.reservoirFill);
    const surfacePct = stillPct + this.tiltPct + this.bafflePct + reservoirPct + this.wavePct;
    const half = p.hysteresisPct / 2;
    if (this.floatPct === null) this.floatPct = surfacePct;
    else if (surfacePct > this.floatPct + half) this.floatPct = surfacePct - half;
    else if (surfacePct < this.floatPct - half) this.floatPct = surfacePct + half;
    const senderPct = this.floatPct + p.adcNoisePct * this.rng.gaussian();

    if (!input.ignition) {
      this.ecuOn = false;
      return toByte(this.reportedPct ?? senderPct);
    }
    if (!this.ecuOn || this.reportedPct === null) {
      // Key-on: the ECU takes the sender as it is (fast fill), then damps from there.
      this.ecuOn = true;
      this.reportedPct = senderPct;
    } else {
      const damped = lag(this.reportedPct, senderPct, p.ecuDampingS, dt);
      const limit = p.ecuRateLimitPctPerS * dt;
      this.reportedPct += Math.max(-limit, Math.min(limit, damped - this.reportedPct));
    }
    return toByte(this.reportedPct);
  }
}
