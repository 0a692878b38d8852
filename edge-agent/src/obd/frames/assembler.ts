/**
 *   answer lines --parse--> frames (ECU id, PCI, bytes) --per ECU--> ISO-TP reassembly --> messages
 *        |                       |                                      |
 *        +-- garbage: badFrames  +-- out of sequence, wrong size: badFrames (with the message)
 *
 * How an ELM327 prints what the ECUs sent (data sheet, "Multiline Responses"; ISO 15765-2):
 *
 *   headers on, CAN 11-bit   7E8 10 14 49 02 01 31 44 34     first frame: PCI 1, length 0x014
 *                            7E8 21 47 50 30 30 52 35 35     consecutive frame, sequence 1
 *                            7E9 03 41 0D 32                 single frame (PCI 0, length 3)
 *   headers on, CAN 29-bit   18DAF110 03 41 0D 32
 *   headers on, J1850/ISO    48 6B 10 41 0D 32 C4            3 header bytes, data, checksum
 *   headers off, CAN         014 / 0: 49 02 01 31 44 34 / 1: 47 50 ...   (length, numbered lines)
 *   headers off, single      41 0D 32
 *
 * Every line is accounted for exactly once: delivered (part of a returned message), ignored
 * (flow control), or bad (malformed, out of sequence, or part of a message that never completed).
 * Memory is bounded: one message in progress per ECU, at most MAX_ECUS of them, each at most 4095
 * bytes (the 12-bit ISO-TP length).
 */
import type { FrameFormat } from '../elm327/protocols.ts';

export interface EcuMessage {
  /** Who answered: `7E8` (CAN 11-bit), `18DAF110` (29-bit), `10` (J1850/ISO source), `` (headers off). */
  ecu: string;
  /** The service answer (`41 0D 32`): PCI, padding and checksum removed. */
  data: number[];
}

export interface AssemblyStats {
  /** Non-empty lines handed in. */
  lines: number;
  /** Lines that became part of a returned message. */
  delivered: number;
  /** Flow-control frames: legal, carry no data. */
  ignored: number;
  /** Lines thrown away: not a frame, out of sequence, wrong size, or of an incomplete message. */
  badFrames: number;
  messages: number;
}

export const newAssemblyStats = (): AssemblyStats => ({
  lines: 0,
  delivered: 0,
  ignored: 0,
  badFrames: 0,
  messages: 0,
});

export interface AssemblerOptions {
  /** From the protocol (ATDPN); 'auto' guesses per line when it is not known yet. */
  format: FrameFormat | 'auto';
  /** ATH1 in effect. */
  headers: boolean;
}

/** More ECUs than this in one answer is noise, not a vehicle (OBD allows 8 on CAN). */
export const MAX_ECUS = 32;
/** ISO 15765-2 first frame: 12-bit length. */
const MAX_MESSAGE = 0xfff;

interface Pending {
  total: number;
  data: number[];
  nextSeq: number;
  frames: number;
}

type Frame =
  | { kind: 'single'; ecu: string; data: number[] }
  | { kind: 'first'; ecu: string; total: number; data: number[] }
  | { kind: 'consecutive'; ecu: string; seq: number; data: number[] }
  | { kind: 'flow-control' }
  | { kind: 'length'; total: number }
  | { kind: 'bad'; reason: string };

const HEX_PAIRS = /^(?:[0-9A-F]{2})+$/;

function bytesOf(hex: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < hex.length; i += 2) out.push(Number.parseInt(hex.slice(i, i + 2), 16));
  return out;
}

/** A CAN frame's bytes after the identifier: the PCI byte says what it is (ISO 15765-2 9.6). */
function canFrame(ecu: string, bytes: number[]): Frame {
  const pci = bytes[0];
  if (pci === undefined || bytes.length > 8) return { kind: 'bad', reason: 'CAN frame size' };
  switch (pci >> 4) {
    case 0: {
      const len = pci & 0x0f;
      if (len === 0 || len > bytes.length - 1) return { kind: 'bad', reason: 'single frame length' };
      return { kind: 'single', ecu, data: bytes.slice(1, 1 + len) };
    }
    case 1: {
      const total = ((pci & 0x0f) << 8) | (bytes[1] ?? 0);
      // A first frame fills the CAN frame and announces more than a single frame can carry.
      if (bytes.length !== 8 || total < 8) return { kind: 'bad', reason: 'first frame' };
      return { kind: 'first', ecu, total, data: bytes.slice(2) };
    }
    case 2:
      if (bytes.length < 2) return { kind: 'bad', reason: 'consecutive frame size' };
      return { kind: 'consecutive', ecu, seq: pci & 0x0f, data: bytes.slice(1) };
    case 3:
      return { kind: 'flow-control' };
    default:
      return { kind: 'bad', reason: 'PCI type' };
  }
}

