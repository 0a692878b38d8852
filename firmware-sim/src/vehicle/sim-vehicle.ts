import { appendFileSync } from 'node:fs';
import { createLogger, type Logger } from '@fleet/shared/log';
import { Elm327Emulator } from '../elm327/emulator.ts';
import { SimError, SimErrorCode } from '../errors.ts';
import { type NmeaEpoch, NmeaGenerator } from '../nmea/generator.ts';
import type { ByteEndpoint } from '../transport/endpoint.ts';
import { VehicleModel } from './model.ts';
import type { Route } from './route.ts';
import { vinForVehicle } from './vin.ts';

/**
 *            every tickMs (wall clock), until `epochs` are out
 *                      |
 *                      v
 *   VehicleModel.step() (+1 simulated s) --state--> NmeaGenerator --RMC, GGA--> gps endpoint
 *         ^                                             |
 *         | state() at request time                     +--> truth file (one JSON line, first)
 *         |
 *   Elm327Emulator <--bytes--> elm endpoint   (answers OBD whether or not epochs are out)
 */
export interface SimVehicleOptions {
  id: string;
  /** Everything random (route, driver, sensors, GPS noise) derives from it. */
  seed: number;
  /** Epoch ms of the first GPS fix; rounded down to a whole second. */
  startTimeMs: number;
  elm: ByteEndpoint;
  gps: ByteEndpoint;
  /** [1...3600000], default: 1000 ms of wall clock per simulated second. */
  tickMs?: number;
  /** Stop stepping and emitting NMEA after this many epochs; default: run until stopped. */
  epochs?: number;
  /** [1...2000], default: 60 L. */
  tankLitres?: number;
  /** Default: a built-in route chosen by seed. */
  route?: Route;
  /** Append one JSON line of ground truth per emitted epoch to this file. */
  truthFile?: string;
  /** ELM327 per-command latency, [0...5000], default: 30 ms. */
  latencyMs?: number;
  /** ATZ duration, default: 500 ms. */
  resetDelayMs?: number;
  /** Protocol search duration on the first request, default: 300 ms. */
  searchDelayMs?: number;
}

/** One line of the truth file: what the vehicle really did at one GPS epoch. */
export interface TruthRecord {
  /** 0 for the first epoch, then +1 per epoch (one simulated second). */
  epoch: number;
  /** Epoch ms of the GPS time written in the sentences: an integer multiple of 1000. */
  ts: number;
  /** Degrees exactly as written in the RMC/GGA fields (deg + min / 60, signed). */
  lat: number;
  lon: number;
  speedKmh: number;
  rpm: number;
  /** Tank sender reading (with slosh), % in 100/255 steps: what PID 2F decodes to. */
  fuelLevelPct: number;
  fuelLitresTrue: number;
  coolantC: number;
  headingDeg: number;
  ignition: boolean;
  vehicleId: string;
}

const round = (v: number, decimals: number): number => Math.round(v * 10 ** decimals) / 10 ** decimals;

/** One simulated vehicle: a model driving a route, its ELM327 adapter and its GPS receiver. */
export class SimVehicle {
  readonly model: VehicleModel;
  readonly emulator: Elm327Emulator;
  readonly vin: string;

  private readonly gpsReceiver: NmeaGenerator;
  private readonly log: Logger;
  private readonly tickMs: number;
  private timer: NodeJS.Timeout | null = null;
  private unsubscribeElm: (() => void) | null = null;
  private emitted = 0;
  private truthFile: string | undefined;
  private readonly epochListeners = new Set<(epoch: NmeaEpoch, truth: TruthRecord) => void>();
  private resolveDone: (() => void) | null = null;
  private readonly donePromise: Promise<void>;

