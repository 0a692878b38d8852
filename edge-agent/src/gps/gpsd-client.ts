/**
 *   gpsd (TCP 2947) ──bytes──▶ bounded line buffer ──line──▶ parseGpsdLine ──TPV──▶ latest TPV of
 *        ▲                                                        │               the epoch ──▶ fixFromTpv
 *        │                                                        └─ SKY: satellites, DOPs ────────┘
 *        └── ?WATCH={"enable":true,"json":true}                       onFix(GpsFix) / onNoFix(GpsNoFix)
 *
 * The gpsd alternative to reading NMEA ourselves: gpsd already owns the receiver (and speaks
 * its binary protocols). Connection lost or refused: retry with exponential backoff
 * (`minBackoffMs` doubling up to `maxBackoffMs`, reset once a session delivered a message).
 * Every line that is not a usable message is counted under its reason in `stats.bad`.
 */
import net from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import type { Logger } from '@fleet/shared/log';
import { AgentError, AgentErrorCode } from '../errors.ts';
import {
  fixFromTpv,
  type GpsdBadReason,
  type GpsdDevice,
  type GpsdMessage,
  type GpsdTpv,
  NO_SKY,
  parseGpsdLine,
  type SkySummary,
  summarizeSky,
} from './gpsd/protocol.ts';
import type { GpsFix, GpsNoFix } from './nmea/rmc.ts';

export const GPSD_DEFAULT_PORT = 2947;

export interface GpsdAddress {
  host: string;
  port: number;
}

/** `HOST[:PORT]` or `[IPv6][:PORT]` -> address; PORT defaults to 2947. Throws AgentError. */
export function parseGpsdAddress(text: string): GpsdAddress {
  const m = /^(?:\[([^\]]+)\]|([^:[\]\s]+))(?::(\d{1,5}))?$/.exec(text.trim());
  const port = m?.[3] === undefined ? GPSD_DEFAULT_PORT : Number(m[3]);
  if (!m || port < 1 || port > 65535) {
    throw new AgentError(AgentErrorCode.ConfigInvalid, `invalid gpsd address "${text}": expected HOST:PORT`);
  }
  return { host: (m[1] ?? m[2])!, port };
}

export interface GpsdClientStats {
  connects: number;
  connectFailures: number;
  disconnects: number;
  /** Non-empty lines received: messages + ignored + badLines. */
  lines: number;
  /** Well-formed messages of the classes used here (VERSION, DEVICES, WATCH, TPV, SKY, ...). */
  messages: number;
  /** Sum of `bad`. */
  badLines: number;
  bad: Record<GpsdBadReason, number>;
  /** Well-formed messages of a class not used here (ATT, PPS, TOFF, ...). */
  ignored: number;
  tpv: number;
  sky: number;
  fixes: number;
  noFix: number;
  /** TPVs with a position but no time (gpsd has not seen a date yet). */
  undated: number;
  /** TPVs for an epoch already seen: merged into its fix (gpsd reports some epochs twice). */
  repeats: number;
  /** TPVs or SKYs from another device than the one asked for. */
  otherDevice: number;
}

export interface GpsdClientOptions extends GpsdAddress {
  /** Only this receiver's reports (gpsd may serve several); default: all. */
  device?: string;
  /** [50...60000] ms before the first reconnect, default: 500; doubles per failure. */
  minBackoffMs?: number;
  /** [1000...600000] ms between reconnects at most, default: 30000. */
  maxBackoffMs?: number;
  /** [100...60000] ms to establish the TCP connection, default: 5000. */
  connectTimeoutMs?: number;
  /**
   * [0...5000] ms of silence after which the TPV held for the current epoch is reported,
   * default: 150; 0 leaves that to the next epoch's TPV and to flush().
   */
  epochIdleMs?: number;
  /** [1024...1048576] characters per line, default: 65536 (a SKY with 60+ satellites is ~8 KB). */
  maxLineLength?: number;
  /** Reject run() if the first connection fails, instead of retrying (the CLI). */
  failFirstConnect?: boolean;
  onNoFix?: (report: GpsNoFix) => void;
  /** Each time a connection is established (before WATCH is sent). */
  onConnect?: () => void;
  /** Every message (the CLI prints VERSION/DEVICES; tests watch for the device). */
  onMessage?: (message: GpsdMessage) => void;
}

