import { createLogger, type Logger } from '@fleet/shared/log';
import type { DiagnosticMemory } from '../vehicle/diagnostics.ts';
import type { OnBoardMonitors } from '../vehicle/monitors.ts';
import { Random } from '../vehicle/random.ts';
import {
  ADAPTER_PROFILE_BEHAVIOUR,
  type AdapterProfile,
  type AdapterProfileName,
} from './adapter-profiles.ts';
import { formatCanResponse } from './can-format.ts';
import { EngineEcu, type VehicleStateSource } from './ecu.ts';
import { type ElmErrorAnswer, FaultPlan, type FaultRates, REPLACING_ANSWERS } from './faults.ts';
import { formatKlineResponse } from './kline-format.ts';
import {
  busInitMs,
  familyOf,
  PROTOCOL_NAMES,
  PROTOCOLS,
  type ProtocolSpec,
  type VehicleProtocol,
} from './protocols.ts';

/**
 *   receive(bytes) --> line discipline --> AT / ST command ------------------> reply lines
 *                      (\r ends a line,    OBD request --> faults? --> EngineEcu.respondOn
 *                       bare \r repeats)     (protocol search / bus init)  --> CAN or K-line
 *                                                                              formatting
 *   write(bytes) <-- echo, reply lines, "\r" (+"\n" with ATL1) after each, then "\r>" <--+
 *
 * Byte-level ELM327 v1.5 behaviour (ELM327 data sheet, "Communicating with the ELM327" and
 * "AT Commands"): case-insensitive commands, spaces and control characters ignored, every
 * answer closed by an empty line and the `>` prompt, echo on after reset. The vehicle behind it
 * speaks one protocol: ISO 15765-4 CAN 11/500 (6, the default), ISO 9141-2 (3) or ISO 14230-4
 * KWP (4/5). An STN11xx identity (OBDLink) answers the ST commands too and is ~10x quicker.
 *
 * Clone firmware that refuses multi-PID requests or the reply-count digit: `profile` (see
 * adapter-profiles.ts).
 *
 * Test and scenario hooks: `injectAnswer()` (scripted error answers), `faults` (seeded error
 * rates), `powerGlitch()` (garbage bytes, then the start-up banner), `unplug()` / `plugIn()`.
 */
export interface Elm327Options {
  vehicle: VehicleStateSource;
  /** 17-character VIN the ECU answers to 09 02. */
  vin: string;
  /** Sink for every byte the chip sends (echo, replies, prompt). */
  write: (bytes: Uint8Array) => void;
  /** Service 01 PIDs the ECU answers; default: all implemented. */
  pids?: readonly number[];
  /** Stored DTCs answered to service 03; default: none. Ignored when `diagnostics` is given. */
  dtcs?: readonly string[];
  /** The ECU's fault memory, shared with a scenario that sets codes while running. */
  diagnostics?: DiagnosticMemory;
  /** Service 06 test results (vehicle/monitors.ts); default: a healthy engine's. */
  monitors?: OnBoardMonitors;
  /** Default: can (ISO 15765-4 CAN 11/500). */
  protocol?: VehicleProtocol;
  /** Default: elm327 (an ELM327 v1.5 clone). stn: OBDLink (STN1110) identity and speed. */
  adapter?: AdapterKind;
  /** Default: standard. How the firmware treats multi-PID requests and the reply-count digit. */
  profile?: AdapterProfileName;
  /**
   * [0...5000], default: 30 ms (elm327), 3 ms (stn). Adapter + ECU turnaround per command;
   * 0 answers synchronously (no time simulated at all, K-line bus time and init included).
   */
  latencyMs?: number;
  /** [0...5000], default: 500 ms (elm327), 200 ms (stn). ATZ takes about 0.5-1 s on a real chip. */
  resetDelayMs?: number;
  /** [0...10000], default: 300 ms. Extra time of the first request while the protocol is searched. */
  searchDelayMs?: number;
  /** K-line initialisation time, ms; default: 2600 (5-baud init, 3 and 4), 350 (fast init, 5). */
  busInitMs?: number;
  /**
   * Host line rate in baud (8N1): replies take 10 bits a character on the wire. Default: none
   * (a pty or TCP carries them at once). 38400 is the ELM327's factory rate.
   */
  baudRate?: number;
  /** Seeded probability of each error answer per OBD request; default: none. */
  faults?: FaultRates;
  logger?: Logger;
}

