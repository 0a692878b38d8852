import { appendFileSync } from 'node:fs';
import { createLogger, type Logger } from '@fleet/shared/log';
import type { AdapterProfileName } from '../elm327/adapter-profiles.ts';
import { type AdapterKind, Elm327Emulator } from '../elm327/emulator.ts';
import type { FaultRates } from '../elm327/faults.ts';
import type { VehicleProtocol } from '../elm327/protocols.ts';
import { SimError, SimErrorCode } from '../errors.ts';
import { type NmeaEpoch, NmeaGenerator, type NmeaSentenceType, type Talker } from '../nmea/generator.ts';
import type { ScenarioDefinition } from '../scenarios/format.ts';
import { type Label, LabelsFile } from '../scenarios/labels.ts';
import { ScenarioRunner } from '../scenarios/runner.ts';
import type { ByteEndpoint } from '../transport/endpoint.ts';
import { buildVehicle, labelsMeta } from './config.ts';
import type { DiagnosticMemory } from './diagnostics.ts';
import type { SenderModelName } from './fuel-sender.ts';
import type { SpeedProfile, VehicleModel } from './model.ts';
import type { Route } from './route.ts';
import type { TankShape } from './tank.ts';
import { vinForVehicle } from './vin.ts';

/**
 *            every tickMs (wall clock), until `epochs` are out
 *                      |
 *                      v
 *   ScenarioRunner.advance(): VehicleModel.step() (+1 simulated s), labels, scenario events
 *         |                     (unplug, errors, fix loss, DTCs, fuel in and out, driving)
 *         | state
 *         +--> NmeaGenerator --RMC, GGA (+VTG, GSA, GSV)--> gps endpoint
 *         +--> truth file (one JSON line, before the sentences); labels file (as labels close)
 *         ^
 *         | state() at request time
 *   Elm327Emulator <--bytes--> elm endpoint   (answers OBD whether or not epochs are out)
 */
export interface SimVehicleOptions {
  id: string;
  /** Everything random (route, driver, sensors, GPS noise, scenario draws) derives from it. */
  seed: number;
  /** Epoch ms of the first GPS fix; rounded down to a whole second. */
  startTimeMs: number;
  elm: ByteEndpoint;
  gps: ByteEndpoint;
  /** [1...3600000], default: 1000 ms of wall clock per simulated second. */
  tickMs?: number;
  /** Stop stepping and emitting NMEA after this many epochs; default: run until stopped. */
  epochs?: number;
  /** [1...2000], default: 60 L (or the scenario's). */
  tankLitres?: number;
  /** Default: linear (or the scenario's). */
  tankShape?: TankShape;
  /** [0...100], default: the scenario's, else drawn from the seed. */
  initialFuelPct?: number;
  speedProfile?: SpeedProfile;
  /** Fuel sender model behind PID 2F; default: ideal (or the scenario's). */
  sender?: SenderModelName;
  /** Default: a built-in route chosen by seed (or the scenario's). */
  route?: Route;
  /** Default: the built-in "none" (continuous driving, no events). */
  scenario?: ScenarioDefinition;
  /** Append one JSON line of ground truth per emitted epoch to this file. */
  truthFile?: string;
  /** Append the labels (a meta line first) to this file. */
  labelsFile?: string;
  /** Default: can (or the scenario's). */
  protocol?: VehicleProtocol;
  /** Default: elm327 (or the scenario's). */
  adapter?: AdapterKind;
  /** Multi-PID and reply-count behaviour of the adapter's firmware; default: standard. */
  adapterProfile?: AdapterProfileName;
  /** Stored DTCs from the start (MIL on). */
  dtcs?: readonly string[];
  /** Service 01 PIDs the ECU answers; default: all implemented. */
  pids?: readonly number[];
  /** NMEA talker, default GP; sentences per epoch, default RMC + GGA. */
  talker?: Talker;
  sentences?: readonly NmeaSentenceType[];
  /** ELM327 per-command latency, [0...5000], default: 30 ms (3 ms for stn). */
  latencyMs?: number;
  /** ATZ duration, default: 500 ms. */
  resetDelayMs?: number;
  /** Protocol search duration on the first request, default: 300 ms. */
  searchDelayMs?: number;
  /** K-line initialisation time, default per protocol. */
  busInitMs?: number;
  /** Host line rate the ELM327 replies are timed at; default: none. */
  baudRate?: number;
  /** Seeded error answers per OBD request, on top of the scenario's `faults`. */
  faults?: FaultRates['rates'];
}

