import { describe, expect, it } from 'vitest';
import { formatKlineResponse } from './kline-format.ts';

const msg = (...bytes: number[]) => Uint8Array.from(bytes);

describe('formatKlineResponse', () => {
  it('prints ISO 9141-2 messages with 48 6B 10 headers and the checksum', () => {
    expect(formatKlineResponse([msg(0x41, 0x0d, 0x32)], { headers: true, spaces: true }, 3)).toEqual([
      '48 6B 10 41 0D 32 43 ',
    ]);
    expect(formatKlineResponse([msg(0x41, 0x0d, 0x32)], { headers: false, spaces: true }, 3)).toEqual([
      '41 0D 32 ',
    ]);
    expect(formatKlineResponse([msg(0x41, 0x0d, 0x32)], { headers: true, spaces: false }, 3)).toEqual([
      '486B10410D3243',
    ]);
  });

  it('prints ISO 14230-4 messages with a length-carrying format byte', () => {
    expect(
      formatKlineResponse(
        [msg(0x41, 0x0c, 0x1a, 0xf8), msg(0x41, 0x0d, 0x32)],
        { headers: true, spaces: true },
        5,
      ),
    ).toEqual(['84 F1 10 41 0C 1A F8 E4 ', '83 F1 10 41 0D 32 04 ']);
  });
});