  constructor(private readonly options: SimVehicleOptions) {
    this.log = createLogger('sim-vehicle', { vehicle: options.id });
    this.tickMs = options.tickMs ?? 1000;
    this.truthFile = options.truthFile;
    this.vin = vinForVehicle(options.id);
    this.model = new VehicleModel({
      seed: options.seed,
      startTimeMs: options.startTimeMs,
      ...(options.route ? { route: options.route } : {}),
      ...(options.tankLitres !== undefined ? { tankLitres: options.tankLitres } : {}),
    });
    this.gpsReceiver = new NmeaGenerator({
      seed: options.seed,
      geoidSeparationM: this.model.route.definition.geoidSeparationM,
    });
    this.emulator = new Elm327Emulator({
      vehicle: this.model,
      vin: this.vin,
      write: (bytes) => options.elm.write(bytes),
      ...(options.latencyMs !== undefined ? { latencyMs: options.latencyMs } : {}),
      ...(options.resetDelayMs !== undefined ? { resetDelayMs: options.resetDelayMs } : {}),
      ...(options.searchDelayMs !== undefined ? { searchDelayMs: options.searchDelayMs } : {}),
      logger: createLogger('elm327', { vehicle: options.id }),
    });
    this.donePromise = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
  }

  get epochsEmitted(): number {
    return this.emitted;
  }

  /** Called after each epoch is written (tests, progress reporting). */
  onEpoch(listener: (epoch: NmeaEpoch, truth: TruthRecord) => void): () => void {
    this.epochListeners.add(listener);
    return () => this.epochListeners.delete(listener);
  }

  /** Resolves once `epochs` epochs have been emitted (never without `epochs`). */
  whenEpochsDone(): Promise<void> {
    return this.donePromise;
  }

  /** Answer OBD at once and emit the first epoch now, then one per tick. */
  start(): void {
    if (this.unsubscribeElm) return;
    this.unsubscribeElm = this.options.elm.onData((bytes) => this.emulator.receive(bytes));
    this.log.info(
      { route: this.model.route.name, vin: this.vin, seed: this.options.seed, tickMs: this.tickMs },
      'vehicle started',
    );
    if (this.epochsDone()) return;
    this.emitEpoch();
    if (!this.epochsDone()) this.timer = setInterval(() => this.tick(), this.tickMs);
  }

  /** Stop ticking and answering; the endpoints stay open (their owner closes them). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.unsubscribeElm?.();
    this.unsubscribeElm = null;
    this.emulator.close();
  }

  private tick(): void {
    this.model.step();
    this.emitEpoch();
    if (this.epochsDone() && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  private epochsDone(): boolean {
    const done = this.options.epochs !== undefined && this.emitted >= this.options.epochs;
    if (done && this.resolveDone) {
      this.log.info({ epochs: this.emitted }, 'epochs done: GPS silent, OBD still answering');
      this.resolveDone();
      this.resolveDone = null;
    }
    return done;
  }

  private emitEpoch(): void {
    const state = this.model.state();
    const epoch = this.gpsReceiver.epoch(state);
    const truth: TruthRecord = {
      epoch: this.emitted,
      ts: epoch.timeMs,
      lat: epoch.lat.degrees,
      lon: epoch.lon.degrees,
      speedKmh: round(state.speedKmh, 3),
      rpm: state.rpm,
      fuelLevelPct: state.fuelLevelPct,
      fuelLitresTrue: round(state.fuelLitresTrue, 3),
      coolantC: round(state.coolantC, 2),
      headingDeg: round(state.headingDeg, 2),
      ignition: state.ignition,
      vehicleId: this.options.id,
    };
    // Truth first: a test that has read the sentence can always find its truth line.
    this.writeTruth(truth);
    this.options.gps.write(Buffer.from(epoch.text, 'ascii'));
    this.emitted += 1;
    for (const listener of this.epochListeners) listener(epoch, truth);
  }

  private writeTruth(truth: TruthRecord): void {
    if (!this.truthFile) return;
    try {
      appendFileSync(this.truthFile, `${JSON.stringify(truth)}\n`);
    } catch (cause) {
      const err = new SimError(SimErrorCode.TruthWriteFailed, `cannot append to ${this.truthFile}`, {
        cause,
      });
      this.log.error({ err: err.message, cause: (cause as Error).message }, 'truth file disabled');
      this.truthFile = undefined;
    }
  }
}