const BAD_REASONS: readonly GpsdBadReason[] = ['too-long', 'not-json', 'no-class', 'bad-field'];

export class GpsdClient {
  readonly stats: GpsdClientStats = {
    connects: 0,
    connectFailures: 0,
    disconnects: 0,
    lines: 0,
    messages: 0,
    badLines: 0,
    bad: Object.fromEntries(BAD_REASONS.map((r) => [r, 0])) as Record<GpsdBadReason, number>,
    ignored: 0,
    tpv: 0,
    sky: 0,
    fixes: 0,
    noFix: 0,
    undated: 0,
    repeats: 0,
    otherDevice: 0,
  };
  /** What gpsd said about itself and its receivers (VERSION, DEVICES). */
  version: string | null = null;
  devices: GpsdDevice[] = [];

  private readonly maxLine: number;
  private pending = '';
  /** Discarding the rest of a line that exceeded maxLineLength. */
  private skipping = false;
  private decoder = new StringDecoder('utf8');
  private sky: SkySummary = NO_SKY;
  private pendingTpv: GpsdTpv | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private lastFixTs: number | null = null;
  private socket: net.Socket | null = null;
  private stopped = false;
  private wake: (() => void) | null = null;

  constructor(
    private readonly options: GpsdClientOptions,
    private readonly onFix: (fix: GpsFix) => void,
    private readonly log: Logger,
  ) {
    this.maxLine = options.maxLineLength ?? 65_536;
  }

  get name(): string {
    return `gpsd://${this.options.host.includes(':') ? `[${this.options.host}]` : this.options.host}:${this.options.port}`;
  }

