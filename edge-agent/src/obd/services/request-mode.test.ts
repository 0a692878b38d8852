import { describe, expect, it } from 'vitest';
import { assumedRequestMode, probePids, unansweredPids } from './request-mode.ts';

describe('request mode', () => {
  it('assumes nothing off CAN, and the digit only from ELM327 v1.3 on', () => {
    const auto = { multiPid: 'auto', replyCount: 'auto' } as const;
    expect(assumedRequestMode({ ...auto, can: false, chipReplyCount: true })).toMatchObject({
      multiPid: false,
      replyCount: false,
    });
    expect(assumedRequestMode({ ...auto, can: true, chipReplyCount: false })).toMatchObject({
      multiPid: true,
      replyCount: false,
      replyCountEvidence: 'the chip is older than ELM327 v1.3',
    });
    expect(
      assumedRequestMode({ can: true, chipReplyCount: false, multiPid: 'off', replyCount: 'on' }),
    ).toMatchObject({ multiPid: false, replyCount: true, multiPidEvidence: 'turned off' });
  });

  it('probes with common fixed-length PIDs of the ECU announcing the most, never support PIDs', () => {
    const support = new Map([
      ['7E8', new Set([0x00, 0x01, 0x03, 0x0d, 0x20, 0x2f, 0x0c])],
      ['7E9', new Set([0x0d, 0x0c])],
    ]);
    expect(probePids(support)).toEqual([0x0c, 0x0d]);
    // Without the common ones: the lowest fixed-length ones (03 is 2 bytes, 01 is 4).
    expect(probePids(new Map([['7E8', new Set([0x20, 0x03, 0x01])]]))).toEqual([0x01, 0x03]);
    expect(probePids(new Map())).toEqual([]);
  });

  it('names the PIDs an answering ECU announced but left out, per ECU; cut answers are skipped', () => {
    const support = new Map([
      ['7E8', new Set([0x0c, 0x0d, 0x2f])],
      ['7E9', new Set([0x0d])],
    ]);
    const batch = [0x0c, 0x0d, 0x2f];
    // 7E9 has only 0D: what it leaves out is not missing.
    expect(
      unansweredPids(
        batch,
        [
          { ecu: '7E8', data: [0x41, 0x0c, 0x1a, 0xf8, 0x0d, 0x32, 0x2f, 0x80] },
          { ecu: '7E9', data: [0x41, 0x0d, 0x31] },
        ],
        support,
      ),
    ).toEqual([]);
    expect(unansweredPids(batch, [{ ecu: '7E8', data: [0x41, 0x0c, 0x1a, 0xf8] }], support)).toEqual([
      0x0d, 0x2f,
    ]);
    // Truncated inside 0C: a transmission error, not an adapter that drops PIDs.
    expect(unansweredPids(batch, [{ ecu: '7E8', data: [0x41, 0x0c, 0x1a] }], support)).toEqual([]);
  });
});
