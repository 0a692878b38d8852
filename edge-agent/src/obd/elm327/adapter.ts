/**
 *   caller --send(cmd)--> queue --(one at a time, only after `>`)--> ByteStream --> ELM327
 *                           ^                                                        |
 *                           +---------- response text <-- Elm327ResponseParser <-----+
 *                           |
 *              retry with backoff (transient bus errors), resync after a timeout
 *
 * The ELM327 must not receive a command before it printed its prompt (data sheet, "Talking to
 * the ELM327": a character received while it is busy aborts the request with STOPPED), so
 * commands wait in a queue. A command that timed out may still be answered later: until the
 * adapter is known to sit at its prompt again (resync, below), nothing else is sent, so a late
 * answer can never be taken for the next command's.
 */
import type { Logger } from '@fleet/shared/log';
import { AgentError, AgentErrorCode, isTransientObdError } from '../../errors.ts';
import type { ByteStream } from '../../transport/byte-stream.ts';
import { answerError, isIdentityBanner } from './answers.ts';
import { Elm327ResponseParser, responseLines } from './response-parser.ts';

export interface SendOptions {
  /** [50...60000] ms until the prompt, default 2000. */
  timeoutMs?: number;
  /**
   * [0...5] repeats after a transient error (BUS BUSY, CAN ERROR, <RX ERROR, BUFFER FULL,
   * STOPPED, FB ERROR, DATA ERROR, BUS INIT ERROR); default 2 for OBD requests, 0 for AT commands.
   */
  retries?: number;
  /** [0...5000] ms before the first repeat, doubled for each further one; default 50. */
  backoffMs?: number;
}

export interface Elm327AdapterOptions {
  /**
   * Harmless command whose answer only it can produce, sent to find the prompt again after a
   * timeout. Never a bare CR: that repeats the last command (data sheet, "repeat a command").
   * Default `ATI` (answers the chip identity).
   */
  resyncProbe?: string;
  /** [50...10000] ms to wait for a late answer's prompt before probing, default 300. */
  resyncDrainMs?: number;
  /** [100...10000] ms per probe, default 500 (an idle ELM327 answers ATI within ~50 ms). */
  resyncProbeTimeoutMs?: number;
}

export interface AdapterStats {
  commands: number;
  timeouts: number;
  retries: number;
  resyncs: number;
  /** Responses nobody waited for (late answers, banners): dropped, never handed on. */
  strayResponses: number;
}

const MAX_BACKOFF_MS = 2000;
/** A resync gives up after this many probes: the adapter is gone or mute. */
const RESYNC_PROBES = 3;

export class Elm327Adapter {
  readonly parser: Elm327ResponseParser;
  readonly stats: AdapterStats = { commands: 0, timeouts: 0, retries: 0, resyncs: 0, strayResponses: 0 };
  private waiter: ((text: string | Error) => void) | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private needsResync = false;
  private closedError: AgentError | undefined;
  private readonly resyncProbe: string;
  private readonly resyncDrainMs: number;
  private readonly resyncProbeTimeoutMs: number;

  constructor(
    private readonly stream: ByteStream,
    private readonly log: Logger,
    options: Elm327AdapterOptions = {},
  ) {
    this.resyncProbe = options.resyncProbe ?? 'ATI';
    this.resyncDrainMs = options.resyncDrainMs ?? 300;
    this.resyncProbeTimeoutMs = options.resyncProbeTimeoutMs ?? 500;
    this.parser = new Elm327ResponseParser((text) => {
      const w = this.waiter;
      this.waiter = undefined;
      if (w) w(text);
      else if (text.trim()) {
        this.stats.strayResponses++;
        this.log.debug({ text }, 'unsolicited ELM327 output dropped');
      }
    });
    stream.onData((chunk) => this.parser.push(chunk));
    stream.onClose((err) => {
      this.closedError = new AgentError(
        AgentErrorCode.PortClosed,
        `${stream.name} closed${err?.message ? `: ${err.message}` : ''} (adapter unplugged?)`,
        { cause: err },
      );
      const w = this.waiter;
      this.waiter = undefined;
      w?.(this.closedError);
    });
  }

  /** Whether the port went away; every later send() rejects with PortClosed. */
  get closed(): boolean {
    return this.closedError !== undefined;
  }

