import type { ElmErrorAnswer } from '../elm327/faults.ts';
import type { DiagnosticMemory } from '../vehicle/diagnostics.ts';
import type { SpeedProfile, VehicleModel, VehicleState } from '../vehicle/model.ts';
import type { Label } from './labels.ts';

const G = 9.81;
const round = (v: number, decimals: number): number => Math.round(v * 10 ** decimals) / 10 ** decimals;

/** What an episode sees and may do, once per simulated second (after that second's state). */
export interface RunContext {
  /** Seconds since the start (the epoch number). */
  readonly t: number;
  readonly state: VehicleState;
  readonly model: VehicleModel;
  readonly diagnostics: DiagnosticMemory;
  readonly vehicleId: string;
  emit(label: Label): void;
  /** The park currently holding the vehicle with the ignition off, if any. */
  readonly parked: ParkEpisode | null;
  /** Queue a park for the driver (a fuel transfer that found the vehicle driving). */
  requestPark(park: ParkEpisode): void;
  setAdapterPlugged(plugged: boolean): void;
  injectObdError(answer: ElmErrorAnswer, count: number): void;
  powerGlitch(): void;
  setGpsFix(fix: boolean): void;
}

/**
 * One scripted thing happening over some seconds. `tick` runs once per simulated second and
 * returns true when the episode is over; `abort` undoes what it holds when it is cut short.
 * Driver episodes (`needsDriver`) steer the vehicle and run one at a time.
 */
export interface Episode {
  readonly kind: string;
  readonly needsDriver: boolean;
  tick(ctx: RunContext): boolean;
  abort?(ctx: RunContext): void;
}

/** Label fields every scripted label shares, at the current state. */
function here(ctx: RunContext): { vehicleId: string; start: number; lat: number; lon: number } {
  return { vehicleId: ctx.vehicleId, start: ctx.state.simTimeMs, lat: ctx.state.lat, lon: ctx.state.lon };
}

/**
 * Pull over, ignition off for `parkS` (or until `untilTs`), ignition on, drive on. Fuel transfers
 * attach to it and keep it parked until they are done.
 */
export class ParkEpisode implements Episode {
  readonly needsDriver = true;
  phase: 'pulling-over' | 'parked' | 'done' = 'pulling-over';
  private parkedAt = 0;
  private readonly attached = new Set<Episode>();

  private waitUntil: number | null = null;

  constructor(
    readonly kind: string,
    private readonly parkS: number,
    private readonly untilTs: number | null = null,
    /** Seconds to wait where the vehicle stands before switching off (a stranded driver's call). */
    private readonly waitS = 0,
    /** Slope of the parking spot, %; default the road's grade. */
    private readonly gradePct?: number,
  ) {}

  attach(e: Episode): void {
    this.attached.add(e);
  }

  detach(e: Episode): void {
    this.attached.delete(e);
  }

  tick(ctx: RunContext): boolean {
    const { model } = ctx;
    if (this.phase === 'pulling-over') {
      if (this.waitS > 0) {
        this.waitUntil ??= ctx.t + Math.round(this.waitS);
        if (ctx.t < this.waitUntil) return false;
      }
      model.pullOver(this.gradePct);
      if (model.held || (model.stationary && !ctx.state.engineRunning)) {
        model.setIgnition(false);
        this.phase = 'parked';
        this.parkedAt = ctx.t;
      }
      return false;
    }
    if (this.phase === 'parked') {
      const timeUp =
        this.untilTs !== null ? ctx.state.simTimeMs >= this.untilTs : ctx.t - this.parkedAt >= this.parkS;
      if (!timeUp || this.attached.size > 0) return false;
      model.setIgnition(true);
      model.resume();
      this.phase = 'done';
      return true;
    }
    return true;
  }

  abort(ctx: RunContext): void {
    if (this.phase === 'parked') ctx.model.setIgnition(true);
    ctx.model.resume();
    this.phase = 'done';
  }
}

/**
 * Fuel moved while parked with the ignition off: a theft (siphon, negative) or a refuel (nozzle,
 * positive). Joins the park in progress, or has the driver park for it.
 */
export class FuelTransferEpisode implements Episode {
  readonly needsDriver = false;
  private phase: 'waiting' | 'await-park' | 'delay' | 'moving' | 'done' = 'waiting';
  private park: ParkEpisode | null = null;
  private startAt = 0;
  private endAt = 0;
  private startLabel: ReturnType<typeof here> | null = null;
  private requestedL = 0;
  private rateLph = 0;
  private readonly flow: string;