  /** Feeds raw bytes from gpsd; exposed for tests and fuzzing. */
  push(chunk: Uint8Array | string): void {
    const text = typeof chunk === 'string' ? chunk : this.decoder.write(Buffer.from(chunk));
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      const piece = text.slice(start, nl);
      start = nl + 1;
      if (this.skipping) {
        this.skipping = false;
        this.pending = '';
        continue;
      }
      const line = this.pending + piece;
      this.pending = '';
      if (line.length > this.maxLine) this.bad('too-long', `${line.length} characters`);
      else this.line(line);
    }
    if (this.skipping) return;
    this.pending += text.slice(start);
    if (this.pending.length > this.maxLine) {
      this.bad('too-long', `over ${this.maxLine} characters`);
      this.pending = '';
      this.skipping = true;
    }
  }

  private line(raw: string) {
    const line = raw.trim();
    if (!line) return;
    this.stats.lines++;
    const parsed = parseGpsdLine(line);
    if (!parsed.ok) {
      this.bad(parsed.reason, parsed.detail);
      return;
    }
    if (parsed.message === null) {
      this.stats.ignored++;
      return;
    }
    const m = parsed.message;
    this.stats.messages++;
    this.options.onMessage?.(m);
    switch (m.class) {
      case 'VERSION':
        this.version = m.release;
        this.log.info({ release: m.release, proto: `${m.proto_major}.${m.proto_minor}` }, 'gpsd version');
        break;
      case 'DEVICES':
        this.devices = m.devices;
        break;
      case 'ERROR':
        this.log.warn({ message: m.message }, 'gpsd error');
        break;
      case 'SKY':
        if (!this.ours(m.device)) return;
        this.stats.sky++;
        this.sky = summarizeSky(m);
        break;
      case 'TPV':
        if (!this.ours(m.device)) return;
        this.stats.tpv++;
        // gpsd may report one epoch several times, each more complete (before it has learned the
        // receiver's cycle): keep the latest for that time, report it when the time moves on.
        if (this.pendingTpv && m.time !== undefined && this.pendingTpv.time === m.time) {
          this.stats.repeats++;
        } else {
          this.flush();
        }
        this.pendingTpv = m;
        if (m.time === undefined) this.flush();
        break;
      default:
        break;
    }
  }

  /** Reports the TPV held for its epoch (the next epoch began, the line went quiet, or stop). */
  flush(): void {
    const tpv = this.pendingTpv;
    if (!tpv) return;
    this.pendingTpv = null;
    const outcome = fixFromTpv(tpv, this.sky);
    if (outcome.kind === 'fix') {
      if (outcome.fix.ts === this.lastFixTs) {
        this.stats.repeats++;
        return;
      }
      this.lastFixTs = outcome.fix.ts;
      this.stats.fixes++;
      this.onFix(outcome.fix);
    } else if (outcome.kind === 'no-fix') {
      this.stats.noFix++;
      this.options.onNoFix?.(outcome.report);
    } else {
      this.stats.undated++;
    }
  }

  private ours(device: string | undefined): boolean {
    if (!this.options.device || device === undefined || device === this.options.device) return true;
    this.stats.otherDevice++;
    return false;
  }

  private bad(reason: GpsdBadReason, detail: string) {
    this.stats.bad[reason]++;
    this.stats.badLines++;
    this.log.debug({ reason, detail }, 'bad gpsd line dropped');
  }

  /** Connects, watches, and reconnects with backoff until stop(). */
  async run(): Promise<void> {
    let failures = 0;
    let first = true;
    while (!this.stopped) {
      let delivered = false;
      try {
        const socket = await this.connect();
        if (this.stopped) {
          socket.destroy();
          break;
        }
        this.stats.connects++;
        this.log.info({ gpsd: this.name }, 'connected to gpsd');
        this.options.onConnect?.();
        const before = this.stats.lines;
        await this.session(socket);
        delivered = this.stats.lines > before;
        if (!this.stopped) {
          this.stats.disconnects++;
          this.log.warn({ gpsd: this.name }, 'gpsd connection closed; reconnecting');
        }
      } catch (err) {
        this.stats.connectFailures++;
        if (first && this.options.failFirstConnect) throw err;
        if (!this.stopped)
          this.log.warn({ gpsd: this.name, err: (err as Error).message }, 'gpsd unreachable');
      }
      first = false;
      failures = delivered ? 0 : failures + 1;
      if (!this.stopped) await this.sleep(this.backoff(failures));
    }
  }

  /** [min, max] doubling per consecutive failure, +-20 % jitter so a fleet does not reconnect in step. */
  backoff(failures: number): number {
    const min = this.options.minBackoffMs ?? 500;
    const max = this.options.maxBackoffMs ?? 30_000;
    const base = Math.min(max, min * 2 ** Math.min(failures, 30));
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }

  private receive(chunk: Buffer) {
    this.push(chunk);
    const idleMs = this.options.epochIdleMs ?? 150;
    if (idleMs <= 0 || !this.pendingTpv) return;
    if (this.idleTimer) this.idleTimer.refresh();
    else
      this.idleTimer = setTimeout(() => {
        this.idleTimer = null;
        this.flush();
      }, idleMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    this.flush();
    this.wake?.();
    const socket = this.socket;
    if (!socket) return;
    await new Promise<void>((resolve) => {
      if (socket.destroyed) return resolve();
      socket.once('close', () => resolve());
      socket.destroy();
    });
  }

  private connect(): Promise<net.Socket> {
    const { host, port } = this.options;
    const timeoutMs = this.options.connectTimeoutMs ?? 5000;
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
      const fail = (message: string, cause?: unknown) => {
        socket.destroy();
        reject(
          new AgentError(
            AgentErrorCode.PortOpenFailed,
            `cannot reach gpsd at ${host}:${port}: ${message} (is gpsd running and listening there?)`,
            { cause },
          ),
        );
      };
      const timer = setTimeout(() => fail(`no answer within ${timeoutMs} ms`), timeoutMs);
      const onError = (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        fail(err.code ?? err.message, err);
      };
      socket.once('error', onError);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        // Errors after this surface as 'close' in session(); never unhandled.
        socket.on('error', () => {});
        resolve(socket);
      });
    });
  }

  private session(socket: net.Socket): Promise<void> {
    this.socket = socket;
    this.pending = '';
    this.skipping = false;
    this.decoder = new StringDecoder('utf8');
    this.sky = NO_SKY;
    return new Promise((resolve) => {
      socket.on('data', (chunk: Buffer) => this.receive(chunk));
      socket.on('error', (err) => this.log.warn({ err: err.message }, 'gpsd socket error'));
      socket.once('close', () => {
        this.socket = null;
        this.flush();
        resolve();
      });
      const watch: Record<string, unknown> = { enable: true, json: true };
      if (this.options.device) watch.device = this.options.device;
      socket.write(`?WATCH=${JSON.stringify(watch)}\n`);
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    }).then(() => {
      this.wake = null;
    });
  }
}
