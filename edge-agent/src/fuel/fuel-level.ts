import type { DriveSample } from './drive-log.ts';
import { engineFuelLph } from './engine-fuel.ts';
import { type LeakFinding, LeakTracker } from './leak.ts';
import type { DetectedEvent, Detector, ResolvedDetectorConfig } from './replay.ts';
import { TankCalibration } from './tank.ts';
import type { ModeTracker } from './vehicle-mode.ts';

/**
 * Refuels and drains from the tank level, reconciled with what the engine burned.
 *
 * The detector follows the "fuel balance" B = litres in the tank + litres the engine burned so
 * far (fuel rate, else MAF, else idle L/h). With only the engine drawing fuel B stays flat; a
 * refuel steps it up, a drain steps it down, a leak makes it slope. Judging B instead of the
 * level is what keeps a long idle or a hill climb from looking like theft.
 *
 * Readings are only trusted where they are quiet: standing still, a few seconds after the last
 * movement (slosh by litres comes from acceleration), through a trimmed mean of the segment's
 * readings, whose dithering across PID 2F steps also recovers part of a step. In motion a long
 * median (minutes) stands in, good enough to carry the level across a stop. A drop between two
 * estimates counts as a drain only when the vehicle stood still in between (parked, idling or
 * ignition off, when the ECU is silent and the tank cannot be read at all) unless
 * `detectDrainInMotion`; a drop over the whole ignition-off gap is judged as soon as the first
 * quiet readings after it are in, and a drain seen in the readings closes once the level has
 * been steady for `stableS`, so the event comes within a minute of the drain's end.
 */

/** Seconds after the last movement before readings count as still (slosh settling). */
const SETTLE_S = 3;
/** Readings missing for longer than this: anything may have happened (a new segment). */
const GAP_S = 30;
/**
 * A single still reading is already within a step of the truth (no slosh standing); the window
 * only adds sub-step resolution. One is enough when the ignition is on for seconds between two
 * parks (a theft, a short hop to the pump, the refuel).
 */
const STILL_MIN = 1;
/** Estimates after an ignition-off gap before a drop or rise across it is final. */
const ACROSS_GAP_ESTIMATES = 20;
const STILL_WINDOW = 20;
const MOTION_WINDOW_S = 180;
const MOTION_MIN_S = 60;
const MOTION_MIN_COUNT = 6;
/** Standard errors a drop must exceed to be a drain (false drains must stay ~1 per 1,000 h). */
const NOISE_Z = 5;
/** Still readings before an estimate may start a new base in another segment. */
const BASE_MIN_N = 5;

interface Estimate {
  ts: number;
  balance: number;
  litres: number;
  src: 'still' | 'motion';
  /** A motion estimate whose whole window lies after the last stop. */
  full?: boolean;
  /** Still estimates: readings averaged, and which still segment they belong to. */
  n?: number;
  seg?: number;
  /** Standard error of `balance`, litres, from the sender noise measured on this vehicle. */
  se: number;
}

interface Base extends Estimate {
  /** A stop or a gap happened since the base was taken: a drop since then may be a drain. */
  stopSince: boolean;
  /** The vehicle was standing when the base was taken (the position of a drain there). */
  lat: number | null;
  lon: number | null;
}

interface OpenFuelEvent {
  type: 'refuel' | 'fuel_drain';
  base: Base;
  /** Estimates since opening (stability judgement). */
  history: Estimate[];
  lat: number | null;
  lon: number | null;
  acrossGap: boolean;
  modeDuring: string;
  openedTs: number;
}

const round = (v: number, d: number): number => Math.round(v * 10 ** d) / 10 ** d;

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