/** One line of the truth file: what the vehicle really did at one GPS epoch. */
export interface TruthRecord {
  /** 0 for the first epoch, then +1 per epoch (one simulated second). */
  epoch: number;
  /** Epoch ms of the GPS time written in the sentences: an integer multiple of 1000. */
  ts: number;
  /**
   * Degrees exactly as written in the RMC/GGA fields (deg + min / 60, signed). Without a fix
   * (`gpsFix: false`) the sentences carry no position; these are then the true position as it
   * would have been written.
   */
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
  /** Added fields: engine turning (false when stalled on an empty tank). */
  engineRunning: boolean;
  /** The GPS had a fix for this epoch (RMC status A). */
  gpsFix: boolean;
  /** The adapter was in the socket (answering) after this epoch's events. */
  adapterPlugged: boolean;
  fuelRateLph: number;
  odometerKm: number;
  accelMps2: number;
  batteryV: number;
  milOn: boolean;
}

const round = (v: number, decimals: number): number => Math.round(v * 10 ** decimals) / 10 ** decimals;

/** One simulated vehicle: a model driving a route, its ELM327 adapter and its GPS receiver. */
export class SimVehicle {
  readonly model: VehicleModel;
  readonly emulator: Elm327Emulator;
  readonly runner: ScenarioRunner;
  readonly diagnostics: DiagnosticMemory;
  readonly vin: string;

  private readonly gpsReceiver: NmeaGenerator;
  private readonly log: Logger;
  private readonly tickMs: number;
  private timer: NodeJS.Timeout | null = null;
  private unsubscribeElm: (() => void) | null = null;
  private emitted = 0;
  private truthFile: string | undefined;
  private readonly labels: LabelsFile | null;
  private readonly epochListeners = new Set<(epoch: NmeaEpoch, truth: TruthRecord) => void>();
  private readonly labelListeners = new Set<(label: Label) => void>();
  private resolveDone: (() => void) | null = null;
  private readonly donePromise: Promise<void>;
  private started = false;

  constructor(private readonly options: SimVehicleOptions) {
    this.log = createLogger('sim-vehicle', { vehicle: options.id });
    this.tickMs = options.tickMs ?? 1000;
    this.truthFile = options.truthFile;
    this.vin = vinForVehicle(options.id);
    const built = buildVehicle({
      id: options.id,
      seed: options.seed,
      startTimeMs: options.startTimeMs,
      ...(options.scenario ? { scenario: options.scenario } : {}),
      ...(options.route ? { route: options.route } : {}),
      ...(options.tankLitres !== undefined ? { tankLitres: options.tankLitres } : {}),
      ...(options.tankShape ? { tankShape: options.tankShape } : {}),
      ...(options.initialFuelPct !== undefined ? { initialFuelPct: options.initialFuelPct } : {}),
      ...(options.speedProfile ? { speedProfile: options.speedProfile } : {}),
      ...(options.sender ? { sender: options.sender } : {}),
      ...(options.protocol ? { protocol: options.protocol } : {}),
      ...(options.adapter ? { adapter: options.adapter } : {}),
      ...(options.dtcs ? { dtcs: options.dtcs } : {}),
    });
    this.model = built.model;
    this.diagnostics = built.diagnostics;
    this.gpsReceiver = new NmeaGenerator({
      seed: options.seed,
      geoidSeparationM: this.model.route.definition.geoidSeparationM,
      ...(options.talker ? { talker: options.talker } : {}),
      ...(options.sentences ? { sentences: options.sentences } : {}),
    });
    const rates = { ...built.scenario.faults, ...options.faults };
    this.emulator = new Elm327Emulator({
      vehicle: this.model,
      vin: this.vin,
      write: (bytes) => options.elm.write(bytes),
      diagnostics: this.diagnostics,
      monitors: built.monitors,
      protocol: built.protocol,
      adapter: built.adapter,
      ...(options.adapterProfile ? { profile: options.adapterProfile } : {}),
      ...(options.pids ? { pids: options.pids } : {}),
      ...(options.latencyMs !== undefined ? { latencyMs: options.latencyMs } : {}),
      ...(options.resetDelayMs !== undefined ? { resetDelayMs: options.resetDelayMs } : {}),
      ...(options.searchDelayMs !== undefined ? { searchDelayMs: options.searchDelayMs } : {}),
      ...(options.busInitMs !== undefined ? { busInitMs: options.busInitMs } : {}),
      ...(options.baudRate !== undefined ? { baudRate: options.baudRate } : {}),
      // Also seeds the garbage of power glitches, so each vehicle's differ.
      faults: { rates, seed: options.seed },
      logger: createLogger('elm327', { vehicle: options.id }),
    });
    this.labels = options.labelsFile
      ? new LabelsFile(options.labelsFile, (err) =>
          this.log.error({ err: err.message, cause: (err.cause as Error)?.message }, 'labels file disabled'),
        )
      : null;
    this.runner = new ScenarioRunner({
      model: this.model,
      scenario: built.scenario,
      seed: options.seed,
      vehicleId: options.id,
      diagnostics: this.diagnostics,
      adapter: {
        unplug: () => this.unplugAdapter(),
        plugIn: () => this.plugInAdapter(),
        injectAnswer: (answer, count) => this.emulator.injectAnswer(answer, count),
        powerGlitch: () => this.emulator.powerGlitch(),
      },
      gps: this.gpsReceiver,
      onLabel: (label) => {
        this.labels?.write(label);
        for (const listener of this.labelListeners) listener(label);
      },
      logger: createLogger('scenario', { vehicle: options.id }),
    });
    this.labels?.writeMeta(labelsMeta(options, built, this.runner.thresholds));
    this.donePromise = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
  }

