/**
 * Bytes -> candidate NMEA lines, with a bounded buffer. A line starts at `$` and ends at CR or
 * LF (NMEA 0183 §5.3); everything outside a line is junk (binary UBX/SiRF frames, a receiver's
 * boot banner, line noise). A `$` inside a line starts a new one, as in gpsd's lexer, so a
 * sentence cut short by a power glitch never swallows the next good one.
 *
 * Every discarded run is reported once: `junk` (bytes outside any sentence, one report per run
 * or per `maxLength` bytes of it), `too-long` (no line end within `maxLength`), `truncated` (a
 * new `$` before the line ended).
 */
export type FramerFault = 'junk' | 'too-long' | 'truncated';

const DOLLAR = 0x24;
const CR = 0x0d;
const LF = 0x0a;

export class NmeaLineFramer {
  private readonly line: Buffer;
  private length = 0;
  private junk = 0;
  /** Inside a line that grew too long: skip to its end without reporting it again. */
  private discarding = false;

  /** [16...4096], default 164: NMEA allows 82 characters; twice that covers proprietary ones. */
  constructor(readonly maxLength = 164) {
    this.line = Buffer.alloc(maxLength);
  }

  /** Bytes held for an unfinished line (never more than maxLength). */
  get pendingLength(): number {
    return this.length;
  }

  push(chunk: Uint8Array, onLine: (line: string) => void, onFault: (fault: FramerFault) => void): void {
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (b === DOLLAR) {
        if (this.length > 0) onFault('truncated');
        this.flushJunk(onFault);
        this.discarding = false;
        this.line[0] = b;
        this.length = 1;
      } else if (b === CR || b === LF) {
        if (this.length > 0) {
          const text = this.line.toString('latin1', 0, this.length);
          this.length = 0;
          onLine(text);
        }
        this.flushJunk(onFault);
        this.discarding = false;
      } else if (this.length > 0) {
        if (this.length >= this.maxLength) {
          onFault('too-long');
          this.length = 0;
          this.discarding = true;
        } else {
          this.line[this.length++] = b;
        }
      } else if (!this.discarding && b !== 0x20 && b !== 0x09) {
        if (++this.junk >= this.maxLength) this.flushJunk(onFault);
      }
    }
  }

  /** Forgets a partial line (the port went away); returns the fault it amounts to, if any. */
  reset(): FramerFault | null {
    const fault: FramerFault | null = this.length > 0 ? 'truncated' : this.junk > 0 ? 'junk' : null;
    this.length = 0;
    this.junk = 0;
    this.discarding = false;
    return fault;
  }

  private flushJunk(onFault: (fault: FramerFault) => void): void {
    if (this.junk > 0) onFault('junk');
    this.junk = 0;
  }
}
