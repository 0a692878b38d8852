import { Battery, type BatteryParams } from './battery.ts';
import {
  type FuelSender,
  IdealSender,
  RealSender,
  type RealSenderParams,
  type SenderModelName,
} from './fuel-sender.ts';
import { Random } from './random.ts';
import { type Route, type RoutePosition, routeForSeed, type WaypointAhead } from './route.ts';
import { TankGauge, type TankShape } from './tank.ts';

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
  /** Grade under the vehicle, %, positive nose up: the road's, or the slope it stands on when held. */
  readonly gradePct: number;
  readonly speedKmh: number;
  /** True course over ground [0...360) degrees; kept while stopped. */
  readonly headingDeg: number;
  /** Engine speed, rpm in 0.25 steps (PID 0C resolution); 0 with the engine off. */
  readonly rpm: number;
  /** Tank sender reading, % of its travel in 100/255 steps (PID 2F); see TankGauge for shapes. */
  readonly fuelLevelPct: number;
  /** Litres actually in the tank (at 15 degrees C, as a pump meter counts them). */
  readonly fuelLitresTrue: number;
  /** Fuel temperature, degrees C (the real sender's thermal model; ambient for the ideal one). */
  readonly fuelC: number;
  readonly tankLitres: number;
  readonly coolantC: number;
  /** Ignition key on: the ECU is powered and answers OBD requests. */
  readonly ignition: boolean;
  /** Ignition on and the engine turning (false after running the tank dry). */
  readonly engineRunning: boolean;
  /** Longitudinal acceleration over the last second, m/s^2 (what made the fuel slosh). */
  readonly accelMps2: number;
  /** Lateral (centripetal) acceleration over the last second, m/s^2, positive to the left. */
  readonly lateralAccelMps2: number;
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
  /** Posted limit of the road the vehicle is on, km/h. */
  readonly speedLimitKmh: number;
}

/**
 * How the driver drives: cruise speed relative to the posted limit and how hard they pull away.
 *   calm        0.80-0.95 x limit, gentle acceleration
 *   normal      0.85-1.05 x limit (the default)
 *   aggressive  0.95-1.15 x limit, quicker acceleration (still below harsh-acceleration levels)
 */
export type SpeedProfile = 'calm' | 'normal' | 'aggressive';
export const SPEED_PROFILES: readonly SpeedProfile[] = ['calm', 'normal', 'aggressive'];

const PROFILE: Record<SpeedProfile, { cruise: [number, number]; accelScale: number }> = {
  calm: { cruise: [0.8, 0.95], accelScale: 0.75 },
  normal: { cruise: [0.85, 1.05], accelScale: 1 },
  aggressive: { cruise: [0.95, 1.15], accelScale: 1.12 },
};

export interface VehicleModelOptions {
  /** Everything random in the vehicle derives from this seed. */
  seed: number;
  /** Epoch ms of the first state; rounded down to a whole second. */
  startTimeMs: number;
  /** Default: a built-in route chosen by seed. */
  route?: Route;
  /** [1...2000], default: 60 L. */
  tankLitres?: number;
  /** Default: linear (a box tank). */
  tankShape?: TankShape;
  /** [0...100], default: drawn from the seed in [35, 95) %. */
  initialFuelPct?: number;
  /** [-40...50], default: drawn from the seed in [5, 28) degrees C. */
  ambientC?: number;
  /** Default: normal. */
  speedProfile?: SpeedProfile;
  /** Fuel sender and ECU model behind PID 2F (fuel-sender.ts); default: ideal. */
  sender?: SenderModelName;
  /** Overrides of the real sender's tuned defaults (ignored by the ideal one). */
  senderParams?: Partial<RealSenderParams>;
  /** A battery with a cranking dip that ages (battery.ts); default: the older fixed battery. */
  battery?: Partial<BatteryParams>;
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
  /** Below this the fuel pump draws air: the engine will not start (unusable reserve). */
  minStartLitres: 0.3,
} as const;

