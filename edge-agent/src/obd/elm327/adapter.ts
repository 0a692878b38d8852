/**
 *   caller --send(cmd)--> queue --(one at a time, only after `>`)--> ByteStream --> ELM327
 *                           ^                                                        |
 *                           +---------- response text <-- Elm327ResponseParser <-----+
 *
 * The ELM327 must not receive a command before it printed its prompt (data sheet: characters
 * sent while it is busy abort the current operation), so commands wait in a queue.
 */
import type { Logger } from '@fleet/shared/log';
import { AgentError, AgentErrorCode } from '../../errors.ts';
import type { ByteStream } from '../../transport/byte-stream.ts';
import { Elm327ResponseParser, responseLines } from './response-parser.ts';

/** Answers that mean "the adapter or the bus failed", not data (ELM327 data sheet, messages section). */
const ERROR_ANSWERS = [
  'NO DATA',
  '?',
  'CAN ERROR',
  'UNABLE TO CONNECT',
  'STOPPED',
  'BUFFER FULL',
  'BUS BUSY',
  'BUS ERROR',
  'FB ERROR',
  'DATA ERROR',
  '<DATA ERROR',
  '<RX ERROR',
  'ERR',
];

export class Elm327Adapter {
  readonly parser: Elm327ResponseParser;
  private waiter: ((text: string) => void) | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly stream: ByteStream,
    private readonly log: Logger,
  ) {
    this.parser = new Elm327ResponseParser((text) => {
      const w = this.waiter;
      this.waiter = undefined;
      if (w) w(text);
      else if (text.trim()) this.log.debug({ text }, 'unsolicited ELM327 output dropped');
    });
    stream.onData((chunk) => this.parser.push(chunk));
  }

  /**
   * Sends one command and resolves with its answer lines (echo and SEARCHING... removed).
   * Error answers reject with a typed AgentError. [50...30000] ms timeout, default 2000.
   */
  send(command: string, timeoutMs = 2000): Promise<string[]> {
    const run = () => this.exchange(command, timeoutMs);
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => {});
    return result;
  }

  private exchange(command: string, timeoutMs: number): Promise<string[]> {
    return new Promise<string[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        this.parser.reset();
        reject(
          new AgentError(
            AgentErrorCode.ObdTimeout,
            `no prompt from the adapter within ${timeoutMs} ms after ${command}`,
          ),
        );
      }, timeoutMs);
      this.waiter = (text) => {
        clearTimeout(timer);
        const lines = responseLines(text, command);
        const error = lines.find((l) =>
          ERROR_ANSWERS.some((e) => l === e || l.startsWith(`${e} `) || l.endsWith(e)),
        );
        if (error === 'NO DATA') {
          reject(new AgentError(AgentErrorCode.ObdNoData, `${command}: NO DATA`));
        } else if (error) {
          reject(new AgentError(AgentErrorCode.ObdAdapterError, `${command}: ${error}`));
        } else {
          resolve(lines);
        }
      };
      this.stream.write(`${command}\r`).catch((err: Error) => {
        clearTimeout(timer);
        this.waiter = undefined;
        reject(
          new AgentError(AgentErrorCode.PortClosed, `cannot write to ${this.stream.name}: ${err.message}`),
        );
      });
    });
  }
}
