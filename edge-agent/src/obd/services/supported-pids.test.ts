import { describe, expect, it } from 'vitest';
import { AgentError, AgentErrorCode } from '../../errors.ts';
import type { EcuMessage } from '../frames/assembler.ts';
import type { ObdRequester } from './request.ts';
import { allSupported, discoverSupportedPids, parseSupportBitmap } from './supported-pids.ts';

describe('parseSupportBitmap (J1979: bit A7 = base+1 ... bit D0 = base+0x20)', () => {
  it('reads the bits by hand-worked examples', () => {
    // BE 1F A8 13 (the ELM327 data sheet example).
    expect(parseSupportBitmap(0x00, [0xbe, 0x1f, 0xa8, 0x13])).toEqual([
      0x01, 0x03, 0x04, 0x05, 0x06, 0x07, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x13, 0x15, 0x1c, 0x1f, 0x20,
    ]);
    expect(parseSupportBitmap(0x40, [0x80, 0x00, 0x00, 0x00])).toEqual([0x41]);
    expect(parseSupportBitmap(0xa0, [0x00, 0x00, 0x00, 0x01])).toEqual([0xc0]);
    expect(parseSupportBitmap(0x00, [0, 0, 0, 0])).toEqual([]);
  });
});

/** Answers each support request from per-ECU bitmaps; NO DATA when no ECU has that block. */
function scripted(bitmaps: Record<string, Record<number, number[]>>): ObdRequester & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async request(command) {
      asked.push(command);
      const base = Number.parseInt(command.slice(2), 16);
      const messages: EcuMessage[] = [];
      for (const [ecu, maps] of Object.entries(bitmaps)) {
        const map = maps[base];
        if (map) messages.push({ ecu, data: [0x41, base, ...map] });
      }
      if (messages.length === 0) throw new AgentError(AgentErrorCode.ObdNoData, `${command}: NO DATA`);
      return messages;
    },
  };
}

describe('discoverSupportedPids', () => {
  it('walks 00, 20, 40 ... while some ECU announces the next map, per ECU', async () => {
    const requester = scripted({
      // Engine: 01-20 with 20 set, 21-40 with 40 set, 41-60 ending.
      '7E8': { 0: [0xbe, 0x1f, 0xa8, 0x13], 32: [0x80, 0x00, 0x00, 0x01], 64: [0x44, 0x00, 0x00, 0x00] },
      // Transmission: 0D only, no next map.
      '7E9': { 0: [0x00, 0x08, 0x00, 0x00] },
    });
    const support = await discoverSupportedPids(requester);
    expect(requester.asked).toEqual(['0100', '0120', '0140']);
    expect([...support.get('7E9')!]).toEqual([0x0d]);
    expect([...support.get('7E8')!]).toContain(0x21);
    expect([...support.get('7E8')!]).toContain(0x46);
    expect([...allSupported(support)].sort((a, b) => a - b)).toEqual([
      0x01, 0x03, 0x04, 0x05, 0x06, 0x07, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x13, 0x15, 0x1c, 0x1f, 0x21,
      0x42, 0x46,
    ]);
  });

  it('ends the walk when a promised map is not answered', async () => {
    const requester = scripted({ '7E8': { 0: [0x00, 0x00, 0x00, 0x01] } });
    const support = await discoverSupportedPids(requester);
    expect(requester.asked).toEqual(['0100', '0120']);
    expect([...support.get('7E8')!]).toEqual([0x20]);
  });

  it('lets NO DATA on 0100 through: no vehicle', async () => {
    await expect(discoverSupportedPids(scripted({}))).rejects.toMatchObject({
      code: AgentErrorCode.ObdNoData,
    });
  });
});
