import { createLogger, type Logger } from '@fleet/shared/log';
import { formatCanResponse } from './can-format.ts';
import { EngineEcu, type VehicleStateSource } from './ecu.ts';

/**
 *   receive(bytes) --> line discipline --> AT command ----------------------> reply lines
 *                      (\r ends a line,    OBD request --> EngineEcu.respond --> CAN formatting
 *                       bare \r repeats)                    (vehicle state now)       |
 *   write(bytes) <-- echo, reply lines, "\r" (+"\n" with ATL1) after each, then "\r>" <--+
 *
 * Byte-level ELM327 v1.5 behaviour (ELM327 data sheet, "Communicating with the ELM327" and
 * "AT Commands"): case-insensitive commands, spaces and control characters ignored, every
 * answer closed by an empty line and the `>` prompt, echo on after reset. The vehicle behind it
 * speaks ISO 15765-4 CAN 11-bit 500 kbaud (protocol 6) only.
 */
export interface Elm327Options {
  vehicle: VehicleStateSource;
  /** 17-character VIN the ECU answers to 09 02. */
  vin: string;
  /** Sink for every byte the chip sends (echo, replies, prompt). */
  write: (bytes: Uint8Array) => void;
  /** Service 01 PIDs the ECU answers; default: all implemented. */
  pids?: readonly number[];
  /** Stored DTCs answered to service 03; default: none. */
  dtcs?: readonly string[];
  /** [0...5000], default: 30 ms. Adapter + ECU turnaround per command; 0 answers synchronously. */
  latencyMs?: number;
  /** [0...5000], default: 500 ms. ATZ takes about 0.5-1 s on a real chip. */
  resetDelayMs?: number;
  /** [0...10000], default: 300 ms. Extra time of the first request while the protocol is searched. */
  searchDelayMs?: number;
  logger?: Logger;
}

export interface ElmSettings {
  echo: boolean;
  linefeeds: boolean;
  spaces: boolean;
  headers: boolean;
  /** ATAT0/1/2: adaptive timing; 1 after reset. */
  adaptiveTiming: 0 | 1 | 2;
  /** ATST hh: response timeout in units of 4.096 ms; 0x32 (~205 ms) after reset. */
  timeout: number;
}

const DEFAULT_SETTINGS: ElmSettings = {
  echo: true,
  linefeeds: false,
  spaces: true,
  headers: false,
  adaptiveTiming: 1,
  timeout: 0x32,
};

export const ELM_ID = 'ELM327 v1.5';
const DEVICE_DESCRIPTION = 'OBDII to RS232 Interpreter';
/** The only protocol the simulated vehicle speaks: ISO 15765-4 CAN, 11-bit ids, 500 kbaud. */
const VEHICLE_PROTOCOL = 6;
const MAX_LINE = 100;

/** ATDP names, indexed by protocol number (ELM327 data sheet, ATSP). */
const PROTOCOL_NAMES = [
  'AUTO',
  'SAE J1850 PWM',
  'SAE J1850 VPW',
  'ISO 9141-2',
  'ISO 14230-4 (KWP 5BAUD)',
  'ISO 14230-4 (KWP FAST)',
  'ISO 15765-4 (CAN 11/500)',
  'ISO 15765-4 (CAN 29/500)',
  'ISO 15765-4 (CAN 11/250)',
  'ISO 15765-4 (CAN 29/250)',
  'SAE J1939 (CAN 29/250)',
  'USER1 (CAN 11/125)',
  'USER2 (CAN 11/50)',
];