function parseLine(line: string, options: AssemblerOptions): Frame {
  const compact = line.replace(/\s+/g, '').toUpperCase();
  // Headers off, CAN formatting (ATCAF1): "014" then "0:..." "1:...".
  const numbered = /^([0-9A-F]):([0-9A-F]*)$/.exec(compact);
  if (numbered) {
    if (!HEX_PAIRS.test(numbered[2]!)) return { kind: 'bad', reason: 'numbered line' };
    const seq = Number.parseInt(numbered[1]!, 16);
    const data = bytesOf(numbered[2]!);
    return seq === 0 && data.length === 6
      ? { kind: 'first', ecu: '', total: -1, data }
      : seq === 0
        ? { kind: 'bad', reason: 'first numbered line size' }
        : { kind: 'consecutive', ecu: '', seq, data };
  }
  if (/^[0-9A-F]{3}$/.test(compact)) {
    const total = Number.parseInt(compact, 16);
    return total >= 8 ? { kind: 'length', total } : { kind: 'bad', reason: 'length line' };
  }
  if (!/^[0-9A-F]+$/.test(compact)) return { kind: 'bad', reason: 'not hex' };

  let format = options.format;
  if (!options.headers) {
    if (compact.length % 2 !== 0) return { kind: 'bad', reason: 'odd hex digits' };
    return { kind: 'single', ecu: '', data: bytesOf(compact) };
  }
  if (format === 'auto')
    format = compact.length % 2 === 1 ? 'can11' : /^18DA/.test(compact) ? 'can29' : 'legacy';
  if (format === 'can11') {
    if (compact.length % 2 !== 1 || compact.length < 5) return { kind: 'bad', reason: 'CAN 11-bit frame' };
    return canFrame(compact.slice(0, 3), bytesOf(compact.slice(3)));
  }
  if (format === 'can29') {
    if (compact.length % 2 !== 0 || compact.length < 10) return { kind: 'bad', reason: 'CAN 29-bit frame' };
    return canFrame(compact.slice(0, 8), bytesOf(compact.slice(8)));
  }
  // J1850 / ISO 9141 / ISO 14230: priority, target, source, data..., checksum (checked by the chip).
  if (compact.length % 2 !== 0 || compact.length < 10) return { kind: 'bad', reason: 'legacy frame' };
  const bytes = bytesOf(compact);
  return {
    kind: 'single',
    ecu: bytes[2]!.toString(16).toUpperCase().padStart(2, '0'),
    data: bytes.slice(3, -1),
  };
}

/**
 * Assembles one answer's lines into messages, in order of completion. `stats` accumulates across
 * calls (a session keeps one); every line ends up counted in exactly one of its buckets.
 */
export function assembleMessages(
  lines: readonly string[],
  options: AssemblerOptions,
  stats: AssemblyStats = newAssemblyStats(),
): EcuMessage[] {
  const messages: EcuMessage[] = [];
  const pending = new Map<string, Pending>();
  /** Headers off: the "014" line announces the next numbered message's length. */
  let announced: number | null = null;

  const abandon = (ecu: string) => {
    const p = pending.get(ecu);
    if (!p) return;
    stats.badFrames += p.frames;
    pending.delete(ecu);
  };
  const deliver = (ecu: string, data: number[], frames: number) => {
    messages.push({ ecu, data });
    stats.messages++;
    stats.delivered += frames;
  };

  for (const line of lines) {
    if (line.trim().length === 0) continue;
    stats.lines++;
    const frame = parseLine(line, options);
    switch (frame.kind) {
      case 'bad':
        stats.badFrames++;
        break;
      case 'flow-control':
        stats.ignored++;
        break;
      case 'length':
        // A second length line before the first message completed: that message is lost.
        abandon('');
        if (announced !== null) stats.badFrames++;
        announced = frame.total;
        // Counted with the message it announces (delivered or bad).
        break;
      case 'single':
        if (frame.ecu !== '') abandon(frame.ecu);
        deliver(frame.ecu, frame.data, 1);
        break;
      case 'first': {
        let total = frame.total;
        let frames = 1;
        if (frame.ecu === '') {
          if (announced === null) {
            stats.badFrames++;
            break;
          }
          total = announced;
          announced = null;
          frames = 2; // the length line and line 0
        }
        abandon(frame.ecu);
        if (!pending.has(frame.ecu) && pending.size >= MAX_ECUS) {
          stats.badFrames += frames;
          break;
        }
        pending.set(frame.ecu, { total: Math.min(total, MAX_MESSAGE), data: frame.data, nextSeq: 1, frames });
        break;
      }
      case 'consecutive': {
        const p = pending.get(frame.ecu);
        if (!p) {
          stats.badFrames++;
          break;
        }
        const remaining = p.total - p.data.length;
        // Every consecutive frame but the last fills its CAN frame (7 bytes); the last carries at
        // least what is missing (the rest is padding). Anything else is a lost or cut frame.
        const sizeOk = frame.data.length === 7 || (frame.data.length >= remaining && frame.data.length <= 7);
        if (frame.seq !== p.nextSeq || !sizeOk) {
          stats.badFrames++;
          abandon(frame.ecu);
          break;
        }
        p.data.push(...frame.data);
        p.frames++;
        p.nextSeq = (p.nextSeq + 1) & 0x0f;
        if (p.data.length >= p.total) {
          pending.delete(frame.ecu);
          deliver(frame.ecu, p.data.slice(0, p.total), p.frames);
        }
        break;
      }
    }
  }
  // The prompt ended the answer: whatever is still incomplete will never complete.
  for (const ecu of [...pending.keys()]) abandon(ecu);
  if (announced !== null) stats.badFrames++;
  return messages;
}