  constructor(
    readonly kind: 'fuel_theft' | 'refuel',
    private readonly params: {
      id: string;
      /** Litres to move, or (refuel) fill up to this % of the tank. */
      volumeL?: number;
      toPct?: number;
      durationS?: number;
      delayS: number;
      parkS: number;
      /** Slope of the spot it parks on when it has the driver park for it, %. */
      gradePct?: number;
      rescue?: boolean;
      /** Join this park (the runner's rescue) instead of finding or requesting one. */
      park?: ParkEpisode;
    },
  ) {
    this.flow = `${kind}:${params.id}`;
    if (params.park) {
      this.park = params.park;
      this.park.attach(this);
      this.phase = 'await-park';
    }
  }

  tick(ctx: RunContext): boolean {
    switch (this.phase) {
      case 'waiting': {
        const parked = ctx.parked;
        if (parked) {
          this.join(parked, ctx);
        } else {
          this.park = new ParkEpisode(`${this.kind}-park`, this.params.parkS, null, 0, this.params.gradePct);
          this.park.attach(this);
          ctx.requestPark(this.park);
          this.phase = 'await-park';
        }
        return false;
      }
      case 'await-park':
        if (this.park!.phase === 'parked') this.join(this.park!, ctx);
        return false;
      case 'delay':
        return ctx.t >= this.startAt && this.begin(ctx);
      case 'moving':
        if (ctx.t < this.endAt) return false;
        this.finish(ctx, false);
        return true;
      default:
        return true;
    }
  }

  abort(ctx: RunContext): void {
    if (this.phase === 'moving') this.finish(ctx, true);
    this.park?.detach(this);
    this.phase = 'done';
  }

  private join(park: ParkEpisode, ctx: RunContext): void {
    this.park = park;
    park.attach(this);
    this.phase = 'delay';
    this.startAt = ctx.t + Math.round(this.params.delayS);
  }

  /** Start moving fuel; true when there is nothing to move (the episode is over). */
  private begin(ctx: RunContext): boolean {
    const { model, state } = ctx;
    let volume = this.params.volumeL ?? 0;
    if (this.kind === 'refuel' && this.params.toPct !== undefined) {
      volume = (state.tankLitres * this.params.toPct) / 100 - state.fuelLitresTrue;
    }
    if (!(volume > 0.5)) {
      // Nothing worth moving (a refuel to a level the tank is already at).
      this.park?.detach(this);
      this.phase = 'done';
      return true;
    }
    // A pump nozzle delivers ~35 L/min; a siphon is given its duration by the scenario.
    const durationS = Math.max(10, Math.round(this.params.durationS ?? (volume / 35) * 60));
    this.requestedL = volume;
    this.rateLph = (volume / durationS) * 3600;
    model.setFuelFlow(this.flow, this.kind === 'refuel' ? this.rateLph : -this.rateLph);
    this.startLabel = here(ctx);
    this.endAt = ctx.t + durationS;
    this.phase = 'moving';
    return false;
  }

  private finish(ctx: RunContext, truncated: boolean): void {
    const moved = Math.abs(ctx.model.endFuelFlow(this.flow));
    const end = ctx.state.simTimeMs;
    const common = {
      ...this.startLabel!,
      end,
      ...(truncated ? { truncated: true as const } : {}),
      volumeL: round(moved, 4),
      requestedL: round(this.requestedL, 3),
    };
    if (this.kind === 'fuel_theft') {
      ctx.emit({ type: 'fuel_theft', ...common, rateLph: round(this.rateLph, 3) });
    } else {
      ctx.emit({ type: 'refuel', ...common, ...(this.params.rescue ? { rescue: true as const } : {}) });
    }
    this.park?.detach(this);
    this.phase = 'done';
  }
}

/** A slow loss (a weeping fuel line, a loose cap) at `rateLph` for `durationS`, whatever the vehicle does. */
export class LeakEpisode implements Episode {
  readonly kind = 'leak';
  readonly needsDriver = false;
  private started: ReturnType<typeof here> | null = null;
  private endAt = 0;
  private readonly flow: string;

  constructor(
    id: string,
    private readonly rateLph: number,
    private readonly durationS: number,
  ) {
    this.flow = `leak:${id}`;
  }