/** What a fixed protocol other than the vehicle's reports when nothing answers on it. */
function wrongProtocolError(protocol: number): string {
  if (protocol === 1 || protocol === 2) return 'NO DATA';
  if (protocol >= 3 && protocol <= 5) return 'BUS INIT: ...ERROR';
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

  private settings: ElmSettings = { ...DEFAULT_SETTINGS };
  /** ATSP stores the protocol (the chip keeps it in EEPROM, so it survives ATZ). */
  private protocol = { auto: true, number: 0 };
  /** Whether an auto search has found the vehicle's protocol since the last reset / ATSP. */
  private connected = false;
  private lineBuffer = '';
  private lineOverflow = false;
  private readonly queue: { raw: string; overflow: boolean }[] = [];
  private busy: Busy | null = null;
  private lastCommand = '';
  private closed = false;

  private readonly latencyMs: number;
  private readonly resetDelayMs: number;
  private readonly searchDelayMs: number;
  private readonly log: Logger;

  constructor(private readonly options: Elm327Options) {
    this.ecu = new EngineEcu(options.vehicle, {
      vin: options.vin,
      ...(options.pids ? { pids: options.pids } : {}),
      ...(options.dtcs ? { dtcs: options.dtcs } : {}),
    });
    this.latencyMs = options.latencyMs ?? 30;
    this.resetDelayMs = options.resetDelayMs ?? 500;
    this.searchDelayMs = options.searchDelayMs ?? 300;
    this.log = options.logger ?? createLogger('elm327');
  }

  get currentSettings(): Readonly<ElmSettings> {
    return { ...this.settings };
  }

  /** Bytes from the host (the edge agent). */
  receive(bytes: Uint8Array | string): void {
    if (this.closed) return;
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
    if (this.busy?.timer) clearTimeout(this.busy.timer);
    this.busy = null;
    this.queue.length = 0;
  }

  private get eol(): string {
    return this.settings.linefeeds ? '\r\n' : '\r';
  }

  private out(text: string): void {
    if (text.length > 0 && !this.closed) this.options.write(Buffer.from(text, 'latin1'));
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

    if (cmd.startsWith('AT')) {
      const reply = this.atCommand(cmd.slice(2));
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
    this.schedule(busy, delayMs, print);
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
    const flag = /^([ELSHM])([01])$/.exec(body);
    if (flag) {
      const on = flag[2] === '1';
      if (flag[1] === 'E') this.settings.echo = on;
      else if (flag[1] === 'L') this.settings.linefeeds = on;
      else if (flag[1] === 'S') this.settings.spaces = on;
      else if (flag[1] === 'H') this.settings.headers = on;
      // ATM0/1 (memory) is accepted and has no effect: the protocol is always remembered.
      return ok;
    }

    switch (body) {
      case 'Z':
        this.reset();
        return { lines: ['', '', ELM_ID], delayMs: this.resetDelayMs };
      case 'WS':
        this.reset();
        return say('', '', ELM_ID);
      case 'D':
        this.settings = { ...DEFAULT_SETTINGS };
        return ok;
      case 'I':
        return say(ELM_ID);
      case '@1':
        return say(DEVICE_DESCRIPTION);
      case 'RV':
        return say(`${this.options.vehicle.state().batteryV.toFixed(1)}V`);
      case 'DP':
        return say(this.describeProtocol());
      case 'DPN':
        return say(this.protocolNumber());
      case 'PC':
        // Protocol close: the next request searches again when on auto.
        this.connected = false;
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
    return say('?');
  }

  private reset(): void {
    this.settings = { ...DEFAULT_SETTINGS };
    this.connected = false;
    this.lastCommand = '';
  }

  private describeProtocol(): string {
    if (this.protocol.auto) {
      return this.connected ? `AUTO, ${PROTOCOL_NAMES[VEHICLE_PROTOCOL]}` : 'AUTO';
    }
    return PROTOCOL_NAMES[this.protocol.number]!;
  }

  private protocolNumber(): string {
    if (this.protocol.auto) {
      return `A${(this.connected ? VEHICLE_PROTOCOL : this.protocol.number).toString(16).toUpperCase()}`;
    }
    return this.protocol.number.toString(16).toUpperCase();
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
    // A CAN single frame carries at most 7 request bytes (ISO 15765-2).
    if (hex.length < 2 || hex.length > 14) {
      this.finishAfter(this.latencyMs, ['?'], false);
      return;
    }
    const request = Uint8Array.from(hex.match(/../g)!.map((b) => Number.parseInt(b, 16)));
    const noAnswerMs = this.latencyMs === 0 ? 0 : this.latencyMs + this.timeoutMs;

    if (!this.protocol.auto && this.protocol.number !== VEHICLE_PROTOCOL) {
      this.finishAfter(noAnswerMs, [wrongProtocolError(this.protocol.number)], true);
      return;
    }

    let delayMs = this.latencyMs;
    if (this.protocol.auto && !this.connected) {
      this.out(`SEARCHING...${this.eol}`);
      delayMs += this.searchDelayMs;
      if (!this.options.vehicle.state().ignition) {
        // Nothing answers on any protocol: typically the ignition key is off.
        this.finishAfter(delayMs, ['UNABLE TO CONNECT'], true);
        return;
      }
      this.connected = true;
    }

    // The ECU is asked when the (simulated) bus round trip completes, so the answer reflects
    // the vehicle state at that moment.
    const busy: Busy = { interruptible: true, timer: null };
    this.busy = busy;
    this.schedule(busy, delayMs, () => {
      if (this.busy !== busy) return;
      this.busy = null;
      const payload = this.ecu.respond(request);
      this.log.debug({ cmd, answered: payload !== null }, 'OBD request');
      if (payload === null) {
        this.finishAfter(noAnswerMs - this.latencyMs, ['NO DATA'], true);
      } else {
        const lines = formatCanResponse(payload, this.settings);
        this.finishAfter(0, lines, true, this.trailingWaitMs(replyCount));
      }
    });
  }
}
