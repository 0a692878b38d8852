/**
 *             +--------------------------- retry after retryDelayMs <-----------------------+
 *             v                                                                             |
 *   open port, ATZ ... (ObdSession.open) --port gone, adapter mute--> state 'disconnected' --+
 *             |
 *             v                                +--- vehicle silent (NO DATA, UNABLE TO CONNECT)
 *   connectVehicle, discover PIDs,      <------+    state 'no-vehicle', ATRV, retry
 *   request mode (multi-PID? digit?), VIN      |
 *             |                                |
 *             v                                |
 *   poll cycle: scheduler -> readPids -> latest readings, fuel rate  (state 'polling')
 *               + diagnostics: DTCs (03, 07) every dtcPeriodMs and at once when PID 01's MIL or
 *                 code count changes, with PIDs 21/31 and, when the stored codes changed, freeze
 *                 frame 0 (02); ATRV every voltagePeriodMs, and back to back for crankWindowMs as
 *                 the vehicle is found (the start's cranking dip); service 06 monitor results every
 *                 monitorPeriodMs (CAN, when 0600 lists any); ignition on/off at the state
 *                 changes -> options.diagnostics.onReading (diagnostics/diagnostics-watch.ts)
 *
 * Keeps the latest reading of each PID. An unplugged adapter and an ignition switched off are
 * normal states on a vehicle, not crashes: the poller reports them and resumes by itself.
 */
import type { Logger } from '@fleet/shared/log';
import { AgentError, AgentErrorCode, isAgentError, isVehicleSilent } from '../errors.ts';
import type { ByteStream } from '../transport/byte-stream.ts';
import type { AdapterIdentity } from './elm327/connection.ts';
import type { ObdProtocol } from './elm327/protocols.ts';
import {
  computeFuelRateLph,
  DEFAULT_ENGINE,
  type EngineSettings,
  FUEL_RATE_PIDS,
  type FuelRateSource,
  selectFuelRateSource,
} from './fuel-rate.ts';
import { ObdSession, type ObdSessionOptions } from './obd-session.ts';
import { type ObdReadingName, PIDS, type PidValue } from './pids.ts';
import { DEFAULT_FAST_PIDS, DEFAULT_SLOW_PIDS, PollScheduler } from './poll-scheduler.ts';
import type { SupportMap } from './services/current-data.ts';
import type { TroubleCode } from './services/dtc.ts';
import { type FreezeFrame, readFreezeFrame } from './services/freeze-frame.ts';
import {
  discoverMonitorIds,
  isWatchedMonitor,
  type MonitorTest,
  readMonitorResults,
} from './services/monitor-results.ts';
import type { RequestMode } from './services/request-mode.ts';
import type { VinReading } from './services/vehicle-info.ts';

export type ObdReadings = Record<ObdReadingName, number | null>;
export type ObdLinkState = 'connecting' | 'polling' | 'no-vehicle' | 'disconnected';

export interface PidSample {
  value: PidValue;
  ecu: string;
  /** Epoch ms when it was read. */
  ts: number;
}

/** What the poller reads about the vehicle's health besides the PIDs; `ts` is when (epoch ms). */
export type DiagnosticReading =
  /** A complete read of services 03 and 07; `milOn` from PID 01 when the vehicle reports it. */
  | {
      kind: 'codes';
      ts: number;
      stored: TroubleCode[];
      pending: TroubleCode[];
      milOn: boolean | null;
      /** Freeze frame 0, read when the stored codes changed (null: the ECU keeps none). */
      freezeFrame?: FreezeFrame | null;
      /** PIDs 21 and 31, km, when the vehicle supports them. */
      distances?: { milOnKm: number | null; sinceClearKm: number | null };
    }
  /**
   * ATRV read back to back as the vehicle was found (an engine start): `minV` the lowest read
   * (the cranking dip when the reads caught the crank), `late` when the first read was already
   * charging (the engine ran before the agent saw the key: no dip to see).
   */
  | { kind: 'crank'; ts: number; samples: number; firstV: number; minV: number; lastV: number; late: boolean }
  /** Service 06 test results of the watched monitors (misfire per cylinder, catalysts). */
  | { kind: 'monitors'; ts: number; tests: MonitorTest[] }
  /** ATRV at the OBD socket, with the engine running (ECU answering) or off. */
  | { kind: 'voltage'; ts: number; volts: number; engine: 'running' | 'off' }
  /** The engine ECU started (on) or stopped (off) answering: the ignition, as an adapter sees it. */
  | { kind: 'ignition'; ts: number; on: boolean };

