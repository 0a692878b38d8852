/**
 *   Elm327Connection (adapter ready)
 *        |
 *        v
 *   ObdSession.connectVehicle(): ATSP0 + 0100 (SEARCHING...), fallbacks, ATDPN -> protocol
 *        |
 *        v
 *   request(cmd) --adapter.send--> lines --assembleMessages--> ECU messages --> services/*
 *                                                                 (01 data, 03/07/0A/04 DTCs, 09 VIN)
 *
 * One session per opened port. It knows the protocol (how to read the frames), each ECU's
 * supported PIDs (what to ask, how many replies to expect) and the request mode the adapter
 * takes (several PIDs per request, the reply-count digit: services/request-mode.ts), found at
 * connect and corrected on the first refusal.
 */
import type { Logger } from '@fleet/shared/log';
import {
  AgentError,
  AgentErrorCode,
  isAgentError,
  isObdError,
  isTransientObdError,
  isVehicleSilent,
} from '../errors.ts';
import { Elm327Connection, type Elm327ConnectionOptions } from './elm327/connection.ts';
import {
  isCan,
  type ObdProtocol,
  parseDescribeProtocolNumber,
  protocolByNumber,
} from './elm327/protocols.ts';
import {
  type AssemblyStats,
  assembleMessages,
  type EcuMessage,
  newAssemblyStats,
} from './frames/assembler.ts';
import {
  batchPids,
  decodePid,
  expectedReplies,
  mode01Command,
  type PidReading,
  type SupportMap,
  splitMode01,
} from './services/current-data.ts';
import { clearTroubleCodes, type DtcKind, type DtcReadResult, readTroubleCodes } from './services/dtc.ts';
import { hex2, type ObdRequester, type ObdRequestOptions, replyCountSuffix } from './services/request.ts';
import {
  assumedRequestMode,
  isRefusal,
  probePids,
  type RequestMode,
  type RequestModeContext,
  type RequestModeSetting,
  refusalText,
  unansweredPids,
} from './services/request-mode.ts';
import { allSupported, discoverSupportedPids } from './services/supported-pids.ts';
import { readCalibrationIds, readVin, type VinReading } from './services/vehicle-info.ts';

export interface ObdSessionOptions extends Elm327ConnectionOptions {
  /**
   * Protocols tried one by one when the automatic search finds nothing (some ISO 9141 cars miss
   * the chip's search timing). Default: the CAN ones first (every car since 2008), then the rest.
   */
  protocolFallbacks?: readonly number[];
  /** [1000...60000] ms for the first request while the protocol search runs, default 15000. */
  searchTimeoutMs?: number;
  /** [50...60000] ms per data request, default 2000. */
  requestTimeoutMs?: number;
  /**
   * Reply-count digit: 'auto' (when the chip is v1.3+, dropped if the adapter answers `?` to it),
   * 'on', 'off'. Default 'auto'.
   */
  replyCount?: RequestModeSetting;
  /**
   * Up to six PIDs per request on CAN: 'auto' (dropped if the adapter refuses them or answers
   * only the first), 'on', 'off'. Default 'auto'.
   */
  multiPid?: RequestModeSetting;
}

export const DEFAULT_PROTOCOL_FALLBACKS: readonly number[] = [6, 8, 7, 9, 3, 4, 5, 1, 2];
/** ATRV below this: the adapter is powered from USB or a bench supply, not a vehicle. */
export const NO_VEHICLE_VOLTAGE = 6;

export interface SessionStats {
  frames: AssemblyStats;
  /** ECU messages of another service than asked (stray, not handed on). */
  foreignMessages: number;
  negativeResponses: number;
  /** Times the adapter refused a request form and the session fell back to a slower one. */
  requestModeFallbacks: number;
}

export class ObdSession implements ObdRequester {
  protocol: ObdProtocol | null = null;
  /** Whether the chip chose the protocol itself (ATSP0) rather than a fallback. */
  protocolAuto = true;
  support: SupportMap = new Map();
  readonly stats: SessionStats = {
    frames: newAssemblyStats(),
    foreignMessages: 0,
    negativeResponses: 0,
    requestModeFallbacks: 0,
  };
  private readonly log: Logger;
  /** What the adapter showed it takes; null: nothing learned yet for this vehicle connection. */
  private learnedMode: RequestMode | null = null;
  /** While detectRequestMode asks: a refusal is then the answer sought, not news for the log. */
  private probing = false;

  private constructor(
    readonly connection: Elm327Connection,
    private readonly options: ObdSessionOptions,
  ) {
    this.log = options.log;
  }

