import type { DriveSample } from '../../fuel/drive-log.ts';
import type { TankCalibration } from '../../fuel/tank.ts';
import type { ModeTracker } from '../vehicle-mode.ts';
import type { FuelBalance } from './balance.ts';

/**
 * The tank level, estimated only where the readings are quiet: standing still, a few seconds after
 * the last movement (slosh by litres comes from acceleration), through a trimmed mean of the
 * segment's readings, whose dithering across PID 2F steps also recovers part of a step. In motion
 * a long median (minutes) stands in, good enough to carry the level across a stop.
 */

/** Seconds after the last movement before readings count as still (slosh settling). */
const SETTLE_S = 3;
/** Readings missing for longer than this: anything may have happened (a new segment). */
export const GAP_S = 30;
/**
 * A single still reading is already within a step of the truth (no slosh standing); the window
 * only adds sub-step resolution. One is enough when the ignition is on for seconds between two
 * parks (a theft, a short hop to the pump, the refuel).
 */
const STILL_MIN = 1;
export const STILL_WINDOW = 20;
export const MOTION_WINDOW_S = 180;
const MOTION_MIN_S = 60;
const MOTION_MIN_COUNT = 6;
/**
 * The level a vehicle had going into a park, when its last stop was too short to settle: the
 * median balance of the trip's last TRIP_WINDOW_S of readings, moving or standing. Slosh, the
 * road's grade and the unsettled stops average out over twenty minutes; one short stop's level
 * carries its own grade, a baffle still draining and a damping ECU still catching up (on the
 * tuning seeds' real sender its error spread was 0.77 % of the tank across thefts against 0.43 %
 * for the trip's median).
 */
const TRIP_WINDOW_S = 1200;
/** ...over at least this much of the trip (s) and this many readings (slowly polled logs). */
const TRIP_MIN_S = 120;
const TRIP_MIN_COUNT = 12;

export interface Estimate {
  ts: number;
  balance: number;
  litres: number;
  /** Quiet readings standing, a long median in motion, or the median of a whole trip (TRIP_WINDOW_S). */
  src: 'still' | 'motion' | 'trip';
  /** A motion estimate whose whole window lies after the last stop. */
  full?: boolean;
  /** Still estimates: readings averaged, and which still segment they belong to. */
  n?: number;
  seg?: number;
  /** Standard error of `balance`, litres, from the sender noise measured on this vehicle. */
  se: number;
}

/** What the readings said about the level just before the tank went unread (a park). */
export interface BeforeGap {
  /** The trip's median level (src 'trip'), null when the trip was too short. */
  trip: Estimate | null;
  /** The last still segment, and for how long its readings were quiet (s). */
  stillSeg: number;
  stillS: number;
}

/** What one sample told about the level. */
export interface LevelReading {
  /** An event seen in the readings is over: the tank went silent or the vehicle drove off. */
  endOpen: boolean;
  /** The tank could not be read for more than GAP_S before this sample. */
  gap: boolean;
  /** A new estimate, at most one a second. */
  est: Estimate | null;
}

function trimmedMean(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  const cut = Math.floor(v.length * 0.2);
  let sum = 0;
  for (let i = cut; i < v.length - cut; i++) sum += v[i]!;
  return sum / (v.length - 2 * cut);
}

function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

export class LevelEstimator {
  private lastReadingTs = Number.NaN;
  private lastMovingTs = Number.NaN;
  /** First standing reading of the current still segment (-inf: it began parked, no slosh). */
  private stillSinceTs = Number.NaN;
  /** First reading after the last gap in the readings. */
  private segmentStartTs = Number.NEGATIVE_INFINITY;
  /** Numbers the still segments (a base is refined only within its own). */
  private stillSeg = 0;
  /** Sums over the current still segment: its mean is the most precise level there is. */
  private segB = 0;
  private segL = 0;
  private segN = 0;
  private segFirstTs = 0;
  private segLastTs = 0;
  /** Noise of one still reading, litres (running estimate; PID 2F's rounding at least). */
  private stillSigma: number;
  private still: number[] = [];
  private stillLitres: number[] = [];
  private motion: { ts: number; b: number; l: number }[] = [];
  /** Every reading of the current trip (since the last gap or reported event), TRIP_WINDOW_S of them. */
  private trip: { ts: number; b: number }[] = [];
  /** Litres the engine had burned at the last reading (balance - litres). */
  private engineL = 0;
  /** The level going into the last gap, kept until the next one. */
  beforeGap: BeforeGap | null = null;

  constructor(
    private readonly mode: ModeTracker,
    private readonly tank: TankCalibration,
    private readonly balance: FuelBalance,
    /** Litres of one PID 2F step at its coarsest. */
    private readonly stepL: number,
  ) {
    this.stillSigma = stepL / 2;
  }

