import { createLogger, type Logger } from '@fleet/shared/log';
import type { ElmErrorAnswer } from '../elm327/faults.ts';
import type { DiagnosticMemory } from '../vehicle/diagnostics.ts';
import type { VehicleModel, VehicleState } from '../vehicle/model.ts';
import { Random } from '../vehicle/random.ts';
import {
  DtcEpisode,
  type Episode,
  FuelTransferEpisode,
  HarshAccelEpisode,
  HarshBrakeEpisode,
  IdleEpisode,
  InstantEpisode,
  LeakEpisode,
  OutageEpisode,
  ParkEpisode,
  type RunContext,
  SpeedingEpisode,
} from './episodes.ts';
import {
  DEFAULT_EMPTY_TANK,
  DEFAULT_THRESHOLDS,
  type NumberSpec,
  parseDuration,
  type ScenarioDefinition,
  type ScenarioEventSpec,
  type Thresholds,
} from './format.ts';
import { type Label, type LabelSink, MotionObserver } from './labels.ts';

/**
 *   begin():   observe state 0 -> act(0)
 *   advance(): model.step() -> observe state t -> act(t)
 *
 *   act(t): due scenario events become episodes --+--> driver episodes, one at a time (queue):
 *           policies (empty tank, refuel, trips)  |    park, idle, harsh_*, speeding, rescue
 *                                                 +--> free episodes, concurrently: fuel
 *                                                      transfers, leaks, DTCs, outages, errors
 *   observe: MotionObserver labels what the vehicle did (harsh, speeding, idle, ignition off)
 *
 * Episodes act after state t is observed, so what they start shows from state t + 1: a label's
 * `start` is the last epoch before the change, its `end` the first epoch after it.
 */
export interface AdapterControl {
  unplug(): void;
  plugIn(): void;
  injectAnswer(answer: ElmErrorAnswer, count: number): void;
  powerGlitch(): void;
}

export interface GpsControl {
  setFix(fix: boolean): void;
}

export interface ScenarioRunnerOptions {
  model: VehicleModel;
  scenario: ScenarioDefinition;
  seed: number;
  vehicleId: string;
  diagnostics: DiagnosticMemory;
  adapter?: AdapterControl;
  gps?: GpsControl;
  onLabel?: LabelSink;
  logger?: Logger;
}

interface Pending {
  spec: ScenarioEventSpec;
  index: number;
  /** Occurrence number of this spec. */
  k: number;
  atS: number;
}

interface Queued {
  episode: Episode;
  dueT: number;
  expiresT: number;
}

interface Held {
  episode: Episode;
  /** Abort a driver episode still holding the driver at this t (one that never got its moment). */
  limitT: number;
}

const DEFAULT_MAX_WAIT_S = 3600;
/** Kinds of driver episode that wait for a condition and are given up when it never comes. */
const GIVE_UP_KINDS = new Set(['harsh_brake', 'harsh_accel', 'speeding', 'idle']);

/** Drives a VehicleModel (and its adapter and GPS) through a scenario, emitting labels. */
export class ScenarioRunner implements RunContext {
  readonly thresholds: Thresholds;
  readonly model: VehicleModel;
  readonly diagnostics: DiagnosticMemory;
  readonly vehicleId: string;

  private tNow = 0;
  private current: VehicleState;
  private readonly observer: MotionObserver;
  private readonly log: Logger;
  private readonly pending: Pending[] = [];
  private readonly queue: Queued[] = [];
  private holder: Held | null = null;
  private free: Episode[] = [];
  private unplugDepth = 0;
  private fixLossDepth = 0;
  private labelCount = 0;
  private rescueActive = false;
  private refuelRun: FuelTransferEpisode | null = null;
  private drivenS = 0;
  private tripTargetS: number | null = null;
  private readonly policyRng: Random;
  private finished = false;
  private nextDueS = Number.POSITIVE_INFINITY;

  constructor(private readonly options: ScenarioRunnerOptions) {
    this.model = options.model;
    this.diagnostics = options.diagnostics;
    this.vehicleId = options.vehicleId;
    this.thresholds = { ...DEFAULT_THRESHOLDS, ...options.scenario.thresholds };
    this.log = options.logger ?? createLogger('scenario', { vehicle: options.vehicleId });
    this.policyRng = Random.fork(options.seed, `scenario:${options.scenario.name}:policy`);
    this.current = this.model.state();
    this.observer = new MotionObserver(
      options.vehicleId,
      this.thresholds,
      (label) => this.emit(label),
      (kind) => this.isScripted(kind),
    );
    options.scenario.events.forEach((spec, index) => {
      const atS = this.draw(spec.at, index, 0, 'at');
      this.pending.push({ spec, index, k: 0, atS });
      this.nextDueS = Math.min(this.nextDueS, atS);
    });
    if (options.scenario.schedule) this.tripTargetS = this.drawPolicy(options.scenario.schedule.tripS);
  }