export class FuelLevelDetector implements Detector {
  private readonly tank: TankCalibration;
  private readonly stepL: number;
  /** Litres the engine burned since the first sample. */
  private engineL = 0;
  private lastLph = 0;
  private lastReadingTs = Number.NaN;
  private movingSinceTs = Number.NaN;
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
  /** Noise of one still reading, litres (running estimate; PID 2F's rounding at least). */
  private stillSigma: number;
  /** Recent motion estimates: an in-motion drain is judged against the one a window ago. */
  private motionEstimates: Estimate[] = [];
  private still: number[] = [];
  private stillLitres: number[] = [];
  private motion: { ts: number; b: number; l: number }[] = [];
  private base: Base | null = null;
  private open: OpenFuelEvent | null = null;
  /** A gap or a stop happened since the last estimate (carried into the base). */
  private stopPending = false;
  private gapPending = false;
  private lastPos: { lat: number | null; lon: number | null } = { lat: null, lon: null };
  /** Refuels minus drains reported so far: taken out of the balance the leak tracker sees. */
  private stepsL = 0;
  private readonly leak: LeakTracker;

  constructor(
    private readonly cfg: ResolvedDetectorConfig,
    private readonly mode: ModeTracker,
  ) {
    this.tank = new TankCalibration(cfg.tankLitres, cfg.calibration);
    this.stepL = this.tank.maxStepLitres();
    this.leak = new LeakTracker(cfg.leakMinLph, cfg.leakMinL);
    this.stillSigma = this.stepL / 2;
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

  /** Litres the engine burned since the start (for consumption figures and tests). */
  get engineLitres(): number {
    return this.engineL;
  }

  push(s: DriveSample): DetectedEvent[] {
    const out: DetectedEvent[] = [];
    const mode = this.mode.mode;
    const moving = mode === 'moving';
    // Engine consumption over the step just ended, at the rate known at its start.
    const dt = this.mode.dtS;
    if (mode !== 'off') {
      this.engineL += (this.lastLph * Math.min(dt, 600)) / 3600;
      const lph = engineFuelLph(s, this.mode.engineRunning, moving, this.cfg.fuelType, this.cfg.idleLph);
      if (lph !== null) this.lastLph = lph;
      else if (!this.mode.engineRunning) this.lastLph = 0;
    } else {
      this.lastLph = 0;
    }
    if (s.lat !== null && s.lon !== null) this.lastPos = { lat: s.lat, lon: s.lon };
    if (moving) {
      this.stillSinceTs = Number.NaN;
      if (Number.isNaN(this.movingSinceTs)) this.movingSinceTs = s.ts;
      this.lastMovingTs = s.ts;
    } else {
      this.movingSinceTs = Number.NaN;
      this.stopPending = true;
    }

    const pct = s.fuelLevelPct;
    if (pct === null) {
      // Ignition off (the ECU goes silent) or no reading for GAP_S: an event seen in the readings
      // is over now, not when the tank can be read again (that may be hours later).
      if (this.open && (mode === 'off' || s.ts - this.lastReadingTs > GAP_S * 1000)) this.closeOpen(out);
      return out;
    }
    if (!Number.isNaN(this.lastReadingTs) && s.ts - this.lastReadingTs > GAP_S * 1000) {
      // The tank could not be read for a while: what was open ended before the gap (its
      // readings are all in), and both windows start afresh.
      this.closeOpen(out);
      this.still = [];
      this.stillLitres = [];
      this.motion = [];
      this.segmentStartTs = s.ts;
      this.stillSinceTs = Number.NaN;
      this.gapPending = true;
      this.stopPending = true;
    }
    // The tank is judged at most once a second: the level moves slowly, and at 10 Hz polling this
    // keeps the windows (and the cost of their medians) the same as at 1 Hz.
    if (s.ts - this.lastReadingTs < 900) return out;
    this.lastReadingTs = s.ts;
    const litres = this.tank.litres(pct);
    const balance = litres + this.engineL;

    let est: Estimate | null = null;
    if (moving) {
      // Drove off: an event judged on still readings is over, at its last still estimate.
      if (this.open && this.still.length) this.closeOpen(out);
      this.still = [];
      this.stillLitres = [];
      this.motion.push({ ts: s.ts, b: balance, l: litres });
      // The window is MOTION_WINDOW_S, or MOTION_MIN_COUNT readings on a slowly polled log.
      while (this.motion.length > MOTION_MIN_COUNT && this.motion[0]!.ts < s.ts - MOTION_WINDOW_S * 1000) {
        this.motion.shift();
      }
      const span = s.ts - this.motion[0]!.ts;
      if (this.motion.length >= MOTION_MIN_COUNT && span >= MOTION_MIN_S * 1000) {
        est = {
          ts: s.ts,
          balance: median(this.motion.map((m) => m.b)),
          litres: median(this.motion.map((m) => m.l)),
          src: 'motion',
          full: span >= (MOTION_WINDOW_S - 5) * 1000,
          se: this.motionSe(),
        };
      }
    } else {
      this.motion = [];
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
            : s.ts;
      }
      const settled = s.ts - this.stillSinceTs >= SETTLE_S * 1000;
      if (settled) {
        const prevB = this.still[this.still.length - 1];
        if (prevB !== undefined) {
          // Mean |difference| of consecutive still readings * 0.886 = sigma of one (Gaussian).
          this.stillSigma += 0.01 * (0.886 * Math.abs(balance - prevB) - this.stillSigma);
          this.stillSigma = Math.max(this.stillSigma, this.stepL / Math.sqrt(12));
        }
        this.still.push(balance);
        this.segB += balance;
        this.segL += litres;
        this.segN++;
        this.stillLitres.push(litres);
        if (this.still.length > STILL_WINDOW) {
          this.still.shift();
          this.stillLitres.shift();
        }
        if (this.still.length >= STILL_MIN) {
          est = {
            ts: s.ts,
            balance: trimmedMean(this.still),
            litres: trimmedMean(this.stillLitres),
            src: 'still',
            n: this.still.length,
            seg: this.stillSeg,
            se: this.stillSigma / Math.sqrt(this.still.length),
          };
        }
      }
    }
    if (est) {
      this.judge(est, s, out);
      if (!this.open) {
        const leak = this.leak.push(est.ts, est.balance - this.stepsL);
        if (leak) this.emitLeak(leak, out);
      }
    }
    return out;
  }

