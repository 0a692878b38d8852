import { Random } from './random.ts';
import { type Route, routeForSeed, type WaypointAhead } from './route.ts';

/**
 * What the vehicle looks like at one simulated second: the ground truth the ELM327 emulator and
 * the NMEA generator read from. Values are physical (not yet quantised to PID encodings) except
 * `fuelLevelPct`, which is what the tank sender reports: truth + slosh, in 1/255 steps (PID 2F).
 */
export interface VehicleState {
  /** Epoch ms of this state on the simulated (GPS) clock; a whole second. */
  readonly simTimeMs: number;
  readonly lat: number;
  readonly lon: number;
  /** Height above mean sea level, metres. */
  readonly altitudeM: number;
  readonly speedKmh: number;
  /** True course over ground [0...360) degrees; kept while stopped. */
  readonly headingDeg: number;
  /** Engine speed, rpm in 0.25 steps (PID 0C resolution); 0 with the engine off. */
  readonly rpm: number;
  /** Tank sender reading, % of capacity in 100/255 steps (PID 2F). */
  readonly fuelLevelPct: number;
  /** Litres actually in the tank. */
  readonly fuelLitresTrue: number;
  readonly tankLitres: number;
  readonly coolantC: number;
  readonly ignition: boolean;
  /** Acceleration over the last second, m/s^2 (what made the fuel slosh). */
  readonly accelMps2: number;
  /** 0 = neutral / clutch down, 1...6 forward gears. */
  readonly gear: number;
  /** Calculated engine load, % (PID 04). */
  readonly engineLoadPct: number;
  /** Absolute throttle position, % (PID 11); ~14 % with the throttle closed. */
  readonly throttlePct: number;
  /** Engine fuel rate, L/h (PID 5E). */
  readonly fuelRateLph: number;
  /** Mass air flow, g/s (PID 10): stoichiometric with the fuel rate, MAF / 14.7 / 745 g/L = L/s. */
  readonly mafGs: number;
  readonly intakeC: number;
  readonly ambientC: number;
  /** Seconds since the engine started (PID 1F). */
  readonly runTimeS: number;
  /** Battery / supply voltage at the OBD socket (ATRV). */
  readonly batteryV: number;
  readonly odometerKm: number;
}

export interface VehicleModelOptions {
  /** Everything random in the vehicle derives from this seed. */
  seed: number;
  /** Epoch ms of the first state; rounded down to a whole second. */
  startTimeMs: number;
  /** Default: a built-in route chosen by seed. */
  route?: Route;
  /** [1...2000], default: 60 L. */
  tankLitres?: number;
  /** [0...100], default: drawn from the seed in [35, 95) %. */
  initialFuelPct?: number;
  /** [-40...50], default: drawn from the seed in [5, 28) degrees C. */
  ambientC?: number;
}

/** Physical constants of the simulated light gasoline vehicle. */
const CAR = {
  massKg: 1500,
  dragAreaM2: 0.68, // Cd * A
  rollingResistance: 0.012,
  airDensity: 1.2,
  drivetrainEfficiency: 0.9,
  engineEfficiency: 0.27, // brake thermal efficiency in city use
  fuelEnergyJPerL: 32e6, // gasoline lower heating value per litre
  fuelDensityGPerL: 745,
  stoichiometricAfr: 14.7,
  maxPowerW: 45_000, // power at which throttle and load saturate in this model
  idleRpm: 750,
  coldIdleRpm: 1050,
  idleFuelLph: 0.8,
  redlineRpm: 6000,
  /** rpm per km/h in each gear; index 0 is neutral. */
  gearRpmPerKmh: [0, 120, 68, 45, 34, 27, 22],
  thermostatC: 90,
} as const;

const G = 9.81;
/** Comfortable deceleration at which a driver starts braking for a stop line or a corner, m/s^2. */
const BRAKE_START_MPS2 = 1.8;
const MAX_BRAKE_MPS2 = 6;
/** Tank sender slosh: % of capacity per m/s^2 of longitudinal acceleration. */
const SLOSH_PCT_PER_MPS2 = 2.5;

type Phase =
  | { kind: 'off' }
  /** Engine running, stationary: warm-up at start, red light, kerb-side stop. */
  | { kind: 'stopped'; reason: 'warm-up' | 'light' | 'kerb'; remainingS: number }
  | { kind: 'driving' };

/** The stop/go decision taken once per approach to a waypoint, so it does not flicker. */
interface WaypointPlan {
  readonly atOdometerM: number;
  readonly stop: 'light' | 'kerb' | null;
}

