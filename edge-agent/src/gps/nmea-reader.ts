import type { Logger } from '@fleet/shared/log';
import type { ByteStream } from '../transport/byte-stream.ts';
import { fixFromRmc, type GpsFix } from './nmea/rmc.ts';
import { parseNmeaSentence } from './nmea/sentence.ts';

/** NMEA 0183 §5.3: a sentence is at most 82 characters; anything longer is noise. */
const MAX_LINE = 164;

export interface NmeaReaderStats {
  sentences: number;
  badSentences: number;
  fixes: number;
}

/**
 * Raw NMEA over a serial port (Pi GPS hats) -> position fixes. Reopens the port after an unplug.
 */
export class NmeaReader {
  readonly stats: NmeaReaderStats = { sentences: 0, badSentences: 0, fixes: 0 };
  private buffer = '';
  private stopped = false;
  private stream: ByteStream | undefined;

  constructor(
    private readonly open: () => Promise<ByteStream>,
    private readonly onFix: (fix: GpsFix) => void,
    private readonly log: Logger,
    private readonly retryDelayMs = 2000,
  ) {}

  /** Feeds raw bytes; exposed for tests and for replaying a capture. */
  push(chunk: Buffer): void {
    this.buffer += chunk.toString('latin1');
    let nl = this.buffer.indexOf('\n');
    while (nl >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      this.line(line);
      nl = this.buffer.indexOf('\n');
    }
    if (this.buffer.length > MAX_LINE) {
      this.stats.badSentences++;
      this.buffer = '';
    }
  }

  private line(raw: string) {
    const line = raw.trim();
    if (!line) return;
    const parsed = parseNmeaSentence(line);
    if (!parsed.ok) {
      this.stats.badSentences++;
      this.log.debug({ reason: parsed.reason }, 'bad NMEA sentence dropped');
      return;
    }
    this.stats.sentences++;
    const fix = fixFromRmc(parsed.sentence);
    if (fix) {
      this.stats.fixes++;
      this.onFix(fix);
    }
  }

  async run(): Promise<void> {
    while (!this.stopped) {
      try {
        this.stream = await this.open();
        const closed = new Promise<void>((resolve) => this.stream?.onClose(() => resolve()));
        this.stream.onData((chunk) => this.push(chunk));
        this.log.info({ port: this.stream.name }, 'GPS (NMEA) port open');
        await closed;
        if (!this.stopped) this.log.warn({ port: this.stream.name }, 'GPS port closed; reopening');
      } catch (err) {
        if (!this.stopped) this.log.warn({ err: (err as Error).message }, 'GPS port unavailable; retrying');
      }
      this.buffer = '';
      if (!this.stopped) await new Promise((r) => setTimeout(r, this.retryDelayMs));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.stream?.close().catch(() => {});
  }
}