  // RunContext
  get t(): number {
    return this.tNow;
  }

  get state(): VehicleState {
    return this.current;
  }

  get parked(): ParkEpisode | null {
    const e = this.holder?.episode;
    return e instanceof ParkEpisode && e.phase === 'parked' ? e : null;
  }

  get adapterPlugged(): boolean {
    return this.unplugDepth === 0;
  }

  get gpsFix(): boolean {
    return this.fixLossDepth === 0;
  }

  get labelsEmitted(): number {
    return this.labelCount;
  }

  emit(label: Label): void {
    this.labelCount += 1;
    this.options.onLabel?.(label);
  }

  requestPark(park: ParkEpisode): void {
    this.queue.unshift({ episode: park, dueT: this.tNow, expiresT: Number.POSITIVE_INFINITY });
  }

  setAdapterPlugged(plugged: boolean): void {
    if (!plugged) {
      this.unplugDepth += 1;
      if (this.unplugDepth === 1) this.options.adapter?.unplug();
    } else if (this.unplugDepth > 0) {
      this.unplugDepth -= 1;
      if (this.unplugDepth === 0) this.options.adapter?.plugIn();
    }
  }

  setGpsFix(fix: boolean): void {
    if (!fix) {
      this.fixLossDepth += 1;
      if (this.fixLossDepth === 1) this.options.gps?.setFix(false);
    } else if (this.fixLossDepth > 0) {
      this.fixLossDepth -= 1;
      if (this.fixLossDepth === 0) this.options.gps?.setFix(true);
    }
  }

  injectObdError(answer: ElmErrorAnswer, count: number): void {
    this.options.adapter?.injectAnswer(answer, count);
  }

  powerGlitch(): void {
    this.options.adapter?.powerGlitch();
  }

  /** Observe state 0 and act on events due at 0. Call once, before the first advance(). */
  begin(): void {
    this.current = this.model.state();
    this.observer.observe(this.current);
    this.act();
  }

  /** One simulated second: the model steps, the new state is observed, then episodes act. */
  advance(): void {
    this.model.step();
    this.tNow += 1;
    this.current = this.model.state();
    this.observer.observe(this.current);
    this.act();
  }

