/**
 *   serial / tcp ──bytes──▶ NmeaLineFramer ──line──▶ parseNmeaSentence ──▶ decodeSentence
 *   (ByteStream)             (bounded, resyncs       (checksum, address)    (RMC GGA GLL GNS VTG
 *                             on '$')                                        GSA GSV ZDA GST)
 *                                                                               │ observation
 *                                        onFix(GpsFix) ◀── NmeaEpochAssembler ◀─┘
 *                                        onNoFix(GpsNoFix)   (one epoch = one UTC time;
 *                                                             closed by the next time or
 *                                                             `epochIdleMs` of silence)
 *
 * Every line that is not a usable sentence is counted under its reason in `stats.bad`.
 */
import type { Logger } from '@fleet/shared/log';
import type { ByteStream } from '../transport/byte-stream.ts';
import { decodeSentence } from './nmea/decoders.ts';
import { type EpochOutcome, NmeaEpochAssembler, type NmeaEpochOptions } from './nmea/epoch.ts';
import { type FramerFault, NmeaLineFramer } from './nmea/line-framer.ts';
import type { GpsFix, GpsNoFix } from './nmea/rmc.ts';
import { type NmeaSentenceFault, parseNmeaSentence } from './nmea/sentence.ts';

/** Why a line or byte run was dropped. */
export type NmeaBadReason = FramerFault | Exclude<NmeaSentenceFault, 'no-start'> | 'bad-fields';

const BAD_REASONS: readonly NmeaBadReason[] = [
  'junk',
  'too-long',
  'truncated',
  'no-checksum',
  'bad-checksum-digits',
  'checksum-mismatch',
  'non-printable',
  'bad-address',
  'bad-fields',
];

export interface NmeaReaderStats {
  bytes: number;
  /** Well-formed sentences (checksum and fields good), used or not. */
  sentences: number;
  /** Well-formed sentences of a type no fix needs (TXT, GBS, proprietary, ...). */
  ignoredSentences: number;
  /** Sum of `bad`. */
  badSentences: number;
  bad: Record<NmeaBadReason, number>;
  epochs: number;
  fixes: number;
  /** Epochs where the receiver said it had no fix (or sent no position). */
  noFixEpochs: number;
  /** Epochs with a position but no date seen yet: nothing to time-stamp them with. */
  undatedEpochs: number;
  /** Sentences for an epoch already closed by the idle timer. */
  lateSentences: number;
}

export interface NmeaReaderOptions extends NmeaEpochOptions {
  /** [100...600000] ms between attempts to reopen the port, default: 2000. */
  retryDelayMs?: number;
  /**
   * [0...5000] ms of silence after which the open epoch is closed, default: 250. Receivers send
   * an epoch as one burst; 0 leaves closing to the next epoch's time and to flush().
   */
  epochIdleMs?: number;
  /** [16...4096] characters, default: 164. */
  maxLineLength?: number;
  /** Epochs without a fix, for a technician's display; samples are only made from fixes. */
  onNoFix?: (report: GpsNoFix) => void;
  /** Every closed epoch, whatever its outcome (diagnostics, replay tests). */
  onEpoch?: (outcome: EpochOutcome) => void;
}

export function emptyNmeaStats(): NmeaReaderStats {
  return {
    bytes: 0,
    sentences: 0,
    ignoredSentences: 0,
    badSentences: 0,
    bad: Object.fromEntries(BAD_REASONS.map((r) => [r, 0])) as Record<NmeaBadReason, number>,
    epochs: 0,
    fixes: 0,
    noFixEpochs: 0,
    undatedEpochs: 0,
    lateSentences: 0,
  };
}

/**
 * Raw NMEA over a serial port (Pi GPS hats) -> one fix per receiver epoch. Reopens the port
 * after an unplug. push()/flush() feed it directly (tests, replaying a capture).
 */
export class NmeaReader {
  readonly stats: NmeaReaderStats = emptyNmeaStats();
  private readonly framer: NmeaLineFramer;
  private readonly epochs: NmeaEpochAssembler;
  private readonly options: NmeaReaderOptions;
  private stopped = false;
  private stream: ByteStream | undefined;
  private idleTimer: NodeJS.Timeout | null = null;
  private wakeRetry: (() => void) | null = null;