export type AdapterKind = 'elm327' | 'stn';
export const ADAPTER_KINDS: readonly AdapterKind[] = ['elm327', 'stn'];

export interface ElmSettings {
  echo: boolean;
  linefeeds: boolean;
  spaces: boolean;
  headers: boolean;
  /** ATAT0/1/2: adaptive timing; 1 after reset. */
  adaptiveTiming: 0 | 1 | 2;
  /** ATST hh: response timeout in units of 4.096 ms; 0x32 (~205 ms) after reset. */
  timeout: number;
  /** ATCAF0/1: CAN auto formatting; on after reset. */
  canAutoFormat: boolean;
  /** ATR0/1: wait for responses; on after reset. */
  responses: boolean;
}

const DEFAULT_SETTINGS: ElmSettings = {
  echo: true,
  linefeeds: false,
  spaces: true,
  headers: false,
  adaptiveTiming: 1,
  timeout: 0x32,
  canAutoFormat: true,
  responses: true,
};

export const ELM_ID = 'ELM327 v1.5';
const DEVICE_DESCRIPTION = 'OBDII to RS232 Interpreter';

/** What an STN11xx (OBDLink SX) says about itself: ATI stays ELM-compatible. */
export const STN_IDENTITY = {
  elmId: 'ELM327 v1.4b',
  stiId: 'STN1110 v4.0.1',
  deviceId: 'OBDLink SX r4.2',
} as const;

const ADAPTERS: Record<AdapterKind, { id: string; latencyMs: number; resetDelayMs: number }> = {
  elm327: { id: ELM_ID, latencyMs: 30, resetDelayMs: 500 },
  // STN chips answer in ~1/10 of an ELM327 clone's time.
  stn: { id: STN_IDENTITY.elmId, latencyMs: 3, resetDelayMs: 200 },
};

const MAX_LINE = 100;

/** What a fixed protocol other than the vehicle's reports when nothing answers on it. */
function wrongProtocolError(protocol: number): string {
  const family = familyOf(protocol);
  if (family === 'j1850') return 'NO DATA';
  if (family === 'kline') return 'BUS INIT: ...ERROR';
  return 'CAN ERROR';
}

interface Reply {
  lines: string[];
  delayMs: number;
}

interface Busy {
  /** OBD requests can be interrupted by any received character (prints STOPPED). */
  interruptible: boolean;
  timer: NodeJS.Timeout | null;
}

export class Elm327Emulator {
  readonly ecu: EngineEcu;
  readonly vehicleProtocol: ProtocolSpec;
  readonly adapter: AdapterKind;
  readonly profile: AdapterProfileName;

  private settings: ElmSettings = { ...DEFAULT_SETTINGS };
  /** ATSP stores the protocol (the chip keeps it in EEPROM, so it survives ATZ). */
  private protocol = { auto: true, number: 0 };
  /** Whether a search or bus init has reached the vehicle since the last reset / ATSP / ATPC. */
  private connected = false;
  private lineBuffer = '';
  private lineOverflow = false;
  private readonly queue: { raw: string; overflow: boolean }[] = [];
  private busy: Busy | null = null;
  private lastCommand = '';
  private closed = false;
  private isPlugged = true;
  private readonly faults: FaultPlan;
  private readonly glitchRng: Random;

  private readonly latencyMs: number;
  private readonly resetDelayMs: number;
  private readonly searchDelayMs: number;
  private readonly log: Logger;