  flush(): DetectedEvent[] {
    const out: DetectedEvent[] = [];
    this.closeOpen(out);
    const leak = this.leak.flush();
    if (leak) this.emitLeak(leak, out);
    return out;
  }

  private emitLeak(leak: LeakFinding, out: DetectedEvent[]): void {
    out.push({
      type: 'fuel_leak',
      start: leak.start,
      end: leak.end,
      volumeL: round(leak.volumeL, 2),
      lat: this.lastPos.lat,
      lon: this.lastPos.lon,
      driverId: this.cfg.driverId,
      confidence: round(Math.min(0.95, 0.5 + 0.1 * Math.log2(leak.volumeL / this.cfg.leakMinL + 1)), 3),
      modelVersion: null,
      details: { rateLph: round(leak.rateLph, 3), durationS: Math.round((leak.end - leak.start) / 1000) },
    });
  }

  private closeOpen(out: DetectedEvent[]): void {
    if (!this.open) return;
    const last = this.open.history[this.open.history.length - 1];
    if (last) this.close(last, out);
    this.open = null;
  }

  /**
   * The smallest drop called a drain: the configured share of the tank, three PID 2F steps, and
   * NOISE_Z standard errors of the difference (a noisy sender or a short window raises it).
   */
  private drainThreshold(a: Estimate, b: Estimate): number {
    const both = a.src === 'still' && b.src === 'still';
    const pct = both ? this.cfg.minDrainPct : this.cfg.minDrainPctMotion;
    return Math.max(
      (pct / 100) * this.cfg.tankLitres,
      (both ? 3 : 4) * this.stepL,
      NOISE_Z * Math.hypot(a.se, b.se),
    );
  }

  private refuelThreshold(a: Estimate, b: Estimate): number {
    return Math.max((this.cfg.minRefuelPct / 100) * this.cfg.tankLitres, this.drainThreshold(a, b));
  }

  /** Steady band: how far a quiet estimate wanders without anything happening. */
  private tolerance(e: Estimate, base: Estimate | null = this.base): number {
    const noise = 2.5 * Math.hypot(e.se, base?.se ?? 0);
    return Math.max(
      noise,
      e.src === 'still' ? 1.5 * this.stepL : Math.max(2 * this.stepL, 0.015 * this.cfg.tankLitres),
    );
  }