export interface ObdDiagnosticsOptions {
  /**
   * [10000...86400000] ms between two reads of the trouble codes while the engine runs, default
   * 300,000; a change of PID 01's MIL or code count reads them at once.
   */
  dtcPeriodMs?: number;
  /** [1000...3600000] ms between two ATRV reads while the engine runs, default 60,000. */
  voltagePeriodMs?: number;
  /**
   * [0...10000] ms of back-to-back ATRV reads when the vehicle is found, default 3000 (0: off):
   * a starter cranks for 0.5-2 s. Stops early once a dip was seen and the alternator charges.
   */
  crankWindowMs?: number;
  /** [1000...86400000] ms between two service 06 reads while the engine runs, default 600,000. */
  monitorPeriodMs?: number;
  onReading: (reading: DiagnosticReading) => void;
}

export interface ObdPollerOptions {
  /** Baud rates to try on a real UART, default [38400] (what `open` is called with). */
  baudRates?: readonly number[];
  /** PIDs asked every cycle when supported, default 0C 0D 11 04 (+ the fuel-rate inputs). */
  fastPids?: readonly number[];
  /** PIDs asked every `slowPeriodMs` when supported, default 2F 05 0F 46 1F 42 5C 33 A6 51 44. */
  slowPids?: readonly number[];
  /** [0...600000] ms, default 5000. */
  slowPeriodMs?: number;
  /** Displacement and volumetric efficiency for the speed-density fuel estimate. */
  engine?: EngineSettings;
  /** [1...20] timeouts in a row before the adapter counts as gone, default 3. */
  maxConsecutiveTimeouts?: number;
  /** Timeouts, protocol fallbacks, multi-PID and reply-count use. */
  session?: Partial<Omit<ObdSessionOptions, 'open' | 'log' | 'baudRates'>>;
  /** Trouble codes, voltage and ignition changes, told as they are read. */
  diagnostics?: ObdDiagnosticsOptions;
  /** The VIN read when the vehicle is found, told when it differs from the one before. */
  onVin?: (vin: VinReading | null) => void;
}

/** When the running engine's diagnostics were last read, and PID 01's MIL/count then. */
interface DiagnosticsDue {
  codesAt: number;
  voltageAt: number;
  monitor: string | undefined;
  /** The stored codes at the last read (a change reads the freeze frame). */
  storedKey: string | undefined;
  /** When the monitors were last read (the poll's start at first: counts start at 0). */
  monitorsAt: number;
  /** The watched OBDMIDs the ECU supports; null until discovered. */
  monitorIds: number[] | null;
}

/** Charging: the alternator runs, so the starter is done (diagnostics-watch's lowChargingV). */
const CHARGING_V = 13.2;

export interface ObdPollerStats {
  cycles: number;
  /** Cycles that also asked a remote stream's extra PIDs (commands/pid-stream.ts). */
  extraPidCycles: number;
  connects: number;
  disconnects: number;
  vehicleLost: number;
}

const emptyReadings = (): ObdReadings => ({
  coolantC: null,
  rpm: null,
  speedKmh: null,
  fuelLevelPct: null,
  odometerKm: null,
});

/** PID 01's MIL bit, when the value is a decoded status that has it. */
const milOf = (status: PidValue | undefined): boolean | null =>
  typeof status === 'object' && status !== null && typeof status.milOn === 'boolean' ? status.milOn : null;