  tick(ctx: RunContext): boolean {
    if (!this.started) {
      ctx.model.setFuelFlow(this.flow, -this.rateLph);
      this.started = here(ctx);
      this.endAt = ctx.t + Math.round(this.durationS);
      return false;
    }
    if (ctx.t < this.endAt) return false;
    this.close(ctx, false);
    return true;
  }

  abort(ctx: RunContext): void {
    if (this.started) this.close(ctx, true);
  }

  private close(ctx: RunContext, truncated: boolean): void {
    const moved = Math.abs(ctx.model.endFuelFlow(this.flow));
    ctx.emit({
      type: 'fuel_leak',
      ...this.started!,
      end: ctx.state.simTimeMs,
      ...(truncated ? { truncated: true as const } : {}),
      volumeL: round(moved, 4),
      rateLph: this.rateLph,
    });
  }
}

/**
 * Pull over with the engine running for `durationS` (deliveries, waiting, warming the cab), on a
 * spot of `gradePct` (default: the road's grade).
 */
export class IdleEpisode implements Episode {
  readonly kind = 'idle';
  readonly needsDriver = true;
  private heldAt: number | null = null;

  constructor(
    private readonly durationS: number,
    private readonly gradePct?: number,
  ) {}

  tick(ctx: RunContext): boolean {
    if (!ctx.state.engineRunning) return this.heldAt !== null; // stranded: give up
    if (this.heldAt === null) {
      ctx.model.pullOver(this.gradePct);
      if (ctx.model.held) this.heldAt = ctx.t;
      return false;
    }
    if (ctx.t - this.heldAt < this.durationS) return false;
    ctx.model.resume();
    return true;
  }

  abort(ctx: RunContext): void {
    ctx.model.resume();
  }
}

/** An emergency stop at `g` once the vehicle is doing at least `minSpeedKmh`. */
export class HarshBrakeEpisode implements Episode {
  readonly kind = 'harsh_brake';
  readonly needsDriver = true;
  private braking = false;

  constructor(
    private readonly g: number,
    private readonly minSpeedKmh: number,
  ) {}

  tick(ctx: RunContext): boolean {
    if (!this.braking) {
      if (ctx.state.engineRunning && !ctx.model.stationary && ctx.state.speedKmh >= this.minSpeedKmh) {
        ctx.model.harshBrake(this.g * G);
        this.braking = true;
      }
      return false;
    }
    return ctx.model.stationary || !ctx.state.engineRunning;
  }
}

/** A hard launch at `g` for `durationS`: stop at the kerb, then floor it. */
export class HarshAccelEpisode implements Episode {
  readonly kind = 'harsh_accel';
  readonly needsDriver = true;
  private phase: 'stopping' | 'launching' = 'stopping';
  private until = 0;

  constructor(
    private readonly g: number,
    private readonly durationS: number,
  ) {}

  tick(ctx: RunContext): boolean {
    if (!ctx.state.engineRunning) return true;
    if (this.phase === 'stopping') {
      ctx.model.pullOver();
      if (ctx.model.held) {
        ctx.model.harshAccelerate(this.g * G, this.durationS);
        ctx.model.resume();
        this.phase = 'launching';
        this.until = ctx.t + Math.round(this.durationS) + 10;
      }
      return false;
    }
    return ctx.t >= this.until;
  }

  abort(ctx: RunContext): void {
    ctx.model.resume();
  }
}

/** Cruise at the posted limit + `overKmh` for `durationS`. */
export class SpeedingEpisode implements Episode {
  readonly kind = 'speeding';
  readonly needsDriver = true;
  private until: number | null = null;

  constructor(
    private readonly overKmh: number,
    private readonly durationS: number,
  ) {}

  tick(ctx: RunContext): boolean {
    if (this.until === null) {
      if (!ctx.state.engineRunning) return false;
      ctx.model.setCruiseOverride(ctx.state.speedLimitKmh + this.overKmh);
      this.until = ctx.t + Math.round(this.durationS);
      return false;
    }
    if (ctx.t < this.until && ctx.state.engineRunning) return false;
    ctx.model.setCruiseOverride(null);
    return true;
  }

  abort(ctx: RunContext): void {
    ctx.model.setCruiseOverride(null);
  }
}