  static async open(options: ObdSessionOptions): Promise<ObdSession> {
    return new ObdSession(await Elm327Connection.open(options), options);
  }

  get identity() {
    return this.connection.identity;
  }

  get adapter() {
    return this.connection.adapter;
  }

  get closed(): boolean {
    return this.connection.adapter.closed;
  }

  /** How service 01 requests are formed: what was learned, else what settings and chip allow. */
  get requestMode(): RequestMode {
    return this.learnedMode ?? assumedRequestMode(this.modeContext());
  }

  private modeContext(): RequestModeContext {
    return {
      can: this.protocol !== null && isCan(this.protocol),
      chipReplyCount: this.identity.replyCount,
      multiPid: this.options.multiPid ?? 'auto',
      replyCount: this.options.replyCount ?? 'auto',
    };
  }

  readVoltage(): Promise<number | null> {
    return this.connection.readVoltage();
  }

  close(): Promise<void> {
    return this.connection.close();
  }

  /**
   * Sends one OBD request and returns each ECU's positive answer to it. `7F sid 78` (response
   * pending) is skipped; if every ECU refused, ObdNegativeResponse; an answer with no usable frame
   * at all, ObdBadFrame.
   */
  async request(command: string, options: ObdRequestOptions = {}): Promise<EcuMessage[]> {
    const { expectedReplies: replies, ...sendOptions } = options;
    const lines = await this.adapter.send(`${command}${replyCountSuffix(replies)}`, {
      timeoutMs: this.options.requestTimeoutMs ?? 2000,
      ...sendOptions,
    });
    const messages = assembleMessages(
      lines,
      { format: this.protocol?.format ?? 'auto', headers: true },
      this.stats.frames,
    );
    const service = Number.parseInt(command.slice(0, 2), 16);
    const positive: EcuMessage[] = [];
    const refusals: EcuMessage[] = [];
    for (const m of messages) {
      if (m.data[0] === 0x7f) {
        // ISO 14229 NRC 78: "response pending", the real answer follows.
        if (m.data[2] !== 0x78) refusals.push(m);
      } else if (m.data[0] === service + 0x40) positive.push(m);
      else this.stats.foreignMessages++;
    }
    if (positive.length > 0) return positive;
    if (refusals.length > 0) {
      this.stats.negativeResponses++;
      const r = refusals[0]!;
      throw new AgentError(
        AgentErrorCode.ObdNegativeResponse,
        `${command}: ECU ${r.ecu || '?'} refused (negative response code ${hex2(r.data[2] ?? 0)}${NRC_NAMES[r.data[2] ?? 0] ? `: ${NRC_NAMES[r.data[2] ?? 0]}` : ''})`,
      );
    }
    throw new AgentError(
      AgentErrorCode.ObdBadFrame,
      `${command}: no usable frame in the answer (${lines.join(' | ')})`,
    );
  }

  /**
   * Finds the vehicle: ATSP0 and 0100 (the chip prints SEARCHING... while it tries each
   * protocol), then the fallbacks one by one, then ATDPN. Throws ObdNoVehicle when nothing
   * answers while the adapter does (ignition off, engine stopped, not plugged in).
   */
  async connectVehicle(options: { fallbacks?: boolean } = {}): Promise<ObdProtocol> {
    const searchTimeoutMs = this.options.searchTimeoutMs ?? 15_000;
    await this.adapter.send('ATSP0');
    this.protocol = null;
    this.learnedMode = null;
    let fixed: number | null = null;
    try {
      await this.request('0100', { timeoutMs: searchTimeoutMs });
    } catch (err) {
      if (
        !isVehicleSilent(err) &&
        !isTransientObdError(err) &&
        !isAgentError(err, AgentErrorCode.ObdBadFrame)
      )
        throw err;
      const voltage = await this.readVoltage();
      const onVehicle = voltage === null || voltage >= NO_VEHICLE_VOLTAGE;
      if (options.fallbacks !== false && onVehicle) fixed = await this.tryFallbacks();
      if (fixed === null) {
        await this.adapter.send('ATSP0').catch(() => {});
        throw noVehicle(voltage, err);
      }
    }
    const [dpn = ''] = await this.adapter.send('ATDPN');
    const described = parseDescribeProtocolNumber(dpn);
    this.protocol = described?.protocol ?? (fixed !== null ? (protocolByNumber(fixed) ?? null) : null);
    this.protocolAuto = fixed === null && (described?.auto ?? true);
    if (!this.protocol)
      throw new AgentError(AgentErrorCode.ObdUnexpectedAnswer, `ATDPN: unexpected answer "${dpn}"`);
    this.log.info({ protocol: this.protocol.name, auto: this.protocolAuto }, 'vehicle protocol found');
    return this.protocol;
  }