/**
 * One simulated vehicle, advanced one second per `step()`. Deterministic for a seed: the driver,
 * the sensors and the traffic lights each draw from their own seeded stream.
 *
 * Driving is a simple longitudinal model: the driver aims at a cruise speed around the route's
 * limit, brakes at a comfortable deceleration for red lights, kerb-side stops and corners, and
 * waits there. Engine speed follows from speed and gear, fuel from the power demand
 * (mass * accel + rolling + aero drag), with fuel cut-off on overrun.
 */
export class VehicleModel {
  readonly route: Route;
  readonly tankLitres: number;

  private readonly driver: Random;
  private readonly sensor: Random;
  private readonly traffic: Random;

  private simTimeMs: number;
  private phase: Phase;
  private odometerM = 0;
  private readonly routeOffsetM: number;
  private readonly startOdometerKm: number;
  private speedMps = 0;
  private accelMps2 = 0;
  private gear = 0;
  private rpm = 0;
  private cruiseKmh: number;
  private lastSegment = -1;
  private plans: WaypointPlan[] = [];

  private fuelLitres: number;
  private fuelSensorRaw = 0; // PID 2F byte A
  private coolantC: number;
  private readonly ambientC: number;
  private ignition = true;
  private runTimeS = 0;
  private engineLoadPct = 0;
  private throttlePct = 0;
  private fuelRateLph = 0;
  private batteryV = 14.2;

  constructor(options: VehicleModelOptions) {
    const seed = options.seed >>> 0;
    this.driver = Random.fork(seed, 'driver');
    this.sensor = Random.fork(seed, 'sensor');
    this.traffic = Random.fork(seed, 'traffic');
    const setup = Random.fork(seed, 'setup');

    this.route = options.route ?? routeForSeed(seed);
    this.tankLitres = options.tankLitres ?? 60;
    this.simTimeMs = Math.floor(options.startTimeMs / 1000) * 1000;
    this.routeOffsetM = setup.range(0, this.route.lengthM);
    this.startOdometerKm = Math.round(setup.range(10_000, 200_000));
    this.ambientC = options.ambientC ?? setup.range(5, 28);
    this.coolantC = this.ambientC; // cold start
    this.fuelLitres = (this.tankLitres * (options.initialFuelPct ?? setup.range(35, 95))) / 100;
    this.cruiseKmh = this.drawCruiseKmh();
    this.phase = { kind: 'stopped', reason: 'warm-up', remainingS: setup.int(10, 40) };
    this.updateEngine(0, 0, 0);
    this.updateFuelSensor();
  }

  /** Advance one simulated second. */
  step(): void {
    this.simTimeMs += 1000;
    const v0 = this.speedMps;
    let distanceM = 0;

    switch (this.phase.kind) {
      case 'off':
        this.speedMps = 0;
        break;
      case 'stopped':
        this.speedMps = 0;
        this.phase.remainingS -= 1;
        if (this.phase.remainingS <= 0) this.phase = { kind: 'driving' };
        break;
      case 'driving':
        distanceM = this.drive();
        break;
    }

    this.odometerM += distanceM;
    this.accelMps2 = this.speedMps - v0;
    const segment = this.route.positionAt(this.routeOffsetM + this.odometerM).segment;
    if (segment !== this.lastSegment) {
      // A new street: the driver settles on a new cruise speed for it.
      this.lastSegment = segment;
      this.cruiseKmh = this.drawCruiseKmh();
    }

    this.updateCoolant(this.updateEngine(v0, this.speedMps, this.accelMps2));
    this.fuelLitres = Math.max(0, this.fuelLitres - this.fuelRateLph / 3600);
    this.updateFuelSensor();
    if (this.ignition) this.runTimeS += 1;
  }

  /** Ignition on starts the engine (with a short warm-up idle); off stops the vehicle where it is. */
  setIgnition(on: boolean): void {
    if (on === this.ignition) return;
    this.ignition = on;
    if (on) {
      this.runTimeS = 0;
      this.phase = { kind: 'stopped', reason: 'warm-up', remainingS: this.driver.int(5, 20) };
    } else {
      this.phase = { kind: 'off' };
      this.speedMps = 0;
      this.accelMps2 = 0;
    }
    this.updateEngine(0, 0, 0);
  }

  /** Put fuel in (positive) or take it out (negative) at once: refuels and drains. Clamped to the tank. */
  addFuel(litres: number): void {
    this.fuelLitres = Math.min(this.tankLitres, Math.max(0, this.fuelLitres + litres));
    this.updateFuelSensor();
  }