  constructor(private readonly options: Elm327Options) {
    this.ecu = new EngineEcu(options.vehicle, {
      vin: options.vin,
      ...(options.pids ? { pids: options.pids } : {}),
      ...(options.dtcs ? { dtcs: options.dtcs } : {}),
      ...(options.diagnostics ? { diagnostics: options.diagnostics } : {}),
      ...(options.monitors ? { monitors: options.monitors } : {}),
    });
    this.vehicleProtocol = PROTOCOLS[options.protocol ?? 'can'];
    this.adapter = options.adapter ?? 'elm327';
    this.profile = options.profile ?? 'standard';
    const identity = ADAPTERS[this.adapter];
    this.latencyMs = options.latencyMs ?? identity.latencyMs;
    this.resetDelayMs = options.resetDelayMs ?? identity.resetDelayMs;
    this.searchDelayMs = options.searchDelayMs ?? 300;
    this.faults = new FaultPlan(options.faults);
    this.glitchRng = Random.fork(options.faults?.seed ?? 0, 'elm-glitch');
    this.log = options.logger ?? createLogger('elm327');
  }

  get currentSettings(): Readonly<ElmSettings> {
    return { ...this.settings };
  }

  /** The adapter's power: false between `unplug()` and `plugIn()`. */
  get plugged(): boolean {
    return this.isPlugged;
  }

  /** Bytes from the host (the edge agent). */
  receive(bytes: Uint8Array | string): void {
    if (this.closed || !this.isPlugged) return;
    const text = typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('latin1');
    let interruptPending = this.busy?.interruptible === true;
    for (const ch of text) {
      const code = ch.charCodeAt(0);
      // Only printable ASCII and CR matter; NUL, LF, tabs and line-noise bytes are ignored.
      if (code !== 0x0d && (code < 0x20 || code > 0x7e)) continue;
      if (interruptPending) {
        // A character received while the chip waits for the vehicle stops the request; that
        // character is consumed by the interruption (data sheet: "STOPPED").
        interruptPending = false;
        this.interrupt();
        continue;
      }
      if (code === 0x0d) {
        this.queue.push({ raw: this.lineBuffer, overflow: this.lineOverflow });
        this.lineBuffer = '';
        this.lineOverflow = false;
      } else if (this.lineBuffer.length >= MAX_LINE) {
        this.lineOverflow = true;
      } else {
        this.lineBuffer += ch;
      }
    }
    // Lines completed in one chunk are queued first, so a CR LF pair or pipelined commands
    // written at once do not interrupt each other.
    this.pump();
  }

  /** Stop all timers; later input is ignored. */
  close(): void {
    this.closed = true;
    this.abort();
  }

  /** The next `count` OBD requests answer `answer` (see ELM_ERROR_ANSWERS for how each looks). */
  injectAnswer(answer: ElmErrorAnswer, count = 1): void {
    this.faults.inject(answer, count);
  }

  /**
   * A supply dip resets the chip mid-sentence: a few garbage bytes (a UART sampling a dying
   * line), then the start-up banner, settings back to defaults (echo on, headers off) and the
   * protocol search to redo. What was being answered is lost.
   */
  powerGlitch(garbage?: Uint8Array): void {
    if (this.closed || !this.isPlugged) return;
    this.abort();
    const junk = garbage ?? this.garbageBytes();
    this.log.debug({ bytes: junk.length }, 'power glitch');
    this.options.write(junk);
    this.powerUp();
  }

  /**
   * Pulled out of the OBD socket: no power, so no answer to anything (and no prompt) until
   * `plugIn()`. The transport (a TCP listener, a serial device) is the owner's to close.
   */
  unplug(): void {
    if (!this.isPlugged) return;
    this.abort();
    this.isPlugged = false;
    this.log.debug('unplugged');
  }

  /** Back in the socket: the chip powers up and prints its banner (`banner: false` skips it). */
  plugIn(options: { banner?: boolean } = {}): void {
    if (this.isPlugged || this.closed) return;
    this.isPlugged = true;
    this.log.debug('plugged in');
    if (options.banner === false) this.reset();
    else this.powerUp();
  }

  private abort(): void {
    if (this.busy?.timer) clearTimeout(this.busy.timer);
    this.busy = null;
    this.queue.length = 0;
    this.lineBuffer = '';
    this.lineOverflow = false;
  }

