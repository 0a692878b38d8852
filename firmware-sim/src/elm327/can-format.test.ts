import { describe, expect, it } from 'vitest';
import { formatCanResponse } from './can-format.ts';

const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);

describe('formatCanResponse', () => {
  it('prints a single frame with and without headers and spaces', () => {
    const p = bytes(0x41, 0x0d, 0x32);
    expect(formatCanResponse(p, { headers: false, spaces: true })).toEqual(['41 0D 32 ']);
    expect(formatCanResponse(p, { headers: false, spaces: false })).toEqual(['410D32']);
    expect(formatCanResponse(p, { headers: true, spaces: true })).toEqual(['7E8 03 41 0D 32 ']);
    expect(formatCanResponse(p, { headers: true, spaces: false })).toEqual(['7E803410D32']);
  });

  it('keeps 7 bytes in a single frame', () => {
    const p = bytes(0x41, 0x00, 0x98, 0x1b, 0x80, 0x03, 0x0d);
    expect(formatCanResponse(p, { headers: true, spaces: false })).toEqual(['7E8074100981B80030D']);
  });

  it('splits longer answers into ISO-TP first and consecutive frames', () => {
    const p = bytes(0x41, 0x0c, 0x1a, 0xf8, 0x0d, 0x32, 0x2f, 0x80);
    expect(formatCanResponse(p, { headers: false, spaces: true })).toEqual([
      '008',
      '0: 41 0C 1A F8 0D 32 ',
      '1: 2F 80 00 00 00 00 00 ',
    ]);
    expect(formatCanResponse(p, { headers: true, spaces: true })).toEqual([
      '7E8 10 08 41 0C 1A F8 0D 32 ',
      '7E8 21 2F 80 00 00 00 00 00 ',
    ]);
    expect(formatCanResponse(p, { headers: false, spaces: false })).toEqual([
      '008',
      '0:410C1AF80D32',
      '1:2F800000000000',
    ]);
  });

  it('wraps the consecutive frame sequence number after F', () => {
    const p = new Uint8Array(6 + 7 * 17).fill(0x11);
    const lines = formatCanResponse(p, { headers: true, spaces: false });
    expect(lines).toHaveLength(18);
    expect(lines[15]!.slice(3, 5)).toBe('2F');
    expect(lines[16]!.slice(3, 5)).toBe('20');
    expect(lines[17]!.slice(3, 5)).toBe('21');
  });
});