  state(): VehicleState {
    const pos = this.route.positionAt(this.routeOffsetM + this.odometerM);
    const def = this.route.definition;
    return {
      simTimeMs: this.simTimeMs,
      lat: pos.lat,
      lon: pos.lon,
      // Gentle rolling terrain so altitude is not a constant.
      altitudeM: def.altitudeM + 3 * Math.sin((2 * Math.PI * pos.distanceM) / this.route.lengthM),
      speedKmh: this.speedMps * 3.6,
      headingDeg: pos.headingDeg,
      rpm: this.rpm,
      fuelLevelPct: (this.fuelSensorRaw * 100) / 255,
      fuelLitresTrue: this.fuelLitres,
      tankLitres: this.tankLitres,
      coolantC: this.coolantC,
      ignition: this.ignition,
      accelMps2: this.accelMps2,
      gear: this.gear,
      engineLoadPct: this.engineLoadPct,
      throttlePct: this.throttlePct,
      fuelRateLph: this.fuelRateLph,
      mafGs: (this.fuelRateLph * CAR.fuelDensityGPerL * CAR.stoichiometricAfr) / 3600,
      intakeC: this.ambientC + 4 + (this.coolantC - this.ambientC) * 0.12 - Math.min(this.speedMps, 20) * 0.1,
      ambientC: this.ambientC,
      runTimeS: this.ignition ? this.runTimeS : 0,
      batteryV: this.batteryV,
      odometerKm: this.startOdometerKm + this.odometerM / 1000,
    };
  }

  private drawCruiseKmh(): number {
    return this.route.definition.speedLimitKmh * this.driver.range(0.85, 1.05);
  }

  /** One second of driving; returns the distance covered and updates speed and phase. */
  private drive(): number {
    const v = this.speedMps;
    const routePos = this.route.wrap(this.routeOffsetM + this.odometerM);
    const horizonM = Math.max(150, (v * v) / 2 + 50);
    const ahead = this.route.waypointsAhead(routePos, horizonM);

    // Cruise: close the gap to the target speed within a second, engine-limited when accelerating.
    const targetMps = Math.max(0, (this.cruiseKmh + this.driver.gaussian() * 0.3) / 3.6);
    const maxAccel = Math.max(0.6, 2.4 * (1 - v / 35));
    let accel = Math.min(maxAccel, Math.max(-1.5, targetMps - v));

    // Constraints ahead: the speed we must be at when reaching each waypoint.
    let stopAt: { distanceM: number; reason: 'light' | 'kerb' } | null = null;
    for (const w of ahead) {
      const plan = this.planFor(w);
      const limitMps = plan.stop ? 0 : cornerSpeedKmh(w.turnDeg, this.cruiseKmh) / 3.6;
      if (plan.stop && !stopAt) stopAt = { distanceM: w.distanceAheadM, reason: plan.stop };
      if (v <= limitMps) continue;
      const required = (v * v - limitMps * limitMps) / (2 * w.distanceAheadM);
      if (required >= BRAKE_START_MPS2) accel = Math.min(accel, -Math.min(required, MAX_BRAKE_MPS2));
    }

    // Integrate with constant acceleration over the second, stopping at zero speed mid-step.
    let v1 = v + accel;
    let distanceM: number;
    if (v1 < 0) {
      distanceM = (v * (v / -accel)) / 2;
      v1 = 0;
    } else {
      distanceM = (v + v1) / 2;
    }

    if (stopAt && distanceM >= stopAt.distanceM - 0.5) {
      // Reached the stop line: stand there for the red phase or the kerb-side stop.
      distanceM = stopAt.distanceM;
      v1 = 0;
      const remainingS = stopAt.reason === 'light' ? this.traffic.int(10, 45) : this.traffic.int(30, 120);
      this.phase = { kind: 'stopped', reason: stopAt.reason, remainingS };
    }
    this.speedMps = v1;
    return distanceM;
  }

  /** Decide once per approach whether the driver stops at a waypoint (red light, kerb-side stop). */
  private planFor(w: WaypointAhead): WaypointPlan {
    const atOdometerM = this.odometerM + w.distanceAheadM;
    this.plans = this.plans.filter((p) => p.atOdometerM > this.odometerM + 0.5);
    const known = this.plans.find((p) => Math.abs(p.atOdometerM - atOdometerM) < 1);
    if (known) return known;
    let stop: WaypointPlan['stop'] = null;
    if (w.light) stop = this.traffic.chance(0.45) ? 'light' : null;
    else if (this.traffic.chance(0.1)) stop = 'kerb';
    const plan = { atOdometerM, stop };
    this.plans.push(plan);
    return plan;
  }