export class ObdPoller {
  /** The telemetry sample's OBD fields (agent.ts joins them with each GPS fix). */
  readonly latest: ObdReadings = emptyReadings();
  state: ObdLinkState = 'connecting';
  /** Every PID read, by PID, from the engine ECU when several answer. */
  readonly readings = new Map<number, PidSample>();
  fuelRateSource: FuelRateSource | null = null;
  /** L/h from `fuelRateSource`, null until computable. */
  fuelRateLph: number | null = null;
  identity: AdapterIdentity | null = null;
  protocol: ObdProtocol | null = null;
  /** ATRV at each connection, refreshed while no vehicle answers. */
  voltage: number | null = null;
  vin: VinReading | null = null;
  supported: SupportMap = new Map();
  readonly stats: ObdPollerStats = {
    cycles: 0,
    extraPidCycles: 0,
    connects: 0,
    disconnects: 0,
    vehicleLost: 0,
  };

  private stopped = false;
  private session: ObdSession | undefined;
  private wake: (() => void) | undefined;
  // Remote diagnostics (edge-agent/src/commands): PIDs asked beside the schedule while a live
  // stream runs, listeners told each cycle's readings, and one-off requests (read or clear the
  // codes now) run between two cycles, so the adapter only ever has one request in flight.
  private readonly extraPids = new Set<number>();
  private readonly cycleListeners = new Set<(pids: readonly number[], now: number) => void>();
  private readonly exclusive: {
    run: (s: ObdSession) => Promise<unknown>;
    resolve: (v: unknown) => void;
    reject: (e: unknown) => void;
  }[] = [];
  private pollGroups: { fast: number[]; slow: readonly number[]; slowPeriodMs: number } | undefined;

  constructor(
    private readonly open: (baudRate: number) => Promise<ByteStream>,
    private readonly log: Logger,
    /** [0...60000] ms between poll cycles, default 0 (as fast as the adapter answers). */
    private cycleDelayMs = 0,
    /** [100...60000] ms before reconnecting after a failure or probing a silent vehicle, default 2000. */
    private readonly retryDelayMs = 2000,
    private readonly options: ObdPollerOptions = {},
  ) {}

  async run(): Promise<void> {
    while (!this.stopped) {
      let session: ObdSession | undefined;
      try {
        // While the port is missing the state stays 'disconnected'; 'connecting' means the port
        // opened and the adapter is being initialised.
        if (this.state !== 'disconnected') this.state = 'connecting';
        session = await ObdSession.open({
          ...this.options.session,
          open: this.open,
          log: this.log,
          baudRates: this.options.baudRates ?? [38_400],
        });
        this.session = session;
        this.state = 'connecting';
        this.identity = session.identity;
        this.voltage = await session.readVoltage();
        this.stats.connects++;
        if (!this.stopped) await this.serveVehicle(session);
      } catch (err) {
        if (this.stopped) break;
        this.state = 'disconnected';
        this.stats.disconnects++;
        this.forget();
        this.log.warn(
          { err: (err as Error).message, code: isAgentError(err) ? err.code : undefined },
          'OBD link down; retrying',
        );
      } finally {
        await session?.close();
        this.session = undefined;
      }
      if (!this.stopped) await this.sleep(this.retryDelayMs);
    }
  }

  /** How the current session forms its requests (null without an adapter). */
  get requestMode(): RequestMode | null {
    return this.session?.requestMode ?? null;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    this.failExclusive(new AgentError(AgentErrorCode.ObdNoVehicle, 'the agent is stopping'));
    await this.session?.close();
  }

  /** Poll pacing now (remote `setPollRates`); slowPeriodMs also applies to the running schedule. */
  setPollRates(rates: { cycleDelayMs?: number | undefined; slowPeriodMs?: number | undefined }) {
    if (rates.cycleDelayMs !== undefined) this.cycleDelayMs = rates.cycleDelayMs;
    if (rates.slowPeriodMs !== undefined) {
      this.options.slowPeriodMs = rates.slowPeriodMs;
      if (this.pollGroups) this.pollGroups.slowPeriodMs = rates.slowPeriodMs;
    }
    return this.pollRates;
  }

