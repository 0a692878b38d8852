import { appendFileSync } from 'node:fs';
import { SimError, SimErrorCode } from '../errors.ts';
import type { VehicleState } from '../vehicle/model.ts';
import type { Thresholds } from './format.ts';

/**
 * Ground-truth labels: one JSON line per thing that happened, for scoring detectors. Times are
 * epoch ms on the GPS clock (the truth file's `ts`, the CSV's `ts`).
 *
 * Intervals are half-open: `start` is the first epoch the label covers and `end` the first
 * epoch after it. For fuel movements `start` is the last epoch before fuel moved and `end` the
 * first one after it stopped, so with the engine off
 *   fuelLitresTrue(end) - fuelLitresTrue(start) = +volumeL (refuel) or -volumeL (theft).
 *
 * Scripted labels (what the scenario did): fuel_theft, fuel_leak, refuel, dtc, unplug,
 * gps_fix_loss, obd_error, power_glitch. Observed labels (found in the vehicle's own motion,
 * whatever caused it; `scripted` says whether a scenario event did): harsh_brake, harsh_accel,
 * speeding, long_idle, ignition_off, out_of_fuel.
 */
export interface LabelBase {
  type: string;
  vehicleId: string;
  start: number;
  /** null: still going when the run ended and not expected to end (a stored DTC). */
  end: number | null;
  /** Position at `start` (true position, degrees). */
  lat: number;
  lon: number;
  /** The run ended while it was still going: `end` is the last epoch, not the real end. */
  truncated?: true;
}

interface HarshFields {
  /** Largest deceleration (brake) or acceleration over the interval, g. */
  peakG: number;
  speedKmhBefore: number;
  speedKmhAfter: number;
  scripted: boolean;
}

export type Label =
  | (LabelBase & { type: 'fuel_theft'; volumeL: number; requestedL: number; rateLph: number })
  | (LabelBase & { type: 'fuel_leak'; volumeL: number; rateLph: number })
  | (LabelBase & { type: 'refuel'; volumeL: number; requestedL: number; rescue?: true })
  | (LabelBase & { type: 'harsh_brake' } & HarshFields)
  | (LabelBase & { type: 'harsh_accel' } & HarshFields)
  | (LabelBase & {
      type: 'speeding';
      limitKmh: number;
      maxSpeedKmh: number;
      durationS: number;
      scripted: boolean;
    })
  | (LabelBase & { type: 'long_idle'; durationS: number; fuelL: number; scripted: boolean })
  | (LabelBase & { type: 'ignition_off'; durationS: number; scripted: boolean })
  | (LabelBase & { type: 'out_of_fuel'; durationS: number })
  | (LabelBase & { type: 'dtc'; code: string; mil: boolean; pendingFrom?: number; clearedBy?: 'service04' })
  | (LabelBase & { type: 'unplug' })
  | (LabelBase & { type: 'gps_fix_loss' })
  | (LabelBase & { type: 'obd_error'; answer: string; count: number })
  | (LabelBase & { type: 'power_glitch' });

export type LabelType = Label['type'];

/** First line of a labels file: what the run was, so a file explains itself. */
export interface LabelsMeta {
  type: 'meta';
  vehicleId: string;
  scenario: string;
  seed: number;
  startTs: number;
  route: string;
  speedLimitKmh: number;
  tankLitres: number;
  tankShape: string;
  /** Fuel sender model behind PID 2F: ideal | real (firmware-sim/src/vehicle/fuel-sender.ts). */
  sender: string;
  /** [readingPct, litres] every 5 %: the tank calibration table a platform would be given. */
  calibration: [number, number][];
  thresholds: Thresholds;
  protocol: string;
  adapter: string;
}

export type LabelSink = (label: Label) => void;

/** Appends label lines to a file; the first write failure disables it with one log line. */
export class LabelsFile {
  private failed = false;

  constructor(
    readonly path: string,
    private readonly onError: (err: SimError) => void = () => {},
  ) {}

  writeMeta(meta: LabelsMeta): void {
    this.append(meta);
  }

  readonly write: LabelSink = (label) => {
    this.append(label);
  };

  private append(record: unknown): void {
    if (this.failed) return;
    try {
      appendFileSync(this.path, `${JSON.stringify(record)}\n`);
    } catch (cause) {
      this.failed = true;
      this.onError(new SimError(SimErrorCode.LabelsWriteFailed, `cannot append to ${this.path}`, { cause }));
    }
  }
}

const G = 9.81;
const round = (v: number, decimals: number): number => Math.round(v * 10 ** decimals) / 10 ** decimals;

type ScriptedKind = 'harsh_brake' | 'harsh_accel' | 'speeding' | 'long_idle' | 'ignition_off';

interface Episode {
  start: number;
  lat: number;
  lon: number;
  scripted: boolean;
}

/**
 * Finds the observed labels in the stream of states, one state per simulated second. `observe`
 * takes each state once; `scripted()` tells whether a scenario event is steering the driver
 * towards that kind of event right now.
 */
export class MotionObserver {
  private previous: VehicleState | null = null;
  private brake: (Episode & { peak: number; before: number }) | null = null;
  private accel: (Episode & { peak: number; before: number }) | null = null;
  private speeding: (Episode & { max: number; limit: number; seconds: number }) | null = null;
  private idle: (Episode & { fuelL: number }) | null = null;
  private off: Episode | null = null;
  private dry: Episode | null = null;

  constructor(
    private readonly vehicleId: string,
    private readonly thresholds: Thresholds,
    private readonly emit: LabelSink,
    private readonly scripted: (kind: ScriptedKind) => boolean,
  ) {}