  private powerUp(): void {
    this.reset();
    const lines = ['', '', ADAPTERS[this.adapter].id];
    this.finishAfter(this.resetDelayMs, lines, false);
  }

  private garbageBytes(): Uint8Array {
    const n = this.glitchRng.int(3, 12);
    return Uint8Array.from({ length: n }, () =>
      this.glitchRng.chance(0.3) ? this.glitchRng.pick([0x00, 0xff, 0xfe, 0x80]) : this.glitchRng.int(0, 255),
    );
  }

  private get eol(): string {
    return this.settings.linefeeds ? '\r\n' : '\r';
  }

  private out(text: string): void {
    if (text.length > 0 && !this.closed && this.isPlugged) this.options.write(Buffer.from(text, 'latin1'));
  }

  private pump(): void {
    while (!this.busy && !this.closed && this.queue.length > 0) this.execute(this.queue.shift()!);
  }

  private interrupt(): void {
    if (this.busy?.timer) clearTimeout(this.busy.timer);
    this.busy = null;
    this.log.debug('request interrupted by host input');
    this.out(`STOPPED${this.eol}${this.eol}>`);
  }

  private execute({ raw, overflow }: { raw: string; overflow: boolean }): void {
    if (this.settings.echo) this.out(`${raw}${this.eol}`);
    if (overflow) {
      // Longer than the chip's input buffer: rejected like any malformed command.
      this.finishAfter(this.latencyMs, ['?'], false);
      return;
    }
    let cmd = raw.replaceAll(' ', '').toUpperCase();
    if (cmd === '') {
      // A bare CR repeats the previous command (data sheet: "repeat any command").
      if (this.lastCommand === '') {
        this.out('>');
        return;
      }
      cmd = this.lastCommand;
    } else {
      this.lastCommand = cmd;
    }

    if (cmd.startsWith('AT') || (this.adapter === 'stn' && cmd.startsWith('ST'))) {
      const reply = cmd.startsWith('AT') ? this.atCommand(cmd.slice(2)) : this.stCommand(cmd.slice(2));
      this.log.debug({ cmd, reply: reply.lines }, 'AT command');
      this.finishAfter(reply.delayMs, reply.lines, false);
    } else {
      this.obdRequest(cmd);
    }
  }

  /** Print reply lines and the prompt after `delayMs`, holding the input queue meanwhile. */
  private finishAfter(delayMs: number, lines: string[], interruptible: boolean, trailingMs = 0): void {
    const busy: Busy = { interruptible, timer: null };
    this.busy = busy;
    const prompt = (): void => {
      if (this.busy !== busy) return;
      this.out(`${this.eol}>`);
      this.busy = null;
      this.pump();
    };
    const print = (): void => {
      if (this.busy !== busy) return;
      this.out(lines.map((l) => `${l}${this.eol}`).join(''));
      this.schedule(busy, trailingMs, prompt);
    };
    this.schedule(busy, delayMs + this.lineMs(lines), print);
  }

  /** Time the reply's characters take on a serial line at `baudRate` (8N1: 10 bits each). */
  private lineMs(lines: readonly string[]): number {
    const baud = this.options.baudRate;
    if (!baud || this.latencyMs === 0) return 0;
    const chars = lines.reduce((n, l) => n + l.length + this.eol.length, 0);
    return Math.round((chars * 10 * 1000) / baud);
  }

  private schedule(busy: Busy, delayMs: number, fn: () => void): void {
    if (delayMs <= 0) {
      fn();
      return;
    }
    busy.timer = setTimeout(() => {
      busy.timer = null;
      fn();
    }, delayMs);
  }

