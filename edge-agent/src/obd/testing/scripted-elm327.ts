/**
 * A scripted ELM327 for tests: a ByteStream whose answers come from a function of the command,
 * with the chip's usual AT answers as defaults (ATZ banner, OK for settings, ATI, ATRV, ATDPN).
 * It speaks the wire format (lines, CR, empty line, `>`), after a delay, so everything above the
 * transport runs as it would on a port. Multi-ECU vehicles, multi-frame answers, error answers
 * and odd adapters are one function away.
 */
import type { ByteStream } from '../../transport/byte-stream.ts';

export type ScriptedAnswer = string[] | { lines: string[]; delayMs?: number } | null;

export interface ScriptedElm327Options {
  /** ATI answer, default `ELM327 v1.5`. */
  identity?: string;
  /** STI answer (STN chips), default none (`?`). */
  stn?: string;
  /** ATRV answer, default `12.6V`. */
  voltage?: string;
  /** ATDPN answer, default `A6`. */
  protocol?: string;
  /** Per-answer delay, ms; default 1. */
  delayMs?: number;
}

export class ScriptedElm327 implements ByteStream {
  readonly name = 'scripted-elm327';
  readonly commands: string[] = [];
  private readonly dataListeners: ((chunk: Buffer) => void)[] = [];
  private readonly closeListeners: ((err?: Error) => void)[] = [];
  private line = '';
  closed = false;

  constructor(
    /** Return undefined to fall back to the defaults; null for silence (no prompt). */
    private readonly script: (command: string) => ScriptedAnswer | undefined,
    private readonly options: ScriptedElm327Options = {},
  ) {}

  async write(data: Buffer | string): Promise<void> {
    if (this.closed) throw new Error('port closed');
    this.line += data.toString();
    let cr = this.line.indexOf('\r');
    while (cr !== -1) {
      const command = this.line.slice(0, cr).trim().toUpperCase();
      this.line = this.line.slice(cr + 1);
      cr = this.line.indexOf('\r');
      this.commands.push(command);
      const scripted = this.script(command);
      const answer = scripted === undefined ? this.defaults(command) : scripted;
      if (answer === null) continue;
      const { lines, delayMs = this.options.delayMs ?? 1 } = Array.isArray(answer)
        ? { lines: answer }
        : answer;
      setTimeout(() => this.emit(`${lines.map((l) => `${l}\r`).join('')}\r>`), delayMs);
    }
  }

  /** Bytes the chip prints by itself. */
  emit(text: string | Uint8Array): void {
    if (this.closed) return;
    const chunk = typeof text === 'string' ? Buffer.from(text, 'latin1') : Buffer.from(text);
    for (const l of this.dataListeners) l(chunk);
  }

  private defaults(command: string): ScriptedAnswer {
    const identity = this.options.identity ?? 'ELM327 v1.5';
    if (command === 'ATZ' || command === 'ATWS') return ['', identity];
    if (command === 'ATI') return [identity];
    if (command === 'STI') return [this.options.stn ?? '?'];
    if (command === 'AT@1') return ['OBDII to RS232 Interpreter'];
    if (command === 'ATRV') return [this.options.voltage ?? '12.6V'];
    if (command === 'ATDPN') return [this.options.protocol ?? 'A6'];
    if (/^AT(E|L|S|H|AT)[0-2]$/.test(command) || /^ATSP[0-9A-C]$/.test(command) || /^ATST/.test(command))
      return ['OK'];
    if (command.startsWith('AT')) return ['?'];
    return ['NO DATA'];
  }

  onData(listener: (chunk: Buffer) => void): void {
    this.dataListeners.push(listener);
  }

  onClose(listener: (err?: Error) => void): void {
    this.closeListeners.push(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const l of this.closeListeners.splice(0)) l();
  }
}

const hex2 = (b: number) => b.toString(16).toUpperCase().padStart(2, '0');

/**
 * How an ELM327 prints one ECU message with headers on and spaces off (ATH1 ATS0) over CAN
 * 11-bit: a single frame, or ISO-TP first + consecutive frames padded with `pad`.
 */
export function canLines(ecu: string, data: readonly number[], pad = 0x00): string[] {
  if (data.length <= 7) return [`${ecu}${[data.length, ...data].map(hex2).join('')}`];
  const lines = [
    `${ecu}${[0x10 | (data.length >> 8), data.length & 0xff, ...data.slice(0, 6)].map(hex2).join('')}`,
  ];
  for (let off = 6, seq = 1; off < data.length; off += 7, seq++) {
    const chunk = [...data.slice(off, off + 7)];
    while (chunk.length < 7) chunk.push(pad);
    lines.push(`${ecu}${[0x20 | (seq & 0x0f), ...chunk].map(hex2).join('')}`);
  }
  return lines;
}