  /**
   * Sends one command and resolves with its answer lines (echo and progress notes removed).
   * Error answers reject with a typed AgentError (see answers.ts); transient ones are repeated
   * first. A number as second argument is the timeout in ms (the foundation's signature).
   */
  send(command: string, options: number | SendOptions = {}): Promise<string[]> {
    const opts = typeof options === 'number' ? { timeoutMs: options } : options;
    const run = () => this.sendWithRetries(command, opts);
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => {});
    return result;
  }

  private async sendWithRetries(command: string, opts: SendOptions): Promise<string[]> {
    // OBD requests are hex digits; AT (ELM) and ST (STN) commands are not.
    const isObd = /^[0-9A-F]+$/i.test(command) && !/^AT/i.test(command);
    const retries = opts.retries ?? (isObd ? 2 : 0);
    const backoffMs = opts.backoffMs ?? 50;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.exchange(command, opts.timeoutMs ?? 2000, isObd);
      } catch (err) {
        if (!isTransientObdError(err) || attempt >= retries) throw err;
        this.stats.retries++;
        const delay = Math.min(MAX_BACKOFF_MS, backoffMs * 2 ** attempt);
        this.log.debug(
          { command, err: err.message, attempt: attempt + 1, delay },
          'transient error; retrying',
        );
        await sleep(delay);
      }
    }
  }

  private async exchange(command: string, timeoutMs: number, isObd: boolean): Promise<string[]> {
    if (this.needsResync) await this.resync();
    this.stats.commands++;
    const text = await this.roundTrip(`${command}\r`, timeoutMs);
    if (text === null) {
      this.stats.timeouts++;
      this.needsResync = true;
      throw new AgentError(
        AgentErrorCode.ObdTimeout,
        `no prompt from the adapter within ${timeoutMs} ms after ${command}`,
      );
    }
    const lines = responseLines(text, command);
    const error = answerError(command, lines);
    if (error) throw error;
    // A power-up banner in answer to an OBD request: the chip restarted (supply dip) and lost
    // its settings (echo back on, headers off), so the caller must initialise it again.
    if (isObd && lines.some(isIdentityBanner)) {
      throw new AgentError(
        AgentErrorCode.ObdAdapterReset,
        `${command}: adapter restarted (${lines.join(' | ')})`,
      );
    }
    return lines;
  }

  /**
   * Writes `data` and resolves with the next response, or null when no prompt came within
   * `timeoutMs` (the half-received text is discarded). Rejects with PortClosed when the port
   * goes away; a write that never completes (a vanished pty) counts as a timeout.
   */
  private roundTrip(data: string | null, timeoutMs: number): Promise<string | null> {
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise<string | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        this.parser.reset();
        resolve(null);
      }, timeoutMs);
      this.waiter = (text) => {
        clearTimeout(timer);
        if (text instanceof Error) reject(text);
        else resolve(text);
      };
      if (data === null) return;
      this.stream.write(data).catch((err: Error) => {
        clearTimeout(timer);
        this.waiter = undefined;
        reject(
          this.closedError ??
            new AgentError(AgentErrorCode.PortClosed, `cannot write to ${this.stream.name}: ${err.message}`),
        );
      });
    });
  }

  /**
   * After a timeout the adapter may still be busy with the old command. First let a late answer
   * arrive and drop it; then probe until an answer comes that only the probe can produce (the
   * identity): everything before it (the late answer, STOPPED if the probe interrupted a request,
   * `?` for the rest of the probe's characters) is dropped.
   */
  private async resync(): Promise<void> {
    this.stats.resyncs++;
    const late = await this.roundTrip(null, this.resyncDrainMs);
    if (late !== null) this.stats.strayResponses++;
    for (let probe = 1; probe <= RESYNC_PROBES; probe++) {
      let text = await this.roundTrip(`${this.resyncProbe}\r`, this.resyncProbeTimeoutMs);
      while (text !== null) {
        const lines = responseLines(text, this.resyncProbe);
        if (lines.some(isIdentityBanner)) {
          this.needsResync = false;
          this.log.debug({ probe }, 'adapter back at its prompt');
          return;
        }
        this.stats.strayResponses++;
        // `?` closes what an interrupted probe left behind: the chip now sits at its prompt.
        if (lines.includes('?')) break;
        text = await this.roundTrip(null, this.resyncProbeTimeoutMs);
      }
    }
    throw new AgentError(
      AgentErrorCode.ObdTimeout,
      `the adapter on ${this.stream.name} stopped answering (no answer to ${this.resyncProbe} after a timeout)`,
    );
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