  /** End of run: cut every episode short (labels come out with `truncated: true`), close observed ones. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    for (const e of this.free) e.abort?.(this);
    this.free = [];
    // A park is left as it is: the vehicle stays parked (a frozen vehicle's OBD answers after the
    // last epoch must match the truth file's last line).
    if (this.holder && !(this.holder.episode instanceof ParkEpisode)) this.holder.episode.abort?.(this);
    this.holder = null;
    this.observer.finish();
  }

  private act(): void {
    const t = this.tNow;
    // Due scenario events become episodes (checked only when the earliest one is due).
    if (t >= this.nextDueS) this.startDueEvents(t);

    this.applyPolicies();

    // The driver: expire stale requests, hand the wheel to the next one.
    if (!this.holder && this.queue.length > 0) {
      while (this.queue.length > 0 && this.queue[0]!.expiresT < t) {
        const dropped = this.queue.shift()!;
        this.log.debug(
          { kind: dropped.episode.kind, dueT: dropped.dueT },
          'scenario event dropped: no moment came',
        );
      }
      const next = this.queue.shift();
      if (next) this.holder = { episode: next.episode, limitT: this.holderLimit(next) };
    }
    if (this.holder) {
      const { episode, limitT } = this.holder;
      if (GIVE_UP_KINDS.has(episode.kind) && t > limitT) {
        episode.abort?.(this);
        this.holder = null;
      } else if (episode.tick(this)) {
        this.holder = null;
        if (episode.kind === 'rescue') this.rescueActive = false;
      }
    }

    // Free episodes run concurrently; ticking may add none (they only request parks).
    if (this.free.length > 0) {
      let anyDone = false;
      const done = this.free.map((e) => {
        const over = e.tick(this);
        if (over && e === this.refuelRun) this.refuelRun = null;
        anyDone ||= over;
        return over;
      });
      if (anyDone) this.free = this.free.filter((_, i) => !done[i]);
    }
  }

  private startDueEvents(t: number): void {
    const due = this.pending.filter((p) => p.atS <= t).sort((a, b) => a.atS - b.atS || a.index - b.index);
    const later = this.pending.filter((p) => p.atS > t);
    this.pending.length = 0;
    this.pending.push(...later);
    for (const p of due) {
      const episode = this.instantiate(p);
      if (episode.needsDriver) {
        const maxWait =
          p.spec.maxWaitS !== undefined
            ? this.draw(p.spec.maxWaitS, p.index, p.k, 'maxWaitS')
            : DEFAULT_MAX_WAIT_S;
        this.queue.push({ episode, dueT: t, expiresT: t + maxWait });
      } else {
        this.free.push(episode);
      }
      const next = this.nextOccurrence(p);
      if (next) this.pending.push(next);
    }
    this.nextDueS = this.pending.reduce((min, p) => Math.min(min, p.atS), Number.POSITIVE_INFINITY);
  }

  private holderLimit(q: Queued): number {
    return q.dueT + Math.max(0, q.expiresT - q.dueT) + 3600;
  }

  /** Empty tank, refuelling below a level, trips and parks by the clock. */
  private applyPolicies(): void {
    const scenario = this.options.scenario;
    const s = this.current;
    const empty = scenario.emptyTank ?? DEFAULT_EMPTY_TANK;

    if (this.model.stranded && s.ignition && !this.rescueActive && empty.action === 'rescue') {
      // Whatever the driver was doing is over; someone brings a can.
      if (this.holder && !(this.holder.episode instanceof ParkEpisode)) this.holder.episode.abort?.(this);
      if (!this.holder || !(this.holder.episode instanceof ParkEpisode)) {
        const park = new ParkEpisode('rescue', 60, null, this.drawPolicy(empty.afterS));
        const transfer = new FuelTransferEpisode('refuel', {
          id: `rescue.${this.tNow}`,
          volumeL: this.drawPolicy(empty.litres),
          durationS: 120,
          delayS: 0,
          parkS: 0,
          rescue: true,
          park,
        });
        this.holder = { episode: park, limitT: Number.POSITIVE_INFINITY };
        this.free.push(transfer);
        this.rescueActive = true;
        this.log.debug({ t: this.tNow }, 'stranded with an empty tank: rescue on its way');
      }
      return;
    }

    const schedule = scenario.schedule;
    if (!schedule) return;
    const truePct = (s.fuelLitresTrue / s.tankLitres) * 100;
    if (
      schedule.refuelBelowPct !== undefined &&
      !this.refuelRun &&
      s.engineRunning &&
      truePct < schedule.refuelBelowPct
    ) {
      this.refuelRun = new FuelTransferEpisode('refuel', {
        id: `policy.${this.tNow}`,
        toPct: this.drawPolicy(schedule.refuelToPct ?? [85, 100]),
        delayS: this.drawPolicy([30, 120]),
        parkS: this.drawPolicy([180, 600]),
      });
      this.free.push(this.refuelRun);
    }

    if (this.holder || this.queue.length > 0 || !s.engineRunning) return;
    const work = schedule.workHoursUtc;
    if (work && !withinHours(s.simTimeMs, work)) {
      this.queue.push({
        episode: new ParkEpisode('off-shift', 0, nextHourStart(s.simTimeMs, work[0])),
        dueT: this.tNow,
        expiresT: Number.POSITIVE_INFINITY,
      });
      this.drivenS = 0;
      return;
    }
    this.drivenS += 1;
    if (this.tripTargetS !== null && this.drivenS >= this.tripTargetS) {
      this.queue.push({
        episode: new ParkEpisode('schedule', this.drawPolicy(schedule.parkS)),
        dueT: this.tNow,
        expiresT: Number.POSITIVE_INFINITY,
      });
      this.drivenS = 0;
      this.tripTargetS = this.drawPolicy(schedule.tripS);
    }
  }

  private isScripted(
    kind: 'harsh_brake' | 'harsh_accel' | 'speeding' | 'long_idle' | 'ignition_off',
  ): boolean {
    const holder = this.holder?.episode;
    if (!holder) return false;
    if (kind === 'ignition_off') return holder instanceof ParkEpisode;
    if (kind === 'long_idle') return holder.kind === 'idle';
    return holder.kind === kind;
  }