  constructor(
    private readonly open: () => Promise<ByteStream>,
    private readonly onFix: (fix: GpsFix) => void,
    private readonly log: Logger,
    retryDelayOrOptions: number | NmeaReaderOptions = 2000,
  ) {
    this.options =
      typeof retryDelayOrOptions === 'number' ? { retryDelayMs: retryDelayOrOptions } : retryDelayOrOptions;
    this.framer = new NmeaLineFramer(this.options.maxLineLength ?? 164);
    this.epochs = new NmeaEpochAssembler(this.options);
  }

  /** Feeds raw bytes; exposed for tests and for replaying a capture. */
  push(chunk: Uint8Array): void {
    this.stats.bytes += chunk.length;
    this.framer.push(
      chunk,
      (line) => this.line(line),
      (fault) => this.bad(fault),
    );
  }

  /** Closes the epoch in progress now (end of a capture, or the line went quiet). */
  flush(): void {
    this.emit(this.epochs.close());
  }

  /** Characters of an unfinished line held in the bounded buffer. */
  get pendingLength(): number {
    return this.framer.pendingLength;
  }

  private line(line: string) {
    const parsed = parseNmeaSentence(line);
    if (!parsed.ok) {
      this.bad(parsed.fault === 'no-start' ? 'junk' : parsed.fault, parsed.reason);
      return;
    }
    const decoded = decodeSentence(parsed.sentence);
    if (typeof decoded === 'string') {
      this.bad('bad-fields', decoded);
      return;
    }
    this.stats.sentences++;
    if (decoded === null) {
      this.stats.ignoredSentences++;
      return;
    }
    const late = this.epochs.lateObservations;
    for (const outcome of this.epochs.add(decoded)) this.emit(outcome);
    if (this.epochs.lateObservations !== late) this.stats.lateSentences++;
  }

  private bad(reason: NmeaBadReason, detail?: string) {
    this.stats.bad[reason]++;
    this.stats.badSentences++;
    this.log.debug({ reason, detail }, 'bad NMEA input dropped');
  }

  private emit(outcome: EpochOutcome | null) {
    if (!outcome) return;
    this.stats.epochs++;
    this.options.onEpoch?.(outcome);
    if (outcome.kind === 'fix') {
      this.stats.fixes++;
      this.onFix(outcome.fix);
    } else if (outcome.kind === 'no-fix') {
      this.stats.noFixEpochs++;
      this.options.onNoFix?.(outcome.report);
    } else {
      this.stats.undatedEpochs++;
      this.log.debug({ timeOfDayMs: outcome.timeOfDayMs }, 'GPS position before any date; not recorded');
    }
  }

  /** Bytes from the port: push, then close the epoch once the burst is over. */
  private receive(chunk: Buffer) {
    this.push(chunk);
    const idleMs = this.options.epochIdleMs ?? 250;
    if (idleMs <= 0 || !this.epochs.pending) return;
    if (this.idleTimer) this.idleTimer.refresh();
    else this.idleTimer = setTimeout(() => this.onIdle(), idleMs);
  }

  private onIdle() {
    this.idleTimer = null;
    this.flush();
  }

  async run(): Promise<void> {
    while (!this.stopped) {
      try {
        this.stream = await this.open();
        const closed = new Promise<void>((resolve) => this.stream?.onClose(() => resolve()));
        this.stream.onData((chunk) => this.receive(chunk));
        this.log.info({ port: this.stream.name }, 'GPS (NMEA) port open');
        await closed;
        if (!this.stopped) this.log.warn({ port: this.stream.name }, 'GPS port closed; reopening');
      } catch (err) {
        if (!this.stopped) this.log.warn({ err: (err as Error).message }, 'GPS port unavailable; retrying');
      }
      this.flush();
      const cut = this.framer.reset();
      if (cut) this.bad(cut, 'port closed mid-sentence');
      this.epochs.reset();
      if (!this.stopped) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.options.retryDelayMs ?? 2000);
          this.wakeRetry = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wakeRetry = null;
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    this.wakeRetry?.();
    await this.stream?.close().catch(() => {});
    this.flush();
  }
}
