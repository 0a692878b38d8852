import { describe, expect, it } from 'vitest';
import { isSimError, SimErrorCode } from '../errors.ts';
import { DiagnosticMemory, encodeDtc, normaliseDtc } from './diagnostics.ts';

describe('DiagnosticMemory', () => {
  it('moves a code from pending to stored and permanent; service 04 clears all but permanent', () => {
    const memory = new DiagnosticMemory();
    const cleared: string[][] = [];
    memory.onClear((codes) => cleared.push([...codes]));
    memory.setPending('p0133');
    expect([memory.pending, memory.stored, memory.milOn]).toEqual([['P0133'], [], false]);
    memory.store('P0133');
    memory.store('P0133');
    expect([memory.pending, memory.stored, memory.permanent, memory.milOn]).toEqual([
      [],
      ['P0133'],
      ['P0133'],
      true,
    ]);
    memory.clear();
    expect([memory.stored, memory.permanent, memory.milOn]).toEqual([[], ['P0133'], false]);
    expect(cleared).toEqual([['P0133']]);
  });

  it('encodes P/C/B/U codes per SAE J2012 and refuses anything else', () => {
    expect(encodeDtc('P0133')).toEqual([0x01, 0x33]);
    expect(encodeDtc('C0035')).toEqual([0x40, 0x35]);
    expect(encodeDtc('B1234')).toEqual([0x92, 0x34]);
    expect(encodeDtc('U0100')).toEqual([0xc1, 0x00]);
    for (const bad of ['P01', 'X0133', 'P4133', 'P01G3']) {
      try {
        normaliseDtc(bad);
        expect.unreachable(bad);
      } catch (err) {
        expect(isSimError(err, SimErrorCode.InvalidDtc)).toBe(true);
      }
    }
  });
});