  private atCommand(body: string): Reply {
    const ok: Reply = { lines: ['OK'], delayMs: this.latencyMs };
    const say = (...lines: string[]): Reply => ({ lines, delayMs: this.latencyMs });
    const flag = /^([ELSHMRV])([01])$/.exec(body);
    if (flag) {
      const on = flag[2] === '1';
      if (flag[1] === 'E') this.settings.echo = on;
      else if (flag[1] === 'L') this.settings.linefeeds = on;
      else if (flag[1] === 'S') this.settings.spaces = on;
      else if (flag[1] === 'H') this.settings.headers = on;
      else if (flag[1] === 'R') this.settings.responses = on;
      // ATM0/1 (memory) and ATV0/1 (variable CAN DLC) are accepted without effect here.
      return ok;
    }

    switch (body) {
      case 'Z':
        this.reset();
        return { lines: ['', '', ADAPTERS[this.adapter].id], delayMs: this.resetDelayMs };
      case 'WS':
        this.reset();
        return say('', '', ADAPTERS[this.adapter].id);
      case 'D':
        this.settings = { ...DEFAULT_SETTINGS };
        return ok;
      case 'I':
        return say(ADAPTERS[this.adapter].id);
      case '@1':
        return say(DEVICE_DESCRIPTION);
      case 'RV':
        return say(`${this.options.vehicle.state().batteryV.toFixed(1)}V`);
      case 'DP':
        return say(this.describeProtocol());
      case 'DPN':
        return say(this.protocolNumber());
      case 'PC':
        // Protocol close: the next request searches (or initialises the K-line) again.
        this.connected = false;
        return ok;
      case 'CAF0':
      case 'CAF1':
        this.settings.canAutoFormat = body === 'CAF1';
        return ok;
      // Accepted and without effect on this single-ECU vehicle: long messages, CAN flow control,
      // receive filters, K-line wake-up, ISO baud, key-word checks, init address, bypass init.
      case 'AL':
      case 'NL':
      case 'CFC0':
      case 'CFC1':
      case 'CRA':
      case 'AR':
      case 'KW0':
      case 'KW1':
      case 'BI':
      case 'IB10':
      case 'IB48':
      case 'IB96':
        return ok;
    }

    const at = /^AT([012])$/.exec(body);
    if (at) {
      this.settings.adaptiveTiming = Number(at[1]) as 0 | 1 | 2;
      return ok;
    }
    const st = /^ST([0-9A-F]{1,2})$/.exec(body);
    if (st) {
      const value = Number.parseInt(st[1]!, 16);
      this.settings.timeout = value === 0 ? DEFAULT_SETTINGS.timeout : value;
      return ok;
    }
    // ATSP h / ATTP h set (and try) a protocol; "A h" = automatic, trying h first.
    const sp = /^[ST]P(A?)([0-9A-C])$/.exec(body);
    if (sp) {
      const n = Number.parseInt(sp[2]!, 16);
      this.protocol = { auto: sp[1] === 'A' || n === 0, number: n };
      this.connected = false;
      return ok;
    }
    // Header, receive address, CAN filter/mask, wake-up interval and message, init address:
    // accepted (the one ECU answers whatever the header), rejected when malformed like a chip.
    if (
      /^SH([0-9A-F]{3}|[0-9A-F]{6})$/.test(body) ||
      /^CRA[0-9A-FX]{3,8}$/.test(body) ||
      /^C[FM][0-9A-F]{3,8}$/.test(body) ||
      /^SW[0-9A-F]{2}$/.test(body) ||
      /^WM([0-9A-F]{2}){1,6}$/.test(body) ||
      /^IIA[0-9A-F]{2}$/.test(body)
    ) {
      return ok;
    }
    return say('?');
  }

  /** STN11xx extensions (OBDLink): identity only; anything else is unknown here. */
  private stCommand(body: string): Reply {
    const say = (...lines: string[]): Reply => ({ lines, delayMs: this.latencyMs });
    if (body === 'I') return say(STN_IDENTITY.stiId);
    if (body === 'DI') return say(STN_IDENTITY.deviceId);
    return say('?');
  }

  private reset(): void {
    this.settings = { ...DEFAULT_SETTINGS };
    this.connected = false;
    this.lastCommand = '';
  }