  private judge(est: Estimate, s: DriveSample, out: DetectedEvent[]): void {
    const mode = this.mode.mode;
    if (!this.base) {
      this.setBase(est, s);
      return;
    }
    const base = this.base;
    const stopSince = base.stopSince || this.stopPending;
    if (this.open) {
      this.open.history.push(est);
      this.follow(est, s, out);
      return;
    }
    let ref: Estimate = base;
    if (est.src === 'motion' && this.cfg.detectDrainInMotion && !stopSince) {
      // In motion the base follows the level (consumption the ECU does not report, slosh), so a
      // drain there is judged against the estimate one window ago instead.
      const m = this.motionEstimates;
      m.push(est);
      while (m.length > 1 && m[1]!.ts <= est.ts - MOTION_WINDOW_S * 1000) m.shift();
      if (m[0]!.ts <= est.ts - MOTION_WINDOW_S * 1000) ref = m[0]!;
    } else {
      this.motionEstimates = [];
    }
    const diff = est.balance - ref.balance;
    const drainAllowed = stopSince || mode !== 'moving' || this.cfg.detectDrainInMotion;
    if (diff <= -this.drainThreshold(ref, est) && drainAllowed) {
      if (ref !== base) this.base = { ...base, ...ref };
      this.openEvent('fuel_drain', est, s);
      this.follow(est, s, out);
      return;
    }
    if (diff >= this.refuelThreshold(base, est) && ref === base) {
      this.openEvent('refuel', est, s);
      this.follow(est, s, out);
      return;
    }
    // Nothing happened. Standing still the balance is flat (the engine's burn is in it), so the
    // base only improves while its segment's average grows, then holds: a slow drain has to
    // accumulate against it instead of dragging it along. A still estimate replaces one taken in
    // motion; in motion the base follows the long median (unless a stop is still being judged).
    const d = Math.abs(est.balance - base.balance);
    const refine =
      est.src === 'still' &&
      ((base.src === 'motion' && (est.n ?? 0) >= 3 && d < this.drainThreshold(base, est)) ||
        (base.seg === est.seg && (est.n ?? 0) > (base.n ?? 0) && d <= this.tolerance(est)) ||
        (base.seg !== est.seg && (est.n ?? 0) >= BASE_MIN_N && d <= this.tolerance(est)));
    const follow = est.src === 'motion' && mode === 'moving' && (!stopSince || est.full);
    if (refine || follow) this.setBase(est, s);
    // Within its own segment, past one window, the base becomes the mean of every quiet reading
    // of the segment (minutes parked: a far smaller error than one window's), while the current
    // window agrees with it.
    const b = this.base;
    if (est.src === 'still' && b && b.seg === est.seg && this.segN > STILL_WINDOW) {
      const meanB = this.segB / this.segN;
      const tol = this.tolerance(est);
      if (Math.abs(est.balance - meanB) <= tol && Math.abs(b.balance - meanB) <= tol) {
        this.base = {
          ...b,
          balance: meanB,
          litres: this.segL / this.segN,
          n: this.segN,
          se: this.stillSigma / Math.sqrt(this.segN),
          ts: est.ts,
        };
      }
    }
  }

  private setBase(est: Estimate, s: DriveSample): void {
    const standing = this.mode.mode !== 'moving';
    this.base = {
      ...est,
      stopSince: standing,
      lat: s.lat ?? this.lastPos.lat,
      lon: s.lon ?? this.lastPos.lon,
    };
    this.stopPending = standing;
    this.gapPending = false;
  }

  private openEvent(type: OpenFuelEvent['type'], est: Estimate, s: DriveSample): void {
    const standing = this.mode.mode !== 'moving';
    this.open = {
      type,
      base: this.base!,
      history: [est],
      lat: standing ? (s.lat ?? this.lastPos.lat) : this.base!.lat,
      lon: standing ? (s.lon ?? this.lastPos.lon) : this.base!.lon,
      acrossGap: this.gapPending,
      modeDuring: this.gapPending ? 'ignition_off' : this.mode.mode,
      openedTs: s.ts,
    };
  }