  push(s: DriveSample): LevelReading {
    const mode = this.mode.mode;
    const moving = mode === 'moving';
    if (moving) {
      this.stillSinceTs = Number.NaN;
      this.lastMovingTs = s.ts;
    }
    const pct = s.fuelLevelPct;
    if (pct === null) {
      // Ignition off (the ECU goes silent) or no reading for GAP_S: an event seen in the readings
      // is over now, not when the tank can be read again (that may be hours later).
      return { endOpen: mode === 'off' || s.ts - this.lastReadingTs > GAP_S * 1000, gap: false, est: null };
    }
    let gap = false;
    if (!Number.isNaN(this.lastReadingTs) && s.ts - this.lastReadingTs > GAP_S * 1000) {
      // The tank could not be read for a while: what was open ended before the gap (its
      // readings are all in), and both windows start afresh.
      gap = true;
      this.beforeGap = {
        trip: this.tripLevel(),
        stillSeg: this.stillSeg,
        stillS: this.segN > 0 ? (this.segLastTs - this.segFirstTs) / 1000 : 0,
      };
      this.trip = [];
      this.still = [];
      this.stillLitres = [];
      this.motion = [];
      this.segmentStartTs = s.ts;
      this.stillSinceTs = Number.NaN;
    }
    // The tank is judged at most once a second: the level moves slowly, and at 10 Hz polling this
    // keeps the windows (and the cost of their medians) the same as at 1 Hz.
    if (s.ts - this.lastReadingTs < 900) return { endOpen: gap, gap, est: null };
    this.lastReadingTs = s.ts;
    const litres = this.tank.litres(pct);
    const balance = this.balance.of(litres);
    this.engineL = balance - litres;
    this.trip.push({ ts: s.ts, b: balance });
    while (this.trip[0]!.ts < s.ts - TRIP_WINDOW_S * 1000) this.trip.shift();
    if (moving) {
      // Drove off: an event judged on still readings is over, at its last still estimate.
      const droveOff = this.still.length > 0;
      this.still = [];
      this.stillLitres = [];
      return { endOpen: gap || droveOff, gap, est: this.motionEstimate(s.ts, balance, litres) };
    }
    this.motion = [];
    return { endOpen: gap, gap, est: this.stillEstimate(s.ts, balance, litres) };
  }

  /** A step was reported: the trip's readings before it are of another level. */
  resetTrip(): void {
    this.trip = [];
  }

  /** The median balance of the trip so far (TRIP_WINDOW_S at most), null if it is too short. */
  private tripLevel(): Estimate | null {
    const t = this.trip;
    if (t.length < TRIP_MIN_COUNT || t[t.length - 1]!.ts - t[0]!.ts < TRIP_MIN_S * 1000) return null;
    const b = t.map((x) => x.b);
    const med = median(b);
    const mad = median(b.map((x) => Math.abs(x - med))) * 1.4826;
    return {
      ts: t[t.length - 1]!.ts,
      balance: med,
      litres: med - this.engineL,
      src: 'trip',
      // Slosh follows the driving: about one independent reading in five.
      se: (1.2533 * Math.max(mad, this.stepL / 2)) / Math.sqrt(b.length / 5),
    };
  }

  /** The mean of every quiet reading of still segment `seg`, while it is the current one. */
  segmentMean(seg: number | undefined): { balance: number; litres: number; n: number; se: number } | null {
    if (seg !== this.stillSeg || this.segN <= STILL_WINDOW) return null;
    return {
      balance: this.segB / this.segN,
      litres: this.segL / this.segN,
      n: this.segN,
      se: this.stillSigma / Math.sqrt(this.segN),
    };
  }

  private motionEstimate(ts: number, balance: number, litres: number): Estimate | null {
    this.motion.push({ ts, b: balance, l: litres });
    // The window is MOTION_WINDOW_S, or MOTION_MIN_COUNT readings on a slowly polled log.
    while (this.motion.length > MOTION_MIN_COUNT && this.motion[0]!.ts < ts - MOTION_WINDOW_S * 1000) {
      this.motion.shift();
    }
    const span = ts - this.motion[0]!.ts;
    if (this.motion.length < MOTION_MIN_COUNT || span < MOTION_MIN_S * 1000) return null;
    return {
      ts,
      balance: median(this.motion.map((m) => m.b)),
      litres: median(this.motion.map((m) => m.l)),
      src: 'motion',
      full: span >= (MOTION_WINDOW_S - 5) * 1000,
      se: this.motionSe(),
    };
  }

  /**
   * Standard error of the motion median: the window's spread (MAD) over the square root of its
   * independent readings (slosh follows the driving, so ~1 in 5).
   */
  private motionSe(): number {
    const b = this.motion.map((m) => m.b);
    const med = median(b);
    const mad = median(b.map((x) => Math.abs(x - med))) * 1.4826;
    return (1.2533 * Math.max(mad, this.stepL / 2)) / Math.sqrt(Math.max(1, b.length / 5));
  }

  private stillEstimate(ts: number, balance: number, litres: number): Estimate | null {
    // Slosh settles a few seconds after the vehicle stops: the stop is somewhere between the
    // last moving sample and the first standing one, so count from the latter.
    if (Number.isNaN(this.stillSinceTs)) {
      this.stillSeg++;
      this.segB = 0;
      this.segL = 0;
      this.segN = 0;
      this.stillSinceTs =
        Number.isNaN(this.lastMovingTs) || this.lastMovingTs < this.segmentStartTs
          ? Number.NEGATIVE_INFINITY
          : ts;
    }
    if (ts - this.stillSinceTs < SETTLE_S * 1000) return null;
    const prevB = this.still[this.still.length - 1];
    if (prevB !== undefined) {
      // Mean |difference| of consecutive still readings * 0.886 = sigma of one (Gaussian).
      this.stillSigma += 0.01 * (0.886 * Math.abs(balance - prevB) - this.stillSigma);
      this.stillSigma = Math.max(this.stillSigma, this.stepL / Math.sqrt(12));
    }
    this.still.push(balance);
    if (this.segN === 0) this.segFirstTs = ts;
    this.segLastTs = ts;
    this.segB += balance;
    this.segL += litres;
    this.segN++;
    this.stillLitres.push(litres);
    if (this.still.length > STILL_WINDOW) {
      this.still.shift();
      this.stillLitres.shift();
    }
    if (this.still.length < STILL_MIN) return null;
    return {
      ts,
      balance: trimmedMean(this.still),
      litres: trimmedMean(this.stillLitres),
      src: 'still',
      n: this.still.length,
      seg: this.stillSeg,
      se: this.stillSigma / Math.sqrt(this.still.length),
    };
  }
}