  private describeProtocol(): string {
    if (this.protocol.auto) {
      return this.connected ? `AUTO, ${PROTOCOL_NAMES[this.vehicleProtocol.number]}` : 'AUTO';
    }
    return PROTOCOL_NAMES[this.protocol.number]!;
  }

  private protocolNumber(): string {
    if (this.protocol.auto) {
      const n = this.connected ? this.vehicleProtocol.number : this.protocol.number;
      return `A${n.toString(16).toUpperCase()}`;
    }
    return this.protocol.number.toString(16).toUpperCase();
  }

  /** The protocol a request goes out on: the fixed one, or the vehicle's once the search found it. */
  private get activeProtocol(): number {
    return this.protocol.auto ? this.vehicleProtocol.number : this.protocol.number;
  }

  /** ATST in ms: the chip waits this long after the last frame for more answers. */
  private get timeoutMs(): number {
    return Math.round(this.settings.timeout * 4.096);
  }

  /**
   * The wait after the ECU's answer before the prompt. Without the expected reply count the chip
   * waits for further ECUs: the full ATST timeout with ATAT0, a learned shorter one with ATAT1/2
   * (adaptive timing "often doubles or triples" request rates). With the count (`010D1`) it
   * returns at once. With latency 0 no time is simulated at all.
   */
  private trailingWaitMs(replyCount: number | null): number {
    if (this.latencyMs === 0 || (replyCount !== null && replyCount > 0)) return 0;
    if (this.settings.adaptiveTiming === 0) return this.timeoutMs;
    const learned = this.settings.adaptiveTiming === 1 ? 2 * this.latencyMs : this.latencyMs;
    return Math.min(this.timeoutMs, learned);
  }