  /** Engine outputs for the last second; returns the power demand [0...1] that heats the engine. */
  private updateEngine(v0: number, v1: number, accel: number): number {
    if (!this.ignition) {
      this.gear = 0;
      this.rpm = 0;
      this.fuelRateLph = 0;
      this.engineLoadPct = 0;
      this.throttlePct = 0;
      // No alternator: the battery rests at ~12.5 V.
      this.batteryV = 12.45 + this.sensor.gaussian() * 0.02;
      return 0;
    }

    const kmh = v1 * 3.6;
    const vMean = (v0 + v1) / 2;
    const resistanceN =
      CAR.rollingResistance * CAR.massKg * G * (vMean > 0 ? 1 : 0) +
      0.5 * CAR.airDensity * CAR.dragAreaM2 * vMean * vMean;
    const wheelPowerW = (CAR.massKg * accel + resistanceN) * vMean;
    const enginePowerW = wheelPowerW / CAR.drivetrainEfficiency;

    // Gear: neutral at a standstill, upshift earlier when cruising than when accelerating hard.
    const ratios = CAR.gearRpmPerKmh;
    if (kmh < 3) {
      this.gear = 0;
    } else {
      if (this.gear === 0) this.gear = 1;
      const upshiftRpm = accel > 0.8 ? 2600 : 2100;
      while (this.gear < ratios.length - 1 && kmh * ratios[this.gear]! > upshiftRpm) this.gear++;
      while (this.gear > 1 && kmh * ratios[this.gear]! < 1150) this.gear--;
    }

    const warm = Math.min(1, Math.max(0, (this.coolantC - this.ambientC) / (70 - this.ambientC + 1e-9)));
    const idleRpm = CAR.coldIdleRpm - (CAR.coldIdleRpm - CAR.idleRpm) * warm;
    let rpm: number;
    if (this.gear === 0) rpm = idleRpm + this.sensor.gaussian() * 8;
    else rpm = Math.max(idleRpm * 1.3, kmh * ratios[this.gear]!) + this.sensor.gaussian() * 10;
    this.rpm = Math.round(Math.min(CAR.redlineRpm, Math.max(0, rpm)) * 4) / 4;

    const demand = Math.min(1, Math.max(0, enginePowerW / CAR.maxPowerW));
    const overrun = enginePowerW <= 0 && this.gear > 0 && this.rpm > 1100;
    const coldEnrichment = 1 + 0.4 * Math.min(1, Math.max(0, (80 - this.coolantC) / 60));
    this.fuelRateLph = overrun
      ? 0 // deceleration fuel cut-off
      : CAR.idleFuelLph * coldEnrichment * (this.rpm / CAR.idleRpm) ** 0.5 +
        (Math.max(0, enginePowerW) / (CAR.engineEfficiency * CAR.fuelEnergyJPerL)) * 3600;
    this.throttlePct = Math.min(100, 14 + 86 * demand + this.sensor.gaussian() * 0.3);
    this.engineLoadPct = Math.min(100, overrun ? 0 : 20 + 80 * demand);

    this.batteryV = 14.2 + this.sensor.gaussian() * 0.05;
    return demand;
  }

  /** One second of coolant temperature change. */
  private updateCoolant(demand: number): void {
    if (!this.ignition) {
      // Heat soaks away over tens of minutes.
      this.coolantC += (this.ambientC - this.coolantC) / 2400;
    } else if (this.coolantC < CAR.thermostatC - 2) {
      // Thermostat closed: the coolant warms roughly linearly with the heat released.
      this.coolantC += 0.05 + 0.3 * demand;
    } else {
      // Thermostat open: it regulates around its opening temperature.
      this.coolantC += (CAR.thermostatC - this.coolantC) * 0.2 + this.sensor.gaussian() * 0.1;
    }
  }

  /**
   * The tank sender reads the true level plus slosh: fuel surges back under acceleration and
   * forward under braking, by litres on a city car (the field's leading cause of false drains).
   * The ECU reports it in 1/255 steps of capacity (SAE J1979 PID 2F: A * 100 / 255 %).
   */
  private updateFuelSensor(): void {
    const truePct = (this.fuelLitres / this.tankLitres) * 100;
    const moving = this.speedMps > 0.5;
    const sloshPct =
      SLOSH_PCT_PER_MPS2 * this.accelMps2 * (1 + 0.2 * this.sensor.gaussian()) +
      this.sensor.gaussian() * (moving ? 0.3 : 0.1);
    const pct = truePct + sloshPct;
    this.fuelSensorRaw = Math.min(255, Math.max(0, Math.round((pct * 255) / 100)));
  }
}

/** Speed a driver takes a corner at: no constraint on near-straight waypoints. */
function cornerSpeedKmh(turnDeg: number, cruiseKmh: number): number {
  if (turnDeg < 20) return cruiseKmh;
  return Math.min(cruiseKmh, Math.max(15, 55 - 0.4 * turnDeg));
}
