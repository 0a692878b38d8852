/**
 * Bytes -> ELM327 responses. The ELM327 ends every response with the prompt `>` (ELM327 data
 * sheet, "Talking to the ELM327"), so a response is everything between two prompts. Junk from a
 * power glitch (non-ASCII bytes, NULs) is dropped and counted; a response that never ends is cut
 * at MAX_RESPONSE_BYTES so memory stays bounded whatever arrives on the wire.
 */
export const MAX_RESPONSE_BYTES = 4096;

export interface ResponseParserStats {
  responses: number;
  junkBytes: number;
  overflows: number;
}

export class Elm327ResponseParser {
  readonly stats: ResponseParserStats = { responses: 0, junkBytes: 0, overflows: 0 };
  private buffer = '';

  constructor(private readonly onResponse: (text: string) => void) {}

  push(chunk: Uint8Array): void {
    for (const byte of chunk) {
      if (byte === 0x3e /* > */) {
        this.stats.responses++;
        const text = this.buffer;
        this.buffer = '';
        this.onResponse(text);
        continue;
      }
      // Printable ASCII plus CR/LF is all an ELM327 ever sends.
      if ((byte < 0x20 && byte !== 0x0d && byte !== 0x0a) || byte > 0x7e) {
        this.stats.junkBytes++;
        continue;
      }
      if (this.buffer.length >= MAX_RESPONSE_BYTES) {
        this.stats.overflows++;
        this.stats.junkBytes += this.buffer.length;
        this.buffer = '';
      }
      this.buffer += String.fromCharCode(byte);
    }
  }

  /** Bytes received since the last prompt (e.g. a response still arriving). */
  get pending(): number {
    return this.buffer.length;
  }

  reset(): void {
    this.buffer = '';
  }
}

/**
 * Notes the ELM327 prints before the answer proper (data sheet, "Messages"): `SEARCHING...` while
 * the auto protocol search runs, `BUS INIT: ...OK` after an ISO 9141 / 14230 wake-up. They are not
 * data; their failing forms (`UNABLE TO CONNECT`, `BUS INIT: ...ERROR`) are kept as errors.
 */
const PROGRESS_NOTE = /^(SEARCHING\.{3}|BUS INIT:\s*(\.{3})?\s*OK)\s*/;

/**
 * Splits a response into its non-empty lines, dropping the echoed command and progress notes
 * (`SEARCHING...`, also when a lost CR glued it to the next line: `SEARCHING...41 00 ...`).
 */
export function responseLines(text: string, command?: string): string[] {
  const lines: string[] = [];
  for (const raw of text.split(/[\r\n]+/)) {
    let line = raw.trim();
    if (line.length === 0 || line === command) continue;
    for (let m = PROGRESS_NOTE.exec(line); m; m = PROGRESS_NOTE.exec(line)) line = line.slice(m[0].length);
    if (line.length > 0) lines.push(line);
  }
  return lines;
}