  private nextOccurrence(p: Pending): Pending | null {
    const { spec } = p;
    if (spec.every === undefined) return null;
    if (spec.times !== undefined && p.k + 1 >= spec.times) return null;
    const k = p.k + 1;
    const period = Math.max(1, this.draw(spec.every, p.index, k, 'every'));
    return { spec, index: p.index, k, atS: p.atS + period };
  }

  /** One occurrence's episode, its parameters drawn from its own seeded stream. */
  private instantiate(p: Pending): Episode {
    const { spec, index, k } = p;
    const d = (field: keyof ScenarioEventSpec, fallback?: NumberSpec): number => {
      const value = (spec[field] as NumberSpec | undefined) ?? fallback;
      if (value === undefined) throw new Error(`scenario event ${spec.type}: missing ${String(field)}`);
      return this.draw(value, index, k, String(field));
    };
    const id = `${index}.${k}`;
    const g = spec.gradePct;
    const gradePct =
      g === undefined || typeof g === 'number'
        ? g
        : this.occurrenceRng(index, k, 'gradePct').range(g[0], g[1]);
    switch (spec.type) {
      case 'park':
        return new ParkEpisode('park', d('durationS'), null, 0, gradePct);
      case 'idle':
        return new IdleEpisode(d('durationS'), gradePct);
      case 'fuel_theft': {
        const durationS = d('durationS');
        const delayS = d('delayS', [60, 300]);
        const parkS = d('parkS', [delayS + durationS + 300, delayS + durationS + 1200]);
        return new FuelTransferEpisode('fuel_theft', {
          id,
          volumeL: d('volumeL'),
          durationS,
          delayS,
          parkS,
          ...(gradePct !== undefined ? { gradePct } : {}),
        });
      }
      case 'refuel': {
        const delayS = d('delayS', [30, 120]);
        return new FuelTransferEpisode('refuel', {
          id,
          ...(spec.volumeL !== undefined ? { volumeL: d('volumeL') } : { toPct: d('toPct') }),
          ...(spec.durationS !== undefined ? { durationS: d('durationS') } : {}),
          delayS,
          parkS: d('parkS', [delayS + 300, delayS + 900]),
          ...(gradePct !== undefined ? { gradePct } : {}),
        });
      }
      case 'leak':
        return new LeakEpisode(id, d('rateLph'), d('durationS'));
      case 'harsh_brake':
        return new HarshBrakeEpisode(d('g'), d('minSpeedKmh', 30));
      case 'harsh_accel':
        return new HarshAccelEpisode(d('g'), d('durationS', [3, 5]));
      case 'speeding':
        return new SpeedingEpisode(d('overKmh'), d('durationS'));
      case 'dtc':
        return new DtcEpisode(spec.code!, d('pendingS', 0));
      case 'unplug':
        return new OutageEpisode('unplug', d('durationS'));
      case 'gps_loss':
        return new OutageEpisode('gps_fix_loss', d('durationS'));
      case 'obd_error':
        return new InstantEpisode('obd_error', { answer: spec.answer!, count: d('count', 1) });
      case 'power_glitch':
        return new InstantEpisode('power_glitch', {});
      case 'speed_profile':
        return new InstantEpisode('speed_profile', { profile: spec.profile! });
    }
  }

  /** A value of occurrence k of event `index`: fixed, or drawn from its range (seeded per field). */
  private draw(spec: NumberSpec, index: number, k: number, field: string): number {
    if (!Array.isArray(spec)) return parseDuration(spec as number | string, field);
    const [lo, hi] = spec as readonly [number | string, number | string];
    return this.occurrenceRng(index, k, field).range(parseDuration(lo, field), parseDuration(hi, field));
  }

  /** The stream one field of one occurrence draws from: adding a field shifts no other draw. */
  private occurrenceRng(index: number, k: number, field: string): Random {
    return Random.fork(this.options.seed, `scenario:${this.options.scenario.name}:${index}:${k}:${field}`);
  }

  private drawPolicy(spec: NumberSpec): number {
    if (!Array.isArray(spec)) return parseDuration(spec as number | string);
    const [lo, hi] = spec as readonly [number | string, number | string];
    return this.policyRng.range(parseDuration(lo), parseDuration(hi));
  }
}

function withinHours(ms: number, [from, to]: readonly [number, number]): boolean {
  const hour = new Date(ms).getUTCHours();
  return hour >= from && hour < to;
}

/** Epoch ms of the next `hour`:00 UTC after `ms` (a random-free shift start). */
function nextHourStart(ms: number, hour: number): number {
  const d = new Date(ms);
  const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), hour);
  return start > ms ? start : start + 86_400_000;
}