  private obdRequest(cmd: string): void {
    if (!/^[0-9A-F]+$/.test(cmd)) {
      this.finishAfter(this.latencyMs, ['?'], false);
      return;
    }
    // An odd digit count means a trailing reply-count digit (ELM327 v1.3+): "010D1".
    const replyCount = cmd.length % 2 === 1 ? Number.parseInt(cmd.slice(-1), 16) : null;
    const hex = replyCount === null ? cmd : cmd.slice(0, -1);
    // A request carries at most 7 bytes (a CAN single frame, ISO 15765-2; likewise on the K-line).
    if (hex.length < 2 || hex.length > 14) {
      this.finishAfter(this.latencyMs, ['?'], false);
      return;
    }
    const behaviour: AdapterProfile = ADAPTER_PROFILE_BEHAVIOUR[this.profile];
    const multiPid = hex.startsWith('01') && hex.length > 4;
    if ((replyCount !== null && !behaviour.replyCount) || (multiPid && behaviour.multiPid === '?')) {
      // The clone's command parser rejects the line before anything goes on the bus.
      this.finishAfter(this.latencyMs, ['?'], false);
      return;
    }
    // A first-PID-only clone puts just the service and the first PID on the bus.
    const sent = multiPid && behaviour.multiPid === 'first-pid' ? hex.slice(0, 4) : hex;
    const request = Uint8Array.from(sent.match(/../g)!.map((b) => Number.parseInt(b, 16)));
    const refusedOnBus = multiPid && behaviour.multiPid === 'NO DATA';
    const sync = this.latencyMs === 0;
    const noAnswerMs = sync ? 0 : this.latencyMs + this.timeoutMs;

    const fault = this.faults.next();
    if (fault !== null && REPLACING_ANSWERS.has(fault)) {
      this.log.debug({ cmd, fault }, 'injected error answer');
      const quick = fault === '?' || fault === 'FB ERROR';
      this.finishAfter(quick ? this.latencyMs : noAnswerMs, [fault], !quick);
      return;
    }

    const protocol = this.activeProtocol;
    const family = familyOf(protocol);
    const ignition = this.options.vehicle.state().ignition;
    if (!this.protocol.auto && !this.vehicleProtocol.answersOn.includes(protocol)) {
      const failMs =
        family === 'kline' && !sync ? (this.options.busInitMs ?? busInitMs(protocol)) : noAnswerMs;
      if (family === 'kline') this.out('BUS INIT: ');
      this.finishAfter(failMs, [family === 'kline' ? '...ERROR' : wrongProtocolError(protocol)], true);
      return;
    }

    let delayMs = this.latencyMs;
    const initMs = sync ? 0 : (this.options.busInitMs ?? busInitMs(protocol));
    let busInitFirst = false;
    if (!this.connected) {
      if (this.protocol.auto) {
        this.out(`SEARCHING...${this.eol}`);
        delayMs += this.searchDelayMs + initMs;
        if (!ignition) {
          // Nothing answers on any protocol: typically the ignition key is off.
          this.finishAfter(delayMs, ['UNABLE TO CONNECT'], true);
          return;
        }
      } else if (family === 'kline') {
        // A fixed K-line protocol initialises the bus on first use (data sheet: "BUS INIT: ...OK").
        this.out('BUS INIT: ');
        if (!ignition) {
          this.finishAfter(initMs, ['...ERROR'], true);
          return;
        }
        busInitFirst = true;
      }
      this.connected = true;
    }
    if (fault === 'SEARCHING...') {
      // The adapter lost the vehicle and searches again before answering.
      this.out(`SEARCHING...${this.eol}`);
      delayMs += this.searchDelayMs;
    }

    if (!this.settings.responses) {
      // ATR0: the request goes out, nobody waits for answers.
      this.finishAfter(delayMs, [], true);
      return;
    }

    // The ECU is asked when the (simulated) bus round trip completes, so the answer reflects
    // the vehicle state at that moment.
    const busy: Busy = { interruptible: true, timer: null };
    this.busy = busy;
    const ask = (): void => {
      if (this.busy !== busy) return;
      this.busy = null;
      const messages = refusedOnBus ? null : this.ecu.respondOn(family, request);
      this.log.debug({ cmd, answered: messages !== null, fault }, 'OBD request');
      if (messages === null) {
        // A K-line session lapses when the ECU falls silent (no keep-alive answered).
        if (family === 'kline' && !this.options.vehicle.state().ignition) this.connected = false;
        this.finishAfter(noAnswerMs - this.latencyMs, ['NO DATA'], true);
        return;
      }
      const responseBytes = messages.reduce((n, m) => n + m.length, 0);
      const busMs = sync ? 0 : this.vehicleProtocol.busMs(request.length, responseBytes);
      const lines = this.decorate(this.format(messages, family, protocol), fault);
      // Fewer frames than the reply count promised (a first-PID-only clone): the chip waits on.
      const complete = replyCount !== null && lines.length >= replyCount;
      this.finishAfter(busMs, lines, true, this.trailingWaitMs(complete ? replyCount : null));
    };
    if (!busInitFirst) {
      this.schedule(busy, delayMs, ask);
      return;
    }
    this.schedule(busy, initMs, () => {
      if (this.busy !== busy) return;
      this.out(`...OK${this.eol}`);
      this.schedule(busy, delayMs, ask);
    });
  }

  private format(messages: Uint8Array[], family: string, protocol: number): string[] {
    const { headers, spaces } = this.settings;
    if (family === 'kline') return formatKlineResponse(messages, { headers, spaces }, protocol);
    return messages.flatMap((m) =>
      formatCanResponse(m, { headers, spaces, autoFormat: this.settings.canAutoFormat }),
    );
  }

  /** Error answers that come with (part of) the data. */
  private decorate(lines: string[], fault: ElmErrorAnswer | null): string[] {
    switch (fault) {
      case 'BUFFER FULL':
        return [lines[0]!, 'BUFFER FULL'];
      case '<DATA ERROR':
        return [...lines.slice(0, -1), `${lines.at(-1)!}<DATA ERROR`];
      case '<RX ERROR': {
        // Reception broke off two bytes in.
        const first = lines[0]!;
        const cut = this.settings.spaces ? first.split(' ').slice(0, 2).join(' ') : first.slice(0, 4);
        return [`${cut}${this.settings.spaces ? ' ' : ''}<RX ERROR`];
      }
      default:
        return lines;
    }
  }
}