  private async tryFallbacks(): Promise<number | null> {
    for (const number of this.options.protocolFallbacks ?? DEFAULT_PROTOCOL_FALLBACKS) {
      try {
        await this.adapter.send(`ATSP${number.toString(16).toUpperCase()}`);
        await this.request('0100', { timeoutMs: 5000, retries: 0 });
        this.log.info({ protocol: number }, 'vehicle answers on a fallback protocol');
        return number;
      } catch (err) {
        if (!isObdError(err) || err.code === AgentErrorCode.ObdTimeout) throw err;
        this.log.debug({ protocol: number, err: err.message }, 'fallback protocol failed');
      }
    }
    return null;
  }

  /** Support bitmaps per ECU (0100, 0120, ... while announced); kept for later requests. */
  async discoverSupportedPids(): Promise<SupportMap> {
    this.support = await discoverSupportedPids(this, this.options.requestTimeoutMs ?? 2000);
    return this.support;
  }

  /** Every data PID some ECU supports. */
  supportedPids(): Set<number> {
    return allSupported(this.support);
  }

  /**
   * Finds the request mode the adapter takes (call after discoverSupportedPids): one PID the ECU
   * announced with the reply-count digit, then two in one request, through readPids, whose
   * fallbacks record what the adapter refused. When even the probe's PIDs go unanswered (the
   * vehicle fell silent, or an ECU announces PIDs it never answers) the assumed mode stays and
   * readPids corrects it on the first refusal.
   */
  async detectRequestMode(): Promise<RequestMode> {
    this.learnedMode = null;
    const context = this.modeContext();
    const pids = probePids(this.support);
    if (context.can && pids.length > 0) {
      this.probing = true;
      try {
        await this.probeRequestMode(context, pids);
      } catch (err) {
        if (!isVehicleSilent(err)) throw err;
        this.log.debug({ err: err.message }, 'request-mode probe unanswered; mode assumed');
      } finally {
        this.probing = false;
      }
    }
    const mode = this.requestMode;
    this.log.info({ ...mode }, 'adapter request mode');
    return mode;
  }

  private async probeRequestMode(context: RequestModeContext, pids: number[]): Promise<void> {
    if (context.replyCount === 'auto' && this.requestMode.replyCount) {
      const line = this.requestLine(pids.slice(0, 1));
      await this.readPids(pids.slice(0, 1));
      if (this.requestMode.replyCount) this.learn({ replyCountEvidence: `${line}: answered` });
    }
    if (context.multiPid === 'auto' && pids.length >= 2) {
      const line = this.requestLine(pids);
      const readings = await this.readPids(pids);
      const answered = pids.filter((p) => readings.some((r) => r.pid === p)).map(hex2);
      if (this.requestMode.multiPid)
        this.learn({ multiPidEvidence: `${line}: answered ${answered.join(' ')}` });
    }
  }

  /**
   * Reads PIDs: up to six per request on CAN (one elsewhere, or when the adapter refuses more),
   * each answer split by the PIDs' lengths whatever their order, one reading per PID and ECU.
   * PIDs no ECU answers are missing from the result; if no request got any answer at all,
   * NO DATA is thrown (vehicle silent).
   */
  async readPids(pids: readonly number[]): Promise<PidReading[]> {
    const readings: PidReading[] = [];
    let answered = 0;
    let lastError: unknown;
    for (const batch of batchPids(pids, this.requestMode.multiPid)) {
      let messages: EcuMessage[];
      try {
        messages = await this.requestPids(batch);
      } catch (err) {
        if (!isObdError(err) || err.code === AgentErrorCode.ObdTimeout) throw err;
        if (batch.length > 1 && isRefusal(err) && this.adaptive('multiPid')) {
          const singles = await this.readSingly(batch);
          if (singles.length > 0) {
            this.fallBack({
              multiPid: false,
              multiPidEvidence: `${this.requestLine(batch)}: ${refusalText(err)}; one PID answered`,
            });
            answered++;
            readings.push(...singles);
            continue;
          }
        }
        lastError = err;
        continue;
      }
      answered++;
      readings.push(...this.decodeAnswer(messages));
      const missing = batch.length > 1 ? unansweredPids(batch, messages, this.support) : [];
      if (missing.length > 0 && this.adaptive('multiPid')) {
        // A PID the ECU announced is missing: a first-PID-only clone if it answers alone.
        const singles = await this.readSingly(missing);
        if (singles.length > 0) {
          const got = batch.filter((p) => !missing.includes(p)).map(hex2);
          this.fallBack({
            multiPid: false,
            multiPidEvidence: `${this.requestLine(batch)}: answered ${got.join(' ')} only; one PID answered`,
          });
          readings.push(...singles);
        }
      }
    }
    if (answered === 0 && lastError) throw lastError;
    return readings;
  }