  /** Poll pacing now: the delay between cycles and the slow group's period, ms. */
  get pollRates(): { cycleDelayMs: number; slowPeriodMs: number } {
    return { cycleDelayMs: this.cycleDelayMs, slowPeriodMs: this.options.slowPeriodMs ?? 5000 };
  }

  /** The PIDs asked every cycle beside the schedule (a live stream's); empty: none. */
  setExtraPids(pids: Iterable<number>): void {
    this.extraPids.clear();
    for (const p of pids) this.extraPids.add(p);
  }

  /** Told after each cycle with the PIDs that cycle read; returns the unsubscribe. */
  onCycle(listener: (pids: readonly number[], now: number) => void): () => void {
    this.cycleListeners.add(listener);
    return () => this.cycleListeners.delete(listener);
  }

  /**
   * Runs `fn` on the session between two poll cycles (services 03/04 on request). While no
   * vehicle answers yet (the agent just started, the ignition is off) it waits up to `waitMs`
   * for one, then rejects with ObdNoVehicle.
   */
  withSession<T>(fn: (session: ObdSession) => Promise<T>, waitMs = 30_000): Promise<T> {
    if (this.stopped)
      return Promise.reject(new AgentError(AgentErrorCode.ObdNoVehicle, 'the agent is stopping'));
    return new Promise<T>((resolve, reject) => {
      const job = {
        run: fn,
        resolve: (v: unknown) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e: unknown) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        const i = this.exclusive.indexOf(job);
        if (i >= 0) this.exclusive.splice(i, 1);
        reject(
          new AgentError(
            AgentErrorCode.ObdNoVehicle,
            `no vehicle answered within ${Math.round(waitMs / 1000)} s (OBD link ${this.state})`,
          ),
        );
      }, waitMs);
      this.exclusive.push(job);
    });
  }

  private failExclusive(err: Error): void {
    for (const job of this.exclusive.splice(0)) job.reject(err);
  }

  private async runExclusive(session: ObdSession): Promise<void> {
    for (const job of this.exclusive.splice(0)) {
      try {
        job.resolve(await job.run(session));
      } catch (err) {
        job.reject(err);
      }
    }
  }

  /** Until the port fails: find the vehicle, poll it, wait while it is silent, find it again. */
  private async serveVehicle(session: ObdSession): Promise<void> {
    let firstAttempt = true;
    while (!this.stopped) {
      try {
        this.protocol = await session.connectVehicle({ fallbacks: firstAttempt });
        firstAttempt = false;
        const foundAt = Date.now();
        // First thing once the ECU answers (the key is on): the starter may be turning now.
        const crank = await this.sampleCrank(session);
        this.supported = await session.discoverSupportedPids();
        await session.detectRequestMode();
        await this.identifyVehicle(session);
        this.state = 'polling';
        this.tell({ kind: 'ignition', ts: foundAt, on: true });
        if (crank) this.tell(crank);
        this.log.info(
          { protocol: this.protocol.name, vin: this.vin?.vin, requestMode: session.requestMode },
          'vehicle found; polling',
        );
        await this.pollVehicle(session);
      } catch (err) {
        firstAttempt = false;
        if (!isVehicleSilent(err)) throw err;
        this.log.debug({ err: err.message }, 'vehicle silent');
      }
      if (this.stopped) return;
      if (this.state === 'polling') {
        this.stats.vehicleLost++;
        this.tell({ kind: 'ignition', ts: Date.now(), on: false });
      }
      this.state = 'no-vehicle';
      this.forget();
      this.voltage = await session.readVoltage();
      if (this.voltage !== null) {
        this.tell({ kind: 'voltage', ts: Date.now(), volts: this.voltage, engine: 'off' });
      }
      this.log.info({ voltage: this.voltage }, 'no vehicle answers (ignition off?); waiting');
      await this.sleep(this.retryDelayMs);
    }
  }

  /** Poll cycles until the vehicle goes silent (returns) or the adapter fails (throws). */
  private async pollVehicle(session: ObdSession): Promise<void> {
    const supported = session.supportedPids();
    this.fuelRateSource = selectFuelRateSource(supported);
    const fast = [...(this.options.fastPids ?? DEFAULT_FAST_PIDS)];
    if (this.fuelRateSource) fast.push(...FUEL_RATE_PIDS[this.fuelRateSource]);
    this.pollGroups = {
      fast,
      slow: this.options.slowPids ?? DEFAULT_SLOW_PIDS,
      slowPeriodMs: this.options.slowPeriodMs ?? 5000,
    };
    const scheduler = new PollScheduler(supported, this.pollGroups, session.requestMode.multiPid);
    const maxTimeouts = this.options.maxConsecutiveTimeouts ?? 3;
    let timeouts = 0;
    const due: DiagnosticsDue = {
      codesAt: Number.NEGATIVE_INFINITY,
      voltageAt: Number.NEGATIVE_INFINITY,
      monitor: undefined,
      storedKey: undefined,
      monitorsAt: Date.now(),
      monitorIds: null,
    };
    while (!this.stopped && !session.closed) {
      const now = Date.now();
      const scheduled = scheduler.due(now);
      const extra = [...this.extraPids].filter((p) => supported.has(p) && !scheduled.includes(p));
      const pids = [...scheduled, ...extra];
      if (pids.length === 0) {
        this.log.warn('the vehicle supports none of the PIDs to poll');
        await this.sleep(this.retryDelayMs);
        continue;
      }
      try {
        const readings = await session.readPids(pids);
        timeouts = 0;
        this.stats.cycles++;
        if (extra.length > 0) this.stats.extraPidCycles++;
        this.record(readings, now);
        scheduler.markRead(
          readings.map((r) => r.pid),
          now,
        );
        for (const listener of this.cycleListeners) listener(pids, now);
        await this.readDiagnostics(session, due, now);
        await this.runExclusive(session);
      } catch (err) {
        if (isAgentError(err, AgentErrorCode.ObdTimeout) && ++timeouts < maxTimeouts) continue;
        // Nobody waits forever for a request the next vehicle (or adapter) would never serve.
        this.failExclusive(err as Error);
        if (isVehicleSilent(err)) return;
        throw err;
      }
      if (this.cycleDelayMs > 0) await this.sleep(this.cycleDelayMs);
    }
    this.failExclusive(new AgentError(AgentErrorCode.ObdNoVehicle, 'the OBD session ended'));
  }

  /**
   * Between two poll cycles: the trouble codes when due or when PID 01's MIL or code count
   * changed, the voltage when due. A timeout here counts like one in a cycle (the caller's).
   */
  private async readDiagnostics(session: ObdSession, due: DiagnosticsDue, now: number): Promise<void> {
    const opts = this.options.diagnostics;
    if (!opts) return;
    const status = this.readings.get(0x01)?.value;
    const monitor =
      typeof status === 'object' ? `${String(status.milOn)}/${String(status.dtcCount)}` : undefined;
    const changed = monitor !== undefined && due.monitor !== undefined && monitor !== due.monitor;
    if (monitor !== undefined) due.monitor = monitor;
    if (changed || now - due.codesAt >= (opts.dtcPeriodMs ?? 300_000)) {
      due.codesAt = now;
      const stored = await session.readTroubleCodes('stored');
      const pending = await session.readTroubleCodes('pending');
      const milOn = milOf(status) ?? (await this.readMil(session));
      const storedKey = stored.codes
        .map((c) => c.code)
        .sort()
        .join(',');
      let freezeFrame: FreezeFrame | null | undefined;
      if (storedKey !== due.storedKey) {
        due.storedKey = storedKey;
        if (stored.codes.length > 0)
          freezeFrame = await this.healthRead('freeze frame', () => readFreezeFrame(session));
      }
      const distances = await this.readDistances(session);
      this.tell({
        kind: 'codes',
        ts: Date.now(),
        stored: stored.codes,
        pending: pending.codes,
        milOn,
        ...(freezeFrame !== undefined ? { freezeFrame } : {}),
        ...(distances ? { distances } : {}),
      });
    }
    if (now - due.monitorsAt >= (opts.monitorPeriodMs ?? 600_000)) {
      due.monitorsAt = now;
      due.monitorIds ??=
        (await this.healthRead('monitor support', async () =>
          (await discoverMonitorIds(session)).filter(isWatchedMonitor),
        )) ?? [];
      if (due.monitorIds.length > 0) {
        const ids = due.monitorIds;
        const tests = await this.healthRead('monitor results', () => readMonitorResults(session, ids));
        if (tests && tests.length > 0) this.tell({ kind: 'monitors', ts: Date.now(), tests });
      }
    }
    if (now - due.voltageAt >= (opts.voltagePeriodMs ?? 60_000)) {
      due.voltageAt = now;
      this.voltage = await session.readVoltage();
      if (this.voltage !== null) {
        this.tell({ kind: 'voltage', ts: Date.now(), volts: this.voltage, engine: 'running' });
      }
    }
  }

  /**
   * The MIL from PID 01 read now, when the cycle has none to give (its reply was lost, or the
   * codes are read before PID 01 came back): codes reported with the MIL unknown tell a manager
   * less than the vehicle knows. Null when the vehicle does not list PID 01.
   */
  private async readMil(session: ObdSession): Promise<boolean | null> {
    if (!session.supportedPids().has(0x01)) return null;
    const readings = await session.readPids([0x01]);
    return milOf(readings.find((r) => r.pid === 0x01)?.value);
  }

  /** PIDs 21 and 31 with the codes, when the vehicle lists them (null: neither). */
  private async readDistances(
    session: ObdSession,
  ): Promise<{ milOnKm: number | null; sinceClearKm: number | null } | null> {
    const supported = session.supportedPids();
    const pids = [0x21, 0x31].filter((p) => supported.has(p));
    if (pids.length === 0) return null;
    const readings = await session.readPids(pids);
    const km = (pid: number) => {
      const v = readings.find((r) => r.pid === pid)?.value;
      return typeof v === 'number' ? v : null;
    };
    return { milOnKm: km(0x21), sinceClearKm: km(0x31) };
  }

  /**
   * ATRV back to back from the moment the ECU answers. An ELM327 samples the socket voltage when
   * it gets ATRV (data sheet: "RV - read the input voltage", ~0.1 V resolution after ATCV
   * calibration); one read costs a serial round trip, 15-40 ms at 38,400 baud on a real chip, so
   * this takes 25-60 reads a second and sees a 0.5-2 s crank to within a few tenths of a volt,
   * if the crank comes after the agent saw the key on. It sees the key only when the ECU answers
   * its probe (every retryDelayMs while silent), so a driver who cranks at once can be past the
   * dip: `late` says so (first read already charging) and the start's figure is then coarse.
   */
  private async sampleCrank(session: ObdSession): Promise<DiagnosticReading | null> {
    const windowMs = this.options.diagnostics?.crankWindowMs ?? 3000;
    if (!this.options.diagnostics || windowMs <= 0) return null;
    const ts = Date.now();
    const reads: number[] = [];
    while (!this.stopped && Date.now() - ts < windowMs) {
      const v = await session.readVoltage();
      if (v === null) break;
      reads.push(v);
      const min = Math.min(...reads);
      // Charging after a dip (or from the first read): the start is over.
      if (v >= CHARGING_V && (reads.length === 1 || min < reads[0]! - 0.5)) break;
    }
    if (reads.length === 0) return null;
    return {
      kind: 'crank',
      ts,
      samples: reads.length,
      firstV: reads[0]!,
      minV: Math.min(...reads),
      lastV: reads.at(-1)!,
      late: reads[0]! >= CHARGING_V,
    };
  }

  /**
   * A freeze frame or monitor read the vehicle answers oddly is logged and skipped (null): the
   * codes and the polling matter more. Adapter and timeout failures go to the caller's handling.
   */
  private async healthRead<T>(what: string, read: () => Promise<T>): Promise<T | null> {
    try {
      return await read();
    } catch (err) {
      if (
        isAgentError(err, AgentErrorCode.HealthBadFreezeFrame) ||
        isAgentError(err, AgentErrorCode.HealthBadMonitorRecord) ||
        isAgentError(err, AgentErrorCode.ObdBadFrame)
      ) {
        this.log.warn({ err: err.message, code: err.code }, `${what} not read`);
        return null;
      }
      throw err;
    }
  }

  /**
   * Service 09 PID 02 each time the vehicle is found, not once per run: an adapter moved to another
   * vehicle between two drives must report that vehicle's VIN (the cloud flags a mismatch with the
   * register). A vehicle without 09 02 answers NO DATA at once, so this costs one request.
   */
  private async identifyVehicle(session: ObdSession): Promise<void> {
    const vin = await session.readVin().catch((err: unknown) => {
      this.log.debug({ err: (err as Error).message }, 'VIN not read');
      return null;
    });
    if (vin?.vin === this.vin?.vin) return;
    this.vin = vin;
    if (vin && !vin.valid)
      this.log.warn({ vin: vin.vin, problems: vin.problems }, 'the vehicle reports an invalid VIN');
    try {
      this.options.onVin?.(vin);
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'VIN listener failed');
    }
  }

  /** A listener's failure is its own: it must never stop the polling. */
  private tell(reading: DiagnosticReading): void {
    const onReading = this.options.diagnostics?.onReading;
    if (!onReading) return;
    try {
      onReading(reading);
    } catch (err) {
      this.log.error({ err: (err as Error).message, reading: reading.kind }, 'diagnostics listener failed');
    }
  }

  /**
   * A PID missing from one cycle's answer keeps its last value (a dropped frame is not a zero);
   * everything is forgotten when the vehicle or the adapter goes away.
   */
  private record(readings: readonly { pid: number; ecu: string; value: PidValue }[], now: number): void {
    // Several ECUs may answer the same PID (engine and transmission both report speed): the
    // lowest address is the engine ECU (7E8 on CAN, 10 on J1850/ISO).
    const chosen = new Map<number, { ecu: string; value: PidValue }>();
    for (const r of readings) {
      const prior = chosen.get(r.pid);
      if (!prior || r.ecu < prior.ecu) chosen.set(r.pid, r);
    }
    for (const [pid, r] of chosen) this.readings.set(pid, { value: r.value, ecu: r.ecu, ts: now });
    for (const name of Object.keys(PIDS) as ObdReadingName[]) {
      const value = chosen.get(PIDS[name].pid)?.value;
      if (typeof value === 'number') this.latest[name] = value;
    }
    if (this.fuelRateSource) {
      const num = (pid: number): number | null => {
        const v = this.readings.get(pid)?.value;
        return typeof v === 'number' ? v : null;
      };
      const fuelType = this.readings.get(0x51)?.value;
      this.fuelRateLph = computeFuelRateLph(
        this.fuelRateSource,
        {
          fuelRateLph: num(0x5e),
          mafGs: num(0x10),
          mapKpa: num(0x0b),
          iatC: num(0x0f),
          rpm: num(0x0c),
          lambda: num(0x44),
          fuelType: typeof fuelType === 'object' && typeof fuelType.code === 'number' ? fuelType.code : null,
        },
        this.options.engine ?? DEFAULT_ENGINE,
      );
    }
  }

  /** Readings of a vehicle that no longer answers are not current: drop them. */
  private forget(): void {
    Object.assign(this.latest, emptyReadings());
    this.readings.clear();
    this.fuelRateLph = null;
  }

  /** A sleep that stop() cuts short. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }
}