  get epochsEmitted(): number {
    return this.emitted;
  }

  get scenarioName(): string {
    return this.options.scenario?.name ?? 'none';
  }

  /** Called after each epoch is written (tests, progress reporting). */
  onEpoch(listener: (epoch: NmeaEpoch, truth: TruthRecord) => void): () => void {
    this.epochListeners.add(listener);
    return () => this.epochListeners.delete(listener);
  }

  /** Called with each label as it closes (also written to the labels file). */
  onLabel(listener: (label: Label) => void): () => void {
    this.labelListeners.add(listener);
    return () => this.labelListeners.delete(listener);
  }

  /** Resolves once `epochs` epochs have been emitted (never without `epochs`). */
  whenEpochsDone(): Promise<void> {
    return this.donePromise;
  }

  /** Answer OBD from now on (from the first state), before the clock starts. */
  listen(): void {
    this.unsubscribeElm ??= this.options.elm.onData((bytes) => this.emulator.receive(bytes));
  }

  /** Answer OBD at once and emit the first epoch now, then one per tick. */
  start(): void {
    if (this.started || this.timer) return;
    this.listen();
    this.log.info(
      {
        route: this.model.route.name,
        vin: this.vin,
        seed: this.options.seed,
        tickMs: this.tickMs,
        scenario: this.scenarioName,
      },
      'vehicle started',
    );
    if (this.epochsDone()) return;
    if (!this.started) {
      this.started = true;
      this.runner.begin();
    }
    this.emitEpoch();
    if (!this.epochsDone()) this.timer = setInterval(() => this.tick(), this.tickMs);
  }

  /**
   * Stop ticking and answering; the endpoints stay open (their owner closes them). Labels still
   * going are written with `truncated: true`.
   */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.unsubscribeElm?.();
    this.unsubscribeElm = null;
    this.emulator.close();
    if (this.started) this.runner.finish();
  }

  /** Pull the adapter out of the socket now (as a scenario's unplug event does). */
  unplug(): void {
    this.runner.setAdapterPlugged(false);
  }

  /** Put it back. */
  plugIn(): void {
    this.runner.setAdapterPlugged(true);
  }

  private unplugAdapter(): void {
    this.emulator.unplug();
    this.options.elm
      .disconnect?.()
      .catch((err: Error) => this.log.warn({ err: err.message }, 'disconnect failed'));
  }

  private plugInAdapter(): void {
    const reconnect = this.options.elm.reconnect?.() ?? Promise.resolve();
    reconnect.then(
      () => this.emulator.plugIn(),
      (err: Error) => {
        this.log.warn({ err: err.message }, 'reconnect failed; adapter stays silent');
      },
    );
  }

  private tick(): void {
    this.runner.advance();
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
      // The run is over as far as ground truth goes: close the labels now.
      if (this.started) this.runner.finish();
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
      engineRunning: state.engineRunning,
      gpsFix: epoch.fix,
      adapterPlugged: this.runner.adapterPlugged,
      fuelRateLph: round(state.fuelRateLph, 3),
      odometerKm: round(state.odometerKm, 3),
      accelMps2: round(state.accelMps2, 3),
      batteryV: round(state.batteryV, 2),
      milOn: this.diagnostics.milOn,
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