  /** One service 01 request; `?` to the reply-count digit is confirmed on the plain line. */
  private async requestPids(batch: readonly number[]): Promise<EcuMessage[]> {
    const command = mode01Command(batch);
    const replies = this.requestMode.replyCount ? expectedReplies(batch, this.support) : null;
    try {
      return await this.request(command, { expectedReplies: replies });
    } catch (err) {
      if (
        replies === null ||
        !this.adaptive('replyCount') ||
        !isAgentError(err, AgentErrorCode.ObdUnknownCommand)
      )
        throw err;
      const messages = await this.request(command);
      this.fallBack({
        replyCount: false,
        replyCountEvidence: `${command}${replyCountSuffix(replies)}: ?; ${command}: answered`,
      });
      return messages;
    }
  }

  /**
   * The PIDs one per request, after a refusal of several. When the first is not answered either,
   * the vehicle (not the adapter) is silent: the rest are not asked, each would cost a timeout.
   */
  private async readSingly(pids: readonly number[]): Promise<PidReading[]> {
    const readings: PidReading[] = [];
    for (const pid of pids) {
      try {
        readings.push(...this.decodeAnswer(await this.requestPids([pid])));
      } catch (err) {
        if (!isObdError(err) || err.code === AgentErrorCode.ObdTimeout) throw err;
        if (readings.length === 0) break;
      }
    }
    return readings;
  }

  private decodeAnswer(messages: readonly EcuMessage[]): PidReading[] {
    const readings: PidReading[] = [];
    for (const { ecu, data } of messages) {
      const split = splitMode01(data);
      if (split.error) {
        this.stats.frames.badFrames++;
        this.log.debug({ ecu, error: split.error }, 'multi-PID answer cut short');
      }
      for (const [pid, bytes] of split.values)
        readings.push({ pid, ecu, data: bytes, value: decodePid(pid, bytes) });
    }
    return readings;
  }

  /** The line that goes out for `batch` in the current mode (for logs and evidence). */
  private requestLine(batch: readonly number[]): string {
    const replies = this.requestMode.replyCount ? expectedReplies(batch, this.support) : null;
    return `${mode01Command(batch)}${replyCountSuffix(replies)}`;
  }

  private adaptive(setting: 'multiPid' | 'replyCount'): boolean {
    return (this.options[setting] ?? 'auto') === 'auto';
  }

  private learn(change: Partial<RequestMode>): void {
    this.learnedMode = { ...this.requestMode, ...change };
  }

  /** The adapter refused a request form: the slower one for the rest of this vehicle connection. */
  private fallBack(change: Partial<RequestMode>): void {
    this.learn(change);
    this.stats.requestModeFallbacks++;
    const level = this.probing ? 'info' : 'warn';
    this.log[level]({ ...change }, 'the adapter refuses a request form; falling back for this session');
  }

  readTroubleCodes(kind: DtcKind): Promise<DtcReadResult> {
    return readTroubleCodes(this, kind, this.protocol === null || isCan(this.protocol));
  }

  clearTroubleCodes(confirmed: boolean): Promise<string[]> {
    return clearTroubleCodes(this, confirmed);
  }

  readVin(): Promise<VinReading | null> {
    return readVin(this);
  }

  readCalibrationIds(): Promise<{ ecu: string; ids: string[] }[]> {
    return readCalibrationIds(this);
  }
}

/** ISO 14229-1 negative response codes an OBD ECU uses. */
const NRC_NAMES: Readonly<Record<number, string>> = {
  16: 'general reject',
  17: 'service not supported',
  18: 'sub-function not supported',
  19: 'incorrect message length',
  33: 'busy, repeat request',
  34: 'conditions not correct',
  49: 'request out of range',
};

function noVehicle(voltage: number | null, cause: unknown): AgentError {
  const supply = voltage === null ? 'supply voltage unknown' : `adapter supply ${voltage.toFixed(1)} V`;
  const message =
    voltage !== null && voltage < NO_VEHICLE_VOLTAGE
      ? `no vehicle: the adapter reads ${voltage.toFixed(1)} V, below ${NO_VEHICLE_VOLTAGE} V (is it plugged into the OBD socket?)`
      : `no vehicle answers on any protocol: ignition off or engine not running? (${supply})`;
  return new AgentError(AgentErrorCode.ObdNoVehicle, message, { cause });
}