  /** Closes the open event once the level is steady again (or the estimate changed kind). */
  private follow(est: Estimate, _s: DriveSample, out: DetectedEvent[]): void {
    const o = this.open!;
    const h = o.history;
    const diff = est.balance - o.base.balance;
    const thr = o.type === 'refuel' ? this.refuelThreshold(o.base, est) : this.drainThreshold(o.base, est);
    // Back inside the threshold: it was noise, not an event.
    if ((o.type === 'refuel' ? diff : -diff) < thr * 0.7) {
      this.open = null;
      return;
    }
    if (est.src === 'motion' && o.modeDuring === 'moving') {
      // A drain in motion: over once the long median has been steady for a minute.
      const from60 = est.ts - 60_000;
      if (h[0]!.ts > from60) return;
      let lo = Number.POSITIVE_INFINITY;
      let hi = Number.NEGATIVE_INFINITY;
      for (let i = h.length - 1; i >= 0 && h[i]!.ts >= from60; i--) {
        lo = Math.min(lo, h[i]!.balance);
        hi = Math.max(hi, h[i]!.balance);
      }
      if (hi - lo <= this.tolerance(est) / 2) this.close(est, out);
      return;
    }
    if (est.src === 'motion') {
      // The vehicle drove off: whatever happened is over; the long median is the new level.
      this.close(est, out);
      return;
    }
    if (h.length >= 2 && h[h.length - 2]!.src !== est.src) {
      this.close(h[h.length - 2]!, out);
      return;
    }
    if (o.acrossGap) {
      // Judged across an ignition-off gap: the quiet readings after it are the answer, as soon as
      // a few are in (a theft is reported seconds after the ignition comes back).
      if (h.length >= ACROSS_GAP_ESTIMATES || est.ts - h[0]!.ts >= 25_000) this.close(est, out);
      return;
    }
    // Steady for stableS: the estimate moved less than a fraction of a step over that time (a
    // drain on a big tank crosses one step a minute, so a slower one may be cut in two).
    const from = est.ts - this.cfg.stableS * 1000;
    if (h[0]!.ts > from) return;
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (let i = h.length - 1; i >= 0 && h[i]!.ts >= from; i--) {
      lo = Math.min(lo, h[i]!.balance);
      hi = Math.max(hi, h[i]!.balance);
    }
    if (hi - lo <= Math.max(0.6 * this.stepL, 0.2)) this.close(est, out);
  }

  private close(end: Estimate, out: DetectedEvent[]): void {
    const o = this.open!;
    this.open = null;
    this.motionEstimates = [];
    const volume = Math.abs(end.balance - o.base.balance);
    const thr = o.type === 'refuel' ? this.refuelThreshold(o.base, end) : this.drainThreshold(o.base, end);
    if (volume >= thr) {
      this.stepsL += end.balance - o.base.balance;
      this.leak.reset();
      // End: when the level stopped moving, the first estimate of the steady run.
      let endTs = end.ts;
      for (let i = o.history.length - 1; i >= 0; i--) {
        if (Math.abs(o.history[i]!.balance - end.balance) <= this.stepL) endTs = o.history[i]!.ts;
        else break;
      }
      if (o.acrossGap) endTs = o.openedTs;
      const both = o.base.src === 'still' && end.src === 'still';
      const margin = volume / thr;
      out.push({
        type: o.type,
        start: o.base.ts,
        end: Math.max(endTs, o.base.ts),
        volumeL: round(volume, 2),
        lat: o.lat,
        lon: o.lon,
        driverId: this.cfg.driverId,
        confidence: round(Math.min(0.99, (both ? 0.7 : 0.55) + 0.1 * Math.log2(margin)), 3),
        modelVersion: null,
        details: {
          levelBeforeL: round(o.base.litres, 2),
          levelAfterL: round(end.litres, 2),
          engineL: round(Math.max(0, end.balance - end.litres - (o.base.balance - o.base.litres)), 3),
          during: o.modeDuring,
          judgedFrom: both ? 'still' : 'motion',
          thresholdL: round(thr, 2),
        },
      });
    }
    this.setBase(end, { lat: o.lat, lon: o.lon } as DriveSample);
  }
}
