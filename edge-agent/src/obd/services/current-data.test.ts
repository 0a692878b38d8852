import { mulberry32 } from '@fleet/shared/testing';
import { describe, expect, it } from 'vitest';
import {
  batchPids,
  decodePid,
  expectedReplies,
  framesFor,
  MAX_PIDS_PER_REQUEST,
  mode01Command,
  splitMode01,
} from './current-data.ts';

/** Data of each PID as an ECU would put it after the PID number (lengths per J1979-DA). */
const SAMPLE: Record<number, number[]> = {
  4: [0x80],
  5: [0x7b],
  12: [0x1a, 0xf8],
  13: [0x32],
  16: [0x01, 0x2c],
  17: [0x33],
  31: [0x01, 0x00],
  47: [0xcc],
  66: [0x31, 0x0a],
  94: [0x00, 0xc8],
  166: [0x00, 0x0c, 0x9d, 0x64],
  1: [0x00, 0x07, 0x65, 0x00],
  100: [0x7d, 0x96, 0xaf, 0xc8, 0xff],
  36: [0x80, 0x00, 0x80, 0x00],
};

describe('splitMode01: multi-PID answers split by each PID’s length', () => {
  it('splits the answer in request order', () => {
    const { values, error } = splitMode01([0x41, 0x0c, 0x1a, 0xf8, 0x0d, 0x32, 0x2f, 0xcc]);
    expect(error).toBeNull();
    expect([...values]).toEqual([
      [0x0c, [0x1a, 0xf8]],
      [0x0d, [0x32]],
      [0x2f, [0xcc]],
    ]);
  });

  it('splits any order the ECU chooses (J1979: order not guaranteed), 2000 shuffled answers', () => {
    const rand = mulberry32(42);
    const pids = Object.keys(SAMPLE).map(Number);
    for (let n = 0; n < 2000; n++) {
      // Up to six distinct PIDs, in random order.
      const chosen = [...pids]
        .sort(() => rand() - 0.5)
        .slice(0, 1 + Math.floor(rand() * MAX_PIDS_PER_REQUEST));
      const answer = [0x41, ...chosen.flatMap((p) => [p, ...SAMPLE[p]!])];
      const { values, error } = splitMode01(answer);
      expect(error).toBeNull();
      expect([...values.keys()]).toEqual(chosen);
      for (const p of chosen) expect(values.get(p)).toEqual(SAMPLE[p]);
    }
  });

  it('stops with an error at a truncated PID and keeps what came before', () => {
    const { values, error } = splitMode01([0x41, 0x0d, 0x32, 0x0c, 0x1a]);
    expect([...values.keys()]).toEqual([0x0d]);
    expect(error).toMatch(/0C truncated/);
  });

  it('stops at a PID of unknown length inside a multi-PID answer', () => {
    const { values, error } = splitMode01([0x41, 0x0d, 0x32, 0x96, 0x01, 0x0c, 0x1a, 0xf8]);
    expect([...values.keys()]).toEqual([0x0d]);
    expect(error).toMatch(/96 of unknown length/);
  });

  it('gives a PID of variable length (C3) the rest of an answer it is alone in', () => {
    expect(splitMode01([0x41, 0xc3, 0x01, 0x02, 0x03]).values.get(0xc3)).toEqual([1, 2, 3]);
  });

  it('refuses answers of another service', () => {
    expect(splitMode01([0x42, 0x0d, 0x32]).error).toMatch(/not a service 01/);
  });

  it('decodes split data; unknown PIDs as hex', () => {
    expect(decodePid(0x0c, [0x1a, 0xf8])).toBe(1726); // (256*26 + 248) / 4
    expect(decodePid(0x96, [0xab, 0x01])).toBe('AB01');
  });
});

describe('requests and reply counts', () => {
  it('builds 01 + up to six PIDs', () => {
    expect(mode01Command([0x0c, 0x0d, 0x11, 0x10, 0x0f, 0x05])).toBe('010C0D11100F05');
  });

  it('packs PIDs six per request on CAN, one per request elsewhere, variable-length alone', () => {
    const pids = [0x0c, 0x0d, 0x11, 0x10, 0x5e, 0x04, 0x2f, 0x05, 0xc3, 0x0f];
    expect(batchPids(pids, true)).toEqual([[0x0c, 0x0d, 0x11, 0x10, 0x5e, 0x04], [0xc3], [0x2f, 0x05, 0x0f]]);
    expect(batchPids([0x0c, 0x0d], false)).toEqual([[0x0c], [0x0d]]);
  });

  it('counts ISO-TP frames: up to 7 bytes is one, then 6 + 7 per consecutive frame', () => {
    expect(framesFor(1)).toBe(1);
    expect(framesFor(7)).toBe(1);
    expect(framesFor(8)).toBe(2);
    expect(framesFor(13)).toBe(2); // 6 + 7
    expect(framesFor(14)).toBe(3);
    expect(framesFor(20)).toBe(3); // the VIN: 6 + 7 + 7
  });

  it('expects one frame per ECU per short answer, more for long ones', () => {
    const engine = new Set([0x0c, 0x0d, 0x11, 0x10, 0x05, 0x0f, 0x2f]);
    const transmission = new Set([0x0d]);
    const one = new Map([['7E8', engine]]);
    // 41 0C a b: 4 bytes -> 1 frame.
    expect(expectedReplies([0x0c], one)).toBe(1);
    // 41 0C ab 0D a 11 a 10 ab 05 a 0F a = 1 + 3 + 2 + 2 + 3 + 2 + 2 = 15 bytes -> 3 frames.
    expect(expectedReplies([0x0c, 0x0d, 0x11, 0x10, 0x05, 0x0f], one)).toBe(3);
    const two = new Map([
      ['7E8', engine],
      ['7E9', transmission],
    ]);
    // The transmission also answers 0D: 41 0D a = 3 bytes, one more frame.
    expect(expectedReplies([0x0c, 0x0d], two)).toBe(2);
    expect(expectedReplies([0x0c], two)).toBe(1);
    // Nobody supports 5E: no answer to count on.
    expect(expectedReplies([0x5e], two)).toBeNull();
    expect(expectedReplies([0x0c], new Map())).toBeNull();
    // Variable length: unknown.
    expect(expectedReplies([0xc3], new Map([['7E8', new Set([0xc3])]]))).toBeNull();
  });
});