  observe(s: VehicleState): void {
    const prev = this.previous;
    const t = s.simTimeMs;

    // Harsh braking / acceleration: the speed change over the second just ended. The interval
    // covers that second: [previous epoch, last epoch over the threshold].
    if (s.accelMps2 <= -this.thresholds.harshBrakeG * G) {
      if (!this.brake) {
        this.brake = {
          ...this.open(t - 1000, prev ?? s, 'harsh_brake'),
          peak: 0,
          before: prev?.speedKmh ?? 0,
        };
      }
      this.brake.peak = Math.max(this.brake.peak, -s.accelMps2 / G);
    } else if (this.brake && prev) {
      this.closeHarsh('harsh_brake', this.brake, prev);
      this.brake = null;
    }
    if (s.accelMps2 >= this.thresholds.harshAccelG * G) {
      if (!this.accel) {
        this.accel = {
          ...this.open(t - 1000, prev ?? s, 'harsh_accel'),
          peak: 0,
          before: prev?.speedKmh ?? 0,
        };
      }
      this.accel.peak = Math.max(this.accel.peak, s.accelMps2 / G);
    } else if (this.accel && prev) {
      this.closeHarsh('harsh_accel', this.accel, prev);
      this.accel = null;
    }

    // Speeding: above limit + margin for at least speedingMinS.
    if (s.speedKmh > s.speedLimitKmh + this.thresholds.speedingMarginKmh) {
      if (!this.speeding)
        this.speeding = { ...this.open(t, s, 'speeding'), max: 0, limit: s.speedLimitKmh, seconds: 0 };
      this.speeding.max = Math.max(this.speeding.max, s.speedKmh);
      this.speeding.seconds += 1;
    } else if (this.speeding) {
      this.closeSpeeding(t);
    }

    // Long idling: engine running at a standstill.
    if (s.engineRunning && s.speedKmh === 0) {
      if (!this.idle) this.idle = { ...this.open(t, s, 'long_idle'), fuelL: 0 };
      else this.idle.fuelL += s.fuelRateLph / 3600;
    } else if (this.idle) {
      this.closeIdle(t);
    }

    // Ignition off, and stranded with an empty tank (until the engine runs again).
    if (!s.ignition) {
      if (!this.off) this.off = this.open(t, s, 'ignition_off');
    } else if (this.off) {
      this.emit({
        type: 'ignition_off',
        ...this.base(this.off, t),
        durationS: (t - this.off.start) / 1000,
        scripted: this.off.scripted,
      });
      this.off = null;
    }
    if (s.ignition && !s.engineRunning) {
      if (!this.dry) this.dry = this.open(t, s, 'ignition_off');
    } else if (this.dry && s.engineRunning) {
      this.emit({ type: 'out_of_fuel', ...this.base(this.dry, t), durationS: (t - this.dry.start) / 1000 });
      this.dry = null;
    }
    this.previous = s;
  }

  private open(start: number, at: VehicleState, kind: ScriptedKind): Episode {
    return { start, lat: at.lat, lon: at.lon, scripted: this.scripted(kind) };
  }

  private base(e: Episode, end: number, truncated = false) {
    return {
      vehicleId: this.vehicleId,
      start: e.start,
      end,
      lat: e.lat,
      lon: e.lon,
      ...(truncated ? { truncated: true as const } : {}),
    };
  }

  private closeHarsh(
    type: 'harsh_brake' | 'harsh_accel',
    e: Episode & { peak: number; before: number },
    last: VehicleState,
    truncated = false,
  ): void {
    this.emit({
      type,
      ...this.base(e, last.simTimeMs, truncated),
      peakG: round(e.peak, 3),
      speedKmhBefore: round(e.before, 1),
      speedKmhAfter: round(last.speedKmh, 1),
      scripted: e.scripted,
    });
  }

  /** End of run: whatever is still going is written with `truncated: true`. */
  finish(): void {
    const last = this.previous;
    if (!last) return;
    const t = last.simTimeMs;
    if (this.brake) this.closeHarsh('harsh_brake', this.brake, last, true);
    if (this.accel) this.closeHarsh('harsh_accel', this.accel, last, true);
    if (this.speeding) this.closeSpeeding(t, true);
    if (this.idle) this.closeIdle(t, true);
    if (this.off) {
      this.emit({
        type: 'ignition_off',
        ...this.base(this.off, t, true),
        durationS: (t - this.off.start) / 1000,
        scripted: this.off.scripted,
      });
    }
    if (this.dry) {
      this.emit({
        type: 'out_of_fuel',
        ...this.base(this.dry, t, true),
        durationS: (t - this.dry.start) / 1000,
      });
    }
    this.brake = this.accel = this.speeding = this.idle = this.off = this.dry = null;
  }

  private closeSpeeding(t: number, truncated = false): void {
    const e = this.speeding!;
    this.speeding = null;
    if (e.seconds < this.thresholds.speedingMinS) return;
    this.emit({
      type: 'speeding',
      vehicleId: this.vehicleId,
      start: e.start,
      end: t,
      lat: e.lat,
      lon: e.lon,
      ...(truncated ? { truncated: true as const } : {}),
      limitKmh: e.limit,
      maxSpeedKmh: round(e.max, 1),
      durationS: e.seconds,
      scripted: e.scripted,
    });
  }

  private closeIdle(t: number, truncated = false): void {
    const e = this.idle!;
    this.idle = null;
    const durationS = (t - e.start) / 1000;
    if (durationS < this.thresholds.longIdleS) return;
    this.emit({
      type: 'long_idle',
      vehicleId: this.vehicleId,
      start: e.start,
      end: t,
      lat: e.lat,
      lon: e.lon,
      ...(truncated ? { truncated: true as const } : {}),
      durationS,
      fuelL: round(e.fuelL, 3),
      scripted: e.scripted,
    });
  }
}
