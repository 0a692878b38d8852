/**
 * Property-based fuzzing (fast-check, fixed seeds, thousands of runs) of the receive path:
 * bytes -> Elm327ResponseParser -> answer lines -> answerError -> assembleMessages. Random bytes,
 * and well-formed multi-ECU ISO-TP answers corrupted the ways a serial line and a glitching
 * adapter corrupt them. Properties: nothing throws, memory stays bounded, every line is counted
 * exactly once (delivered + ignored + bad), every corruption that can be seen is counted as a bad
 * frame, and no corrupted payload is ever delivered.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { answerError } from '../elm327/answers.ts';
import { Elm327ResponseParser, MAX_RESPONSE_BYTES, responseLines } from '../elm327/response-parser.ts';
import {
  type AssemblerOptions,
  type AssemblyStats,
  assembleMessages,
  newAssemblyStats,
} from './assembler.ts';

const hex2 = (b: number) => b.toString(16).toUpperCase().padStart(2, '0');
const CAN11: AssemblerOptions = { format: 'can11', headers: true };
const accounted = (s: AssemblyStats) => s.delivered + s.ignored + s.badFrames === s.lines;

/** ISO-TP frames of one message as an ELM327 prints them with headers on (CAN 11-bit). */
function canFrames(ecu: string, data: readonly number[], padSingle: boolean, spaces: boolean): string[] {
  const line = (b: number[]) =>
    spaces ? `${ecu} ${b.map(hex2).join(' ')}` : `${ecu}${b.map(hex2).join('')}`;
  if (data.length <= 7) {
    const frame = [data.length, ...data];
    // ISO 15765-4 ECUs pad single frames to 8 bytes; the adapter shows the padding.
    if (padSingle) while (frame.length < 8) frame.push(0xaa);
    return [line(frame)];
  }
  const out = [line([0x10 | (data.length >> 8), data.length & 0xff, ...data.slice(0, 6)])];
  for (let off = 6, seq = 1; off < data.length; off += 7, seq++) {
    const chunk = data.slice(off, off + 7);
    while (chunk.length < 7) chunk.push(0x00);
    out.push(line([0x20 | (seq & 0xf), ...chunk]));
  }
  return out;
}

interface Answer {
  lines: string[];
  /** For each ECU: its message and the indexes of its lines. */
  originals: { ecu: string; data: number[]; lines: number[] }[];
}

/** Up to three ECUs, each one message of 1...130 bytes, their frames interleaved. */
const answerArb: fc.Arbitrary<Answer> = fc
  .record({
    payloads: fc.array(fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 130 }), {
      minLength: 1,
      maxLength: 3,
    }),
    interleave: fc.array(fc.nat({ max: 2 }), { minLength: 64, maxLength: 64 }),
    padSingle: fc.boolean(),
    spaces: fc.boolean(),
  })
  .map(({ payloads, interleave, padSingle, spaces }) => {
    const frames = payloads.map((data, i) =>
      canFrames((0x7e8 + i).toString(16).toUpperCase(), data, padSingle, spaces),
    );
    const originals = payloads.map((data, i) => ({
      ecu: (0x7e8 + i).toString(16).toUpperCase(),
      data,
      lines: [] as number[],
    }));
    const cursors = frames.map(() => 0);
    const lines: string[] = [];
    let k = 0;
    while (cursors.some((c, i) => c < frames[i]!.length)) {
      // The interleaving choice, falling back to the first ECU with frames left.
      let i = (interleave[k++ % interleave.length] ?? 0) % frames.length;
      if (cursors[i]! >= frames[i]!.length) i = cursors.findIndex((c, j) => c < frames[j]!.length);
      originals[i]!.lines.push(lines.length);
      lines.push(frames[i]![cursors[i]!++]!);
    }
    return { lines, originals };
  });