const G = 9.81;
/** Comfortable deceleration at which a driver starts braking for a stop line, m/s^2. */
const BRAKE_START_MPS2 = 1.8;
/** A little under it: what the driver plans with, so a planned stop starts braking on time. */
const STOP_PLANNING_MPS2 = BRAKE_START_MPS2 * 0.9;
/** Deceleration at which the driver starts easing off for a corner, m/s^2. */
const EASE_START_MPS2 = 0.5;
const MAX_BRAKE_MPS2 = 6;
/** Pulling over to park or to idle at the kerb, m/s^2. */
const PULL_OVER_MPS2 = 1.6;
/** An engine that died rolls to the hard shoulder: engine braking gone, light pedal, m/s^2. */
const STALL_COAST_MPS2 = 1.2;
/** Turning radius of a city corner, m: a 1 s step turns the whole corner, the body feels v^2/R. */
const CORNER_RADIUS_M = 15;
/** A bend of under 20 degrees is a sweeping one (motorway design radius ~1 km). */
const SWEEPING_BEND_RADIUS_M = 1000;

type StopReason = 'warm-up' | 'light' | 'kerb' | 'hold' | 'harsh' | 'stall';

type Phase =
  | { kind: 'off' }
  /**
   * Stationary: warm-up at start, red light, kerb-side stop, held by the script (parking, idling),
   * after an emergency stop, or stranded with an empty tank.
   */
  | { kind: 'stopped'; reason: StopReason; remainingS: number }
  | { kind: 'driving' };

/** The stop/go decision taken once per approach to a waypoint, so it does not flicker. */
interface WaypointPlan {
  readonly atOdometerM: number;
  stop: 'light' | 'kerb' | null;
}

interface FuelFlow {
  /** Positive: fuel goes in (refuel); negative: fuel goes out (theft, leak). */
  lph: number;
  /** Litres actually moved so far (clamped at empty and full), signed like lph. */
  totalL: number;
}

/**
 * One simulated vehicle, advanced one second per `step()`. Deterministic for a seed: the driver,
 * the sensors and the traffic lights each draw from their own seeded stream; what a scenario
 * makes the driver do draws from one more ('script'), so natural driving stays the same.
 *
 * Driving is a simple longitudinal model: the driver aims at a cruise speed around the route's
 * limit, brakes at a comfortable deceleration for red lights, kerb-side stops and corners, and
 * waits there. Engine speed follows from speed and gear, fuel from the power demand
 * (mass * accel + rolling + aero drag), with fuel cut-off on overrun.
 *
 * A scenario steers it through `pullOver()` / `resume()` (parking, idling), `setIgnition()`,
 * `harshBrake()`, `harshAccelerate()`, `setCruiseOverride()` (speeding) and `setFuelFlow()`
 * (refuels, thefts, leaks). An empty tank stalls the engine; the vehicle rolls to a stop and
 * restarts only after fuel is added and the ignition cycled.
 */
export class VehicleModel {
  readonly route: Route;
  readonly tankLitres: number;
  readonly tank: TankGauge;
  readonly sender: FuelSender;

  private readonly driver: Random;
  private readonly sensor: Random;
  private readonly traffic: Random;
  private readonly script: Random;

  private simTimeMs: number;
  private phase: Phase;
  private odometerM = 0;
  private readonly routeOffsetM: number;
  private readonly startOdometerKm: number;
  private speedMps = 0;
  private accelMps2 = 0;
  private lateralAccelMps2 = 0;
  private headingDeg: number;
  private gear = 0;
  private rpm = 0;
  private cruiseKmh: number;
  private lastSegment = -1;
  private plans: WaypointPlan[] = [];
  private profile: SpeedProfile;

  // Scenario controls.
  private holdRequested = false;
  /** Grade of the spot a held vehicle stands on (a driveway, a ramp), instead of the road's. */
  private standingGradePct: number | null = null;
  private cruiseOverrideKmh: number | null = null;
  private harshBrakeMps2: number | null = null;
  private harshLaunch: { accelMps2: number; remainingS: number } | null = null;
  private readonly flows = new Map<string, FuelFlow>();
  private positionCache: { odometerM: number; pos: RoutePosition } | null = null;