/** A fault code: pending for `pendingS`, then stored with the MIL on, until a scan tool clears it. */
export class DtcEpisode implements Episode {
  readonly kind = 'dtc';
  readonly needsDriver = false;
  private phase: 'new' | 'pending' | 'stored' | 'done' = 'new';
  private storeAt = 0;
  private pendingFrom: number | null = null;
  private label: ReturnType<typeof here> | null = null;
  private unsubscribe: (() => void) | null = null;
  private clearedAt: number | null = null;

  constructor(
    private readonly code: string,
    private readonly pendingS: number,
  ) {}

  tick(ctx: RunContext): boolean {
    if (this.phase === 'new') {
      if (this.pendingS > 0) {
        ctx.diagnostics.setPending(this.code);
        this.pendingFrom = ctx.state.simTimeMs;
        this.storeAt = ctx.t + Math.round(this.pendingS);
        this.phase = 'pending';
        return false;
      }
      this.store(ctx);
      return false;
    }
    if (this.phase === 'pending') {
      if (ctx.t >= this.storeAt) this.store(ctx);
      return false;
    }
    if (this.phase === 'stored' && this.clearedAt !== null) {
      this.emit(ctx, this.clearedAt);
      return true;
    }
    return this.phase === 'done';
  }

  /** End of run: the code is still stored (end null) unless it was cleared. */
  abort(ctx: RunContext): void {
    if (this.phase === 'stored') this.emit(ctx, this.clearedAt);
  }

  private store(ctx: RunContext): void {
    ctx.diagnostics.store(this.code);
    this.label = here(ctx);
    this.phase = 'stored';
    this.unsubscribe = ctx.diagnostics.onClear((codes) => {
      // A host's service 04 arrives between epochs: the label ends at the next epoch.
      if (codes.includes(this.code) && this.clearedAt === null) this.clearedAt = ctx.state.simTimeMs + 1000;
    });
  }

  private emit(ctx: RunContext, end: number | null): void {
    this.unsubscribe?.();
    ctx.emit({
      type: 'dtc',
      ...this.label!,
      end,
      code: this.code,
      mil: true,
      ...(this.pendingFrom !== null ? { pendingFrom: this.pendingFrom } : {}),
      ...(end !== null ? { clearedBy: 'service04' as const } : {}),
    });
    this.phase = 'done';
  }
}

/** Something switched off for `durationS` and back on: the adapter (unplug) or the GPS fix. */
export class OutageEpisode implements Episode {
  readonly needsDriver = false;
  private started: ReturnType<typeof here> | null = null;
  private endAt = 0;

  constructor(
    readonly kind: 'unplug' | 'gps_fix_loss',
    private readonly durationS: number,
  ) {}

  tick(ctx: RunContext): boolean {
    if (!this.started) {
      this.set(ctx, false);
      this.started = here(ctx);
      this.endAt = ctx.t + Math.max(1, Math.round(this.durationS));
      return false;
    }
    if (ctx.t < this.endAt) return false;
    this.set(ctx, true);
    ctx.emit({ type: this.kind, ...this.started, end: ctx.state.simTimeMs });
    return true;
  }

  abort(ctx: RunContext): void {
    if (!this.started) return;
    this.set(ctx, true);
    ctx.emit({ type: this.kind, ...this.started, end: ctx.state.simTimeMs, truncated: true });
  }

  private set(ctx: RunContext, on: boolean): void {
    if (this.kind === 'unplug') ctx.setAdapterPlugged(on);
    else ctx.setGpsFix(on);
  }
}

/** Instant events: scripted error answers, a power glitch, a change of driving style. */
export class InstantEpisode implements Episode {
  readonly needsDriver = false;

  constructor(
    readonly kind: 'obd_error' | 'power_glitch' | 'speed_profile',
    private readonly params: { answer?: ElmErrorAnswer; count?: number; profile?: SpeedProfile },
  ) {}

  tick(ctx: RunContext): boolean {
    if (this.kind === 'obd_error') {
      const count = Math.max(1, Math.round(this.params.count ?? 1));
      ctx.injectObdError(this.params.answer!, count);
      ctx.emit({
        type: 'obd_error',
        ...here(ctx),
        end: ctx.state.simTimeMs,
        answer: this.params.answer!,
        count,
      });
    } else if (this.kind === 'power_glitch') {
      ctx.powerGlitch();
      ctx.emit({ type: 'power_glitch', ...here(ctx), end: ctx.state.simTimeMs });
    } else {
      ctx.model.speedProfile = this.params.profile!;
    }
    return true;
  }
}