type Mutation =
  | { kind: 'none' }
  | { kind: 'drop'; at: number }
  | { kind: 'duplicate'; at: number }
  | { kind: 'swap'; at: number }
  | { kind: 'truncate'; at: number; cut: number }
  | { kind: 'garble'; at: number; pos: number; char: string }
  | { kind: 'junk'; at: number; text: string }
  | { kind: 'cut-answer'; at: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constant({ kind: 'none' as const }),
  fc.record({ kind: fc.constant('drop' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('swap' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat(), cut: fc.integer({ min: 1, max: 8 }) }),
  fc.record({
    kind: fc.constant('garble' as const),
    at: fc.nat(),
    pos: fc.nat(),
    char: fc.constantFrom('G', 'Z', '#', '.', '<', '\u00ff'),
  }),
  fc.record({
    kind: fc.constant('junk' as const),
    at: fc.nat(),
    text: fc.string({ minLength: 1, maxLength: 20 }).filter((t) => t.trim().length > 0 && !/[\r\n]/.test(t)),
  }),
  fc.record({ kind: fc.constant('cut-answer' as const), at: fc.nat() }),
);

/** The corrupted lines, and which original line indexes the corruption touched. */
function apply(lines: readonly string[], m: Mutation): { lines: string[]; touched: Set<number> } {
  const out = [...lines];
  const touched = new Set<number>();
  const i = 'at' in m ? m.at % out.length : 0;
  switch (m.kind) {
    case 'none':
      break;
    case 'drop':
      touched.add(i);
      out.splice(i, 1);
      break;
    case 'duplicate':
      touched.add(i);
      out.splice(i, 0, out[i]!);
      break;
    case 'swap':
      if (out.length >= 2) {
        const j = Math.min(i, out.length - 2);
        touched.add(j).add(j + 1);
        [out[j], out[j + 1]] = [out[j + 1]!, out[j]!];
      }
      break;
    case 'truncate':
      touched.add(i);
      out[i] = out[i]!.slice(0, Math.max(0, out[i]!.length - m.cut));
      break;
    case 'garble': {
      touched.add(i);
      const pos = m.pos % out[i]!.length;
      out[i] = `${out[i]!.slice(0, pos)}${m.char}${out[i]!.slice(pos + 1)}`;
      break;
    }
    case 'junk':
      out.splice(i, 0, m.text);
      break;
    case 'cut-answer':
      for (let k = i; k < out.length; k++) touched.add(k);
      out.length = i;
      break;
  }
  return { lines: out, touched };
}

const same = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

describe('fuzz (fast-check): ISO-TP assembly of corrupted multi-ECU answers', () => {
  it('accounts for every line, counts visible corruption, never delivers a corrupted payload', () => {
    fc.assert(
      fc.property(answerArb, mutationArb, (answer, mutation) => {
        const { lines, touched } = apply(answer.lines, mutation);
        const stats = newAssemblyStats();
        const messages = assembleMessages(lines, CAN11, stats);
        expect(stats.lines).toBe(lines.filter((l) => l.trim()).length);
        expect(accounted(stats)).toBe(true);
        // Whatever is delivered is an original message, byte for byte.
        for (const m of messages) {
          expect(answer.originals.some((o) => o.ecu === m.ecu && same(o.data, m.data))).toBe(true);
        }
        // Messages whose lines were not touched come through (the other ECUs are unaffected).
        const shifted = mutation.kind === 'drop' || mutation.kind === 'duplicate' || mutation.kind === 'junk';
        for (const o of answer.originals) {
          const hit = o.lines.some((l) => touched.has(l));
          if (!hit && !shifted)
            expect(messages.some((m) => m.ecu === o.ecu && same(m.data, o.data))).toBe(true);
        }
        if (mutation.kind === 'none') expect(stats.badFrames).toBe(0);
        // A garbled character makes the line unreadable: counted.
        if (mutation.kind === 'garble') expect(stats.badFrames).toBeGreaterThan(0);
        // A message that lost a frame is not delivered, and its remaining frames are counted bad.
        if (mutation.kind === 'drop') {
          const victim = answer.originals.find((o) => o.lines.includes(mutation.at % answer.lines.length))!;
          if (victim.lines.length > 1) {
            expect(messages.some((m) => m.ecu === victim.ecu)).toBe(false);
            expect(stats.badFrames).toBeGreaterThanOrEqual(1);
          }
        }
      }),
      { numRuns: 4000, seed: 0xc0ffee },
    );
  });
});

/** Noise bytes, half of them characters an ELM327 prints, so frames and prompts do occur. */
const ELM_ALPHABET = [...'0123456789ABCDEF 7E8:>\r\n?.SEARCHINGNO DATA<RX ERROR'].map((c) => c.charCodeAt(0));
const noiseArb = (maxLength: number) =>
  fc
    .array(fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(...ELM_ALPHABET)), { maxLength })
    .map((a) => Uint8Array.from(a));

function receive(bytes: Uint8Array, chunks: readonly number[]) {
  const responses: string[] = [];
  const parser = new Elm327ResponseParser((t) => responses.push(t));
  let i = 0;
  for (let c = 0; i < bytes.length; c++) {
    const size = chunks.length > 0 ? chunks[c % chunks.length]! : bytes.length;
    parser.push(bytes.subarray(i, i + size));
    i += size;
    expect(parser.pending).toBeLessThanOrEqual(MAX_RESPONSE_BYTES);
  }
  return { parser, responses };
}

describe('fuzz (fast-check): random bytes through the whole receive path', () => {
  it('never throws, keeps memory bounded, counts every line in every frame format', () => {
    fc.assert(
      fc.property(
        noiseArb(800),
        fc.array(fc.integer({ min: 1, max: 64 }), { maxLength: 16 }),
        (bytes, chunks) => {
          const { parser, responses } = receive(bytes, chunks);
          expect(parser.stats.responses).toBe(responses.length);
          for (const text of responses) {
            expect(text.length).toBeLessThanOrEqual(MAX_RESPONSE_BYTES);
            const lines = responseLines(text, '0100');
            answerError('0100', lines);
            for (const format of ['can11', 'can29', 'legacy', 'auto'] as const) {
              for (const headers of [true, false]) {
                const stats = newAssemblyStats();
                const messages = assembleMessages(lines, { format, headers }, stats);
                expect(accounted(stats)).toBe(true);
                for (const m of messages) expect(m.data.length).toBeLessThanOrEqual(0xfff);
              }
            }
          }
        },
      ),
      { numRuns: 3000, seed: 0x0bd2 },
    );
  });

  it('cuts never-ending input at MAX_RESPONSE_BYTES and counts the overflow', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 5000, maxLength: 20_000 }), (bytes) => {
        // No prompt at all: a babbling line (wrong baud rate, a GPS on the wrong port).
        const clean = bytes.map((b) => (b === 0x3e ? 0x41 : b));
        const { parser, responses } = receive(clean, [512]);
        expect(responses).toEqual([]);
        expect(parser.pending).toBeLessThanOrEqual(MAX_RESPONSE_BYTES);
        const printable = clean.filter((b) => (b >= 0x20 && b <= 0x7e) || b === 0x0d || b === 0x0a).length;
        if (printable > MAX_RESPONSE_BYTES) expect(parser.stats.overflows).toBeGreaterThan(0);
        expect(parser.stats.junkBytes + parser.pending).toBe(clean.length);
      }),
      { numRuns: 60, seed: 7 },
    );
  });
});