  private fuelLitres: number;
  private fuelSensorRaw = 0; // PID 2F byte A
  private coolantC: number;
  private readonly ambientC: number;
  private ignition = true;
  private stalled = false;
  private offSinceS = 0;
  private runTimeS = 0;
  private engineLoadPct = 0;
  private throttlePct = 0;
  private fuelRateLph = 0;
  private batteryV = 14.2;
  private readonly battery: Battery | null;

  constructor(options: VehicleModelOptions) {
    const seed = options.seed >>> 0;
    this.driver = Random.fork(seed, 'driver');
    this.sensor = Random.fork(seed, 'sensor');
    this.traffic = Random.fork(seed, 'traffic');
    this.script = Random.fork(seed, 'script');
    const setup = Random.fork(seed, 'setup');

    this.route = options.route ?? routeForSeed(seed);
    this.tankLitres = options.tankLitres ?? 60;
    this.tank = new TankGauge(this.tankLitres, options.tankShape);
    this.profile = options.speedProfile ?? 'normal';
    this.simTimeMs = Math.floor(options.startTimeMs / 1000) * 1000;
    this.battery = options.battery ? new Battery(this.simTimeMs, options.battery) : null;
    this.routeOffsetM = setup.range(0, this.route.lengthM);
    this.startOdometerKm = Math.round(setup.range(10_000, 200_000));
    this.ambientC = options.ambientC ?? setup.range(5, 28);
    this.coolantC = this.ambientC; // cold start
    this.fuelLitres = (this.tankLitres * (options.initialFuelPct ?? setup.range(35, 95))) / 100;
    this.cruiseKmh = this.drawCruiseKmh();
    this.phase = { kind: 'stopped', reason: 'warm-up', remainingS: setup.int(10, 40) };
    this.headingDeg = this.route.positionAt(this.routeOffsetM).headingDeg;
    if (this.fuelLitres < CAR.minStartLitres) this.stalled = true;
    this.sender =
      options.sender === 'real'
        ? new RealSender(this.tank, seed, options.senderParams)
        : new IdealSender(this.tank, this.sensor);
    this.updateEngine(0, 0, 0);
    this.updateFuelSensor(0);
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
        if (this.phase.reason === 'stall') break; // stranded until refuelled and restarted
        if (this.holdRequested) {
          this.phase = { kind: 'stopped', reason: 'hold', remainingS: 0 };
          break;
        }
        if (this.harshLaunch && this.phase.reason !== 'warm-up') {
          // A hard launch from a standstill: the light turned green for an impatient driver.
          this.phase = { kind: 'driving' };
          distanceM = this.drive();
          break;
        }
        this.phase.remainingS -= 1;
        if (this.phase.remainingS <= 0) this.phase = { kind: 'driving' };
        break;
      case 'driving':
        distanceM = this.stalled ? this.coast() : this.drive();
        break;
    }

    // Off the parking spot once it drives away (not while it drives onto it).
    if (this.speedMps > 0 && !this.holdRequested) this.standingGradePct = null;
    this.odometerM += distanceM;
    this.accelMps2 = this.speedMps - v0;
    const pos = this.position();
    this.lateralAccelMps2 = this.lateralAcceleration(v0, pos.headingDeg);
    this.headingDeg = pos.headingDeg;
    if (pos.segment !== this.lastSegment) {
      // A new street: the driver settles on a new cruise speed for it.
      this.lastSegment = pos.segment;
      this.cruiseKmh = this.drawCruiseKmh();
    }

    this.updateCoolant(this.updateEngine(v0, this.speedMps, this.accelMps2));
    this.fuelLitres = Math.max(0, this.fuelLitres - this.fuelRateLph / 3600);
    if (this.flows.size > 0) this.applyFuelFlows();
    if (this.engineRunning && this.fuelLitres <= 0) this.stall();
    this.updateFuelSensor(1);
    if (this.engineRunning) this.runTimeS += 1;
    if (!this.ignition) this.offSinceS += 1;
  }

  get engineRunning(): boolean {
    return this.ignition && !this.stalled;
  }

  /** Standing still (engine running or not). */
  get stationary(): boolean {
    return this.phase.kind !== 'driving';
  }

  /** Held at the kerb by `pullOver()` (and not yet released). */
  get held(): boolean {
    return this.phase.kind === 'stopped' && this.phase.reason === 'hold';
  }

  /** True when the tank ran dry under way and the engine died. */
  get stranded(): boolean {
    return this.stalled;
  }

  get speedProfile(): SpeedProfile {
    return this.profile;
  }

  set speedProfile(profile: SpeedProfile) {
    this.profile = profile;
  }

  /**
   * Ignition on starts the engine (with a short warm-up idle) if there is fuel to start on;
   * off stops the vehicle where it is (a script pulls over first: see `pullOver()`).
   */
  setIgnition(on: boolean): void {
    if (on === this.ignition) return;
    this.ignition = on;
    if (on) {
      this.runTimeS = 0;
      this.offSinceS = 0;
      this.battery?.started();
      if (this.fuelLitres < CAR.minStartLitres) {
        // Cranks, does not fire: the ECU is awake (OBD answers) but the engine stays off.
        this.stalled = true;
        this.phase = { kind: 'stopped', reason: 'stall', remainingS: 0 };
      } else {
        this.stalled = false;
        this.phase = { kind: 'stopped', reason: 'warm-up', remainingS: this.driver.int(5, 20) };
      }
    } else {
      this.stalled = false;
      this.phase = { kind: 'off' };
      this.speedMps = 0;
      this.accelMps2 = 0;
      this.lateralAccelMps2 = 0;
    }
    this.updateEngine(0, 0, 0);
  }

  /**
   * Bring the vehicle to a stop at a comfortable deceleration and keep it there (engine on), on a
   * spot of `gradePct` (a driveway, a ramp; default: the road's own grade) until it drives off.
   */
  pullOver(gradePct?: number): void {
    this.holdRequested = true;
    this.standingGradePct = gradePct ?? null;
    if (this.phase.kind === 'stopped' && this.phase.reason !== 'stall') {
      this.phase = { kind: 'stopped', reason: 'hold', remainingS: 0 };
    }
  }

  /** Release `pullOver()`: the driver moves off after a few seconds. */
  resume(): void {
    this.holdRequested = false;
    if (this.phase.kind === 'stopped' && this.phase.reason === 'hold') {
      this.phase = { kind: 'stopped', reason: 'kerb', remainingS: this.script.int(2, 6) };
    }
  }

  /** An emergency stop at `decelMps2` (e.g. 0.5 g = 4.9 m/s^2) until standstill. */
  harshBrake(decelMps2: number): void {
    if (this.phase.kind !== 'driving' || this.stalled) return;
    this.harshBrakeMps2 = Math.min(MAX_BRAKE_MPS2 * 1.6, Math.max(0, decelMps2));
  }

  /** A hard launch at `accelMps2` for `seconds` (from the next standstill, or now if rolling). */
  harshAccelerate(accelMps2: number, seconds: number): void {
    this.harshLaunch = { accelMps2, remainingS: Math.max(1, Math.round(seconds)) };
  }

  /** Cruise at this speed whatever the limit (speeding), or back to normal with null. */
  setCruiseOverride(kmh: number | null): void {
    this.cruiseOverrideKmh = kmh;
  }

  /**
   * A named fuel flow in L/h, integrated each step and clamped to the tank: positive for a
   * refuel nozzle, negative for a siphon or a leak; 0 ends it (its total stays readable).
   */
  setFuelFlow(name: string, lph: number): void {
    const flow = this.flows.get(name);
    if (flow) flow.lph = lph;
    else this.flows.set(name, { lph, totalL: 0 });
  }

  /** Litres a flow has actually moved (signed), and forget it. */
  endFuelFlow(name: string): number {
    const flow = this.flows.get(name);
    this.flows.delete(name);
    return flow?.totalL ?? 0;
  }

  fuelFlowTotal(name: string): number {
    return this.flows.get(name)?.totalL ?? 0;
  }

  /** Put fuel in (positive) or take it out (negative) at once: refuels and drains. Clamped to the tank. */
  addFuel(litres: number): void {
    this.fuelLitres = Math.min(this.tankLitres, Math.max(0, this.fuelLitres + litres));
    this.updateFuelSensor(0);
  }

  /** Where the vehicle is on its route; computed once per distance travelled (state() is hot). */
  private position(): RoutePosition {
    if (this.positionCache?.odometerM !== this.odometerM) {
      this.positionCache = {
        odometerM: this.odometerM,
        pos: this.route.positionAt(this.routeOffsetM + this.odometerM),
      };
    }
    return this.positionCache.pos;
  }

  state(): VehicleState {
    const pos = this.position();
    const def = this.route.definition;
    return {
      simTimeMs: this.simTimeMs,
      lat: pos.lat,
      lon: pos.lon,
      altitudeM: this.route.altitudeAt(pos.distanceM),
      gradePct: this.gradePct(),
      speedKmh: this.speedMps * 3.6,
      headingDeg: pos.headingDeg,
      rpm: this.rpm,
      fuelLevelPct: (this.fuelSensorRaw * 100) / 255,
      fuelLitresTrue: this.fuelLitres,
      fuelC: this.sender.fuelC ?? this.ambientC,
      tankLitres: this.tankLitres,
      coolantC: this.coolantC,
      ignition: this.ignition,
      engineRunning: this.engineRunning,
      accelMps2: this.accelMps2,
      lateralAccelMps2: this.lateralAccelMps2,
      gear: this.gear,
      engineLoadPct: this.engineLoadPct,
      throttlePct: this.throttlePct,
      fuelRateLph: this.fuelRateLph,
      mafGs: (this.fuelRateLph * CAR.fuelDensityGPerL * CAR.stoichiometricAfr) / 3600,
      intakeC: this.ambientC + 4 + (this.coolantC - this.ambientC) * 0.12 - Math.min(this.speedMps, 20) * 0.1,
      ambientC: this.ambientC,
      runTimeS: this.engineRunning ? this.runTimeS : 0,
      batteryV: this.batteryV,
      odometerKm: this.startOdometerKm + this.odometerM / 1000,
      speedLimitKmh: def.speedLimitKmh,
    };
  }

  private drawCruiseKmh(): number {
    const [lo, hi] = PROFILE[this.profile].cruise;
    return this.route.definition.speedLimitKmh * this.driver.range(lo, hi);
  }

  /** One second of driving; returns the distance covered and updates speed and phase. */
  private drive(): number {
    const v = this.speedMps;
    const routePos = this.route.wrap(this.routeOffsetM + this.odometerM);
    const horizonM = Math.max(150, (v * v) / 2 + 50);
    const ahead = this.route.waypointsAhead(routePos, horizonM);
    const cruiseKmh = this.cruiseOverrideKmh ?? this.cruiseKmh;

    // Cruise: close the gap to the target speed within a second, engine-limited when accelerating.
    let targetMps = Math.max(0, (cruiseKmh + this.driver.gaussian() * 0.3) / 3.6);
    let maxAccel = Math.max(0.6, 2.4 * (1 - v / 35)) * PROFILE[this.profile].accelScale;
    const launch = this.harshLaunch;
    if (launch) {
      // Floor it until the time is up or the cruise speed is reached, whichever comes first.
      const cruiseMps = targetMps;
      maxAccel = launch.accelMps2;
      targetMps = Math.max(targetMps, v + launch.accelMps2);
      launch.remainingS -= 1;
      if (launch.remainingS <= 0 || v + launch.accelMps2 >= cruiseMps) this.harshLaunch = null;
    }
    let accel = Math.min(maxAccel, Math.max(-1.5, targetMps - v));

    // Constraints ahead: the speed we must be at when reaching each waypoint.
    let stopAt: { distanceM: number; reason: 'light' | 'kerb' } | null = null;
    for (const w of ahead) {
      const plan = this.planFor(w);
      // During a hard launch every light is green: the point is to see the launch, not the stop.
      if (launch) plan.stop = null;
      // A light that turns red too late to stop for is run on amber, not stopped at by magic.
      if (plan.stop && (v * v) / (2 * w.distanceAheadM) > MAX_BRAKE_MPS2) plan.stop = null;
      const stop = plan.stop;
      // A near-straight waypoint constrains nothing (the cruise target already governs).
      const limitMps = stop
        ? 0
        : w.turnDeg < 20
          ? Number.POSITIVE_INFINITY
          : cornerSpeedKmh(w.turnDeg, cruiseKmh) / 3.6;
      if (stop && !stopAt) stopAt = { distanceM: w.distanceAheadM, reason: stop };
      if (stop) {
        // Pulling away towards a red light: no faster than a comfortable stop still allows after
        // this second, i.e. v1^2 / 2b + v1 / 2 <= d - v / 2 (the step covers (v + v1) / 2).
        const b = STOP_PLANNING_MPS2;
        const room = Math.max(0, w.distanceAheadM - v / 2);
        const vAllowed = b * (-0.5 + Math.sqrt(0.25 + (2 * room) / b));
        accel = Math.min(accel, Math.max(0, vAllowed - v));
      }
      if (v <= limitMps) continue;
      const required = (v * v - limitMps * limitMps) / (2 * w.distanceAheadM);
      // A stop is braked for once it takes a firm pedal; a corner is eased into from further out,
      // or a small speed reduction would be noticed only a few metres before the corner.
      const onset = stop ? STOP_PLANNING_MPS2 * 0.9 : EASE_START_MPS2;
      const arrivingNow = w.distanceAheadM <= v * 1.5; // last chance before the waypoint
      if (required >= onset || arrivingNow) accel = Math.min(accel, -Math.min(required, MAX_BRAKE_MPS2));
    }

    if (this.holdRequested) accel = Math.min(accel, -Math.min(PULL_OVER_MPS2, v));
    if (this.harshBrakeMps2 !== null) accel = -this.harshBrakeMps2;

    // Integrate with constant acceleration over the second, stopping at zero speed mid-step.
    let v1 = v + accel;
    let distanceM: number;
    if (v1 <= 0) {
      distanceM = accel < 0 ? (v * (v / -accel)) / 2 : 0;
      v1 = 0;
    } else {
      distanceM = (v + v1) / 2;
    }

    // Stand at the stop line once there, or within half a metre of it at walking pace (a 1 s step
    // rarely ends exactly on the line; snapping from a higher speed would be a fake harsh brake).
    if (stopAt && distanceM >= stopAt.distanceM - (v1 <= 0.5 ? 0.5 : 0)) {
      // Reached the stop line: stand there for the red phase or the kerb-side stop.
      distanceM = stopAt.distanceM;
      v1 = 0;
      const remainingS = stopAt.reason === 'light' ? this.traffic.int(10, 45) : this.traffic.int(30, 120);
      this.phase = { kind: 'stopped', reason: stopAt.reason, remainingS };
    } else if (v1 === 0 && (this.holdRequested || this.harshBrakeMps2 !== null)) {
      this.phase = this.holdRequested
        ? { kind: 'stopped', reason: 'hold', remainingS: 0 }
        : { kind: 'stopped', reason: 'harsh', remainingS: this.script.int(3, 8) };
    }
    if (v1 === 0) this.harshBrakeMps2 = null;
    this.speedMps = v1;
    return distanceM;
  }

  /** One second rolling with a dead engine, onto the shoulder; stranded once stopped. */
  private coast(): number {
    const v = this.speedMps;
    const v1 = Math.max(0, v - STALL_COAST_MPS2);
    const distanceM = v1 > 0 ? (v + v1) / 2 : (v * v) / (2 * STALL_COAST_MPS2);
    this.speedMps = v1;
    if (v1 === 0) this.phase = { kind: 'stopped', reason: 'stall', remainingS: 0 };
    return distanceM;
  }

  private stall(): void {
    this.stalled = true;
    this.harshLaunch = null;
    this.harshBrakeMps2 = null;
    if (this.phase.kind === 'stopped') this.phase = { kind: 'stopped', reason: 'stall', remainingS: 0 };
    this.updateEngine(this.speedMps, this.speedMps, 0);
  }

  private applyFuelFlows(): void {
    for (const flow of this.flows.values()) {
      if (flow.lph === 0) continue;
      const next = Math.min(this.tankLitres, Math.max(0, this.fuelLitres + flow.lph / 3600));
      flow.totalL += next - this.fuelLitres;
      this.fuelLitres = next;
    }
  }

  /**
   * Body-felt lateral acceleration. Routes turn at waypoints, all in one step; a real corner of
   * radius R taken at v pulls v^2 / R while turning, which is what a 1 Hz accelerometer averages.
   */
  private lateralAcceleration(v0: number, headingDeg: number): number {
    let turn = headingDeg - this.headingDeg;
    if (turn > 180) turn -= 360;
    if (turn < -180) turn += 360;
    if (turn === 0) return 0;
    const v = (v0 + this.speedMps) / 2;
    const turnRad = (Math.abs(turn) * Math.PI) / 180;
    // Corner taken within the second: v * dtheta; longer than a second: v^2 / R.
    const radiusM = Math.abs(turn) < 20 ? SWEEPING_BEND_RADIUS_M : CORNER_RADIUS_M;
    const magnitude = Math.min(v * turnRad, (v * v) / radiusM);
    return turn > 0 ? -magnitude : magnitude; // clockwise (right) turn pulls to the left: negative y
  }

  /** Decide once per approach whether the driver stops at a waypoint (red light, kerb-side stop). */
  private planFor(w: WaypointAhead): WaypointPlan {
    const atOdometerM = this.odometerM + w.distanceAheadM;
    this.plans = this.plans.filter((p) => p.atOdometerM > this.odometerM + 0.5);
    const known = this.plans.find((p) => Math.abs(p.atOdometerM - atOdometerM) < 1);
    if (known) return known;
    let stop: WaypointPlan['stop'] = null;
    if (w.light) stop = this.traffic.chance(0.45) ? 'light' : null;
    else if (this.route.definition.kerbStops !== false && this.traffic.chance(0.1)) stop = 'kerb';
    const plan = { atOdometerM, stop };
    this.plans.push(plan);
    return plan;
  }

  /** Engine outputs for the last second; returns the power demand [0...1] that heats the engine. */
  private updateEngine(v0: number, v1: number, accel: number): number {
    if (!this.engineRunning) {
      this.gear = 0;
      this.rpm = 0;
      this.fuelRateLph = 0;
      this.engineLoadPct = 0;
      this.throttlePct = 0;
      // No alternator. Key off: surface charge fades to a ~12.3 V rest within half an hour.
      // Key on with a dead engine: pump, ECU and lights pull it to ~12.0 V.
      const offRest = this.battery
        ? this.battery.restingV(this.simTimeMs, this.offSinceS)
        : 12.3 + 0.3 * Math.exp(-this.offSinceS / 600);
      const rest = this.ignition ? Math.min(12.0, offRest - 0.3) : offRest;
      this.batteryV = rest + this.sensor.gaussian() * 0.02;
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

    // The starter's first seconds: the socket sags to the battery's cranking voltage (what ATRV
    // reads then); afterwards the alternator charges at ~14.2 V.
    this.batteryV =
      this.battery && this.runTimeS < this.battery.params.crankS
        ? this.battery.crankV(this.simTimeMs) + this.sensor.gaussian() * 0.03
        : 14.2 + this.sensor.gaussian() * 0.05;
    return demand;
  }

  /** One second of coolant temperature change. */
  private updateCoolant(demand: number): void {
    if (!this.engineRunning) {
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

  /** The road's grade here, or the slope the vehicle was pulled over onto while it stands there. */
  private gradePct(): number {
    if (this.standingGradePct !== null && this.speedMps === 0) return this.standingGradePct;
    return this.route.gradePctAt(this.position().distanceM);
  }

  /** PID 2F byte A from the sender model after `elapsedS` seconds (0: fuel moved at once). */
  private updateFuelSensor(elapsedS: number): void {
    this.fuelSensorRaw = this.sender.read(
      {
        litres: this.fuelLitres,
        speedMps: this.speedMps,
        accelMps2: this.accelMps2,
        gradePct: this.gradePct(),
        ignition: this.ignition,
        engineRunning: this.engineRunning,
        ambientC: this.ambientC,
      },
      elapsedS,
    );
  }
}

/** Speed a driver takes a corner at: no constraint on near-straight waypoints. */
function cornerSpeedKmh(turnDeg: number, cruiseKmh: number): number {
  if (turnDeg < 20) return cruiseKmh;
  return Math.min(cruiseKmh, Math.max(15, 55 - 0.4 * turnDeg));
}
