import { describe, expect, it } from 'vitest';
import { type AssemblerOptions, assembleMessages, MAX_ECUS, newAssemblyStats } from './assembler.ts';

const CAN11: AssemblerOptions = { format: 'can11', headers: true };
const OFF: AssemblerOptions = { format: 'can11', headers: false };

const bytes = (hex: string) => hex.match(/../g)!.map((h) => Number.parseInt(h, 16));

function run(lines: string[], options: AssemblerOptions) {
  const stats = newAssemblyStats();
  const messages = assembleMessages(lines, options, stats);
  // Every line is accounted for exactly once.
  expect(stats.delivered + stats.ignored + stats.badFrames).toBe(stats.lines);
  return { messages, stats };
}

describe('assembleMessages: headers on, CAN 11-bit (ISO 15765-2 framing)', () => {
  it('reads single frames, with or without spaces and padding, per ECU', () => {
    const { messages, stats } = run(['7E8 03 41 0D 32', '7E906410D32AAAAAA', '7E803410C1A'], CAN11);
    // 7E9's frame is padded to 8 bytes (AA): the PCI length (06) cuts it... to 6 bytes.
    expect(messages).toEqual([
      { ecu: '7E8', data: [0x41, 0x0d, 0x32] },
      { ecu: '7E9', data: bytes('410D32AAAAAA') },
      { ecu: '7E8', data: [0x41, 0x0c, 0x1a] },
    ]);
    expect(stats).toMatchObject({ lines: 3, delivered: 3, badFrames: 0, messages: 3 });
  });

  it('cuts a single frame at its PCI length (padding after it is not data)', () => {
    expect(run(['7E8 03 41 0D 32 00 00 00 00'], CAN11).messages).toEqual([
      { ecu: '7E8', data: [0x41, 0x0d, 0x32] },
    ]);
  });

  it('reassembles the ELM327 data sheet VIN example (first frame + 2 consecutive frames)', () => {
    const lines = [
      '7E8 10 14 49 02 01 31 44 34',
      '7E8 21 47 50 30 30 52 35 35',
      '7E8 22 42 31 32 33 34 35 36',
    ];
    const { messages, stats } = run(lines, CAN11);
    expect(messages).toHaveLength(1);
    expect(messages[0]!.data).toHaveLength(0x14);
    expect(String.fromCharCode(...messages[0]!.data.slice(3))).toBe('1D4GP00R55B123456');
    expect(stats).toMatchObject({ delivered: 3, badFrames: 0 });
  });

  it('keeps two ECUs’ multi-frame answers apart when their frames interleave', () => {
    // ELM329 data sheet, "Multiline Responses": 7E8 and 7E9 both answer 09 04.
    const lines = [
      '7E8 10 13 49 04 01 35 36 30',
      '7E9 10 13 49 04 01 35 36 30',
      '7E8 21 32 38 39 34 39 41 43',
      '7E9 21 32 38 39 35 34 41 43',
      '7E9 22 00 00 00 00 00 00 00',
      '7E8 22 00 00 00 00 00 00 31',
    ];
    const { messages } = run(lines, CAN11);
    expect(messages.map((m) => m.ecu)).toEqual(['7E9', '7E8']);
    expect(messages.every((m) => m.data.length === 0x13)).toBe(true);
    // 0x13 = 19 bytes: the last byte of each second consecutive frame (00 / 31) is padding.
    expect(String.fromCharCode(...messages[0]!.data.slice(3, 13))).toBe('56028954AC');
    expect(String.fromCharCode(...messages[1]!.data.slice(3, 13))).toBe('56028949AC');
    expect(messages[1]!.data.at(-1)).toBe(0x00);
  });

  it('wraps the sequence number from F to 0', () => {
    // 6 + 16*7 = 118 bytes need CF 1..F, 0, 1: 17 consecutive frames.
    const total = 6 + 17 * 7;
    const lines = [`7E810${total.toString(16).toUpperCase().padStart(2, '0')}${'11'.repeat(6)}`];
    for (let i = 1; i <= 17; i++) lines.push(`7E82${(i & 0xf).toString(16).toUpperCase()}${'22'.repeat(7)}`);
    const { messages, stats } = run(lines, CAN11);
    expect(messages).toHaveLength(1);
    expect(messages[0]!.data).toHaveLength(total);
    expect(stats.badFrames).toBe(0);
  });

  it('drops a message with a missing consecutive frame and counts all its frames as bad', () => {
    const lines = ['7E8 10 14 49 02 01 31 44 34', '7E8 22 42 31 32 33 34 35 36', '7E9 03 41 0D 32'];
    const { messages, stats } = run(lines, CAN11);
    expect(messages).toEqual([{ ecu: '7E9', data: [0x41, 0x0d, 0x32] }]);
    expect(stats).toMatchObject({ lines: 3, delivered: 1, badFrames: 2 });
  });

  it('drops a message cut short by the prompt (last frame never came)', () => {
    const { messages, stats } = run(['7E8 10 14 49 02 01 31 44 34', '7E8 21 47 50 30 30 52 35 35'], CAN11);
    expect(messages).toEqual([]);
    expect(stats.badFrames).toBe(2);
  });

  it('rejects frames of the wrong size: short first frame, short middle consecutive frame, > 8 bytes', () => {
    expect(run(['7E8 10 14 49 02 01 31 44'], CAN11).stats.badFrames).toBe(1);
    const shortMiddle = run(
      ['7E8 10 14 49 02 01 31 44 34', '7E8 21 47 50 30', '7E8 22 42 31 32 33 34 35 36'],
      CAN11,
    );
    expect(shortMiddle.messages).toEqual([]);
    expect(shortMiddle.stats.badFrames).toBe(3);
    expect(run(['7E8 03 41 0D 32 00 00 00 00 00'], CAN11).stats.badFrames).toBe(1);
  });

  it('accepts a short last consecutive frame that carries what is missing', () => {
    const { messages } = run(['7E8 10 08 49 02 01 31 44 34', '7E8 21 47 50'], CAN11);
    expect(messages).toEqual([{ ecu: '7E8', data: bytes('4902013144344750') }]);
  });

  it('rejects a single frame announcing more bytes than it has, or zero', () => {
    expect(run(['7E8 05 41 0D 32'], CAN11).stats.badFrames).toBe(1);
    expect(run(['7E8 00 41 0D 32'], CAN11).stats.badFrames).toBe(1);
  });

  it('ignores flow-control frames (legal, no data)', () => {
    const { stats } = run(['7E0 30 00 00', '7E8 03 41 0D 32'], CAN11);
    expect(stats).toMatchObject({ ignored: 1, delivered: 1, badFrames: 0 });
  });

  it('counts garbage lines as bad frames and carries on', () => {
    const { messages, stats } = run(['ÿþ junk', '7E8 03 41 0D 32', '41:0D', 'ZZ', '7E8'], CAN11);
    expect(messages).toHaveLength(1);
    expect(stats).toMatchObject({ lines: 5, badFrames: 4 });
  });

  it('keeps at most MAX_ECUS messages in progress', () => {
    const lines: string[] = [];
    for (let i = 0; i < MAX_ECUS + 5; i++)
      lines.push(`${(0x100 + i).toString(16).toUpperCase()}1014${'11'.repeat(6)}`);
    const { stats } = run(lines, CAN11);
    expect(stats.badFrames).toBe(MAX_ECUS + 5);
  });
});

describe('assembleMessages: other formats', () => {
  it('reads CAN 29-bit identifiers (18DAF110: ECU 10 answering tester F1)', () => {
    const { messages } = run(['18DAF110 03 41 0D 32', '18DAF11803410D33'], {
      format: 'can29',
      headers: true,
    });
    expect(messages).toEqual([
      { ecu: '18DAF110', data: [0x41, 0x0d, 0x32] },
      { ecu: '18DAF118', data: [0x41, 0x0d, 0x33] },
    ]);
  });

  it('reads J1850 / ISO 9141 / KWP lines: 3 header bytes, data, checksum', () => {
    const { messages } = run(['48 6B 10 41 0D 32 43', '83F1104105501A'], { format: 'legacy', headers: true });
    expect(messages).toEqual([
      { ecu: '10', data: [0x41, 0x0d, 0x32] },
      { ecu: '10', data: [0x41, 0x05, 0x50] },
    ]);
  });

  it('reads the headers-off numbered form (ELM327 data sheet VIN example)', () => {
    const lines = ['014', '0: 49 02 01 31 44 34', '1: 47 50 30 30 52 35 35', '2: 42 31 32 33 34 35 36'];
    const { messages, stats } = run(lines, OFF);
    expect(messages).toEqual([{ ecu: '', data: bytes('4902013144344750303052353542313233343536') }]);
    expect(stats).toMatchObject({ lines: 4, delivered: 4 });
  });

  it('headers off: single lines are messages; a numbered block without its length line is bad', () => {
    const { messages, stats } = run(['410D32', '0: 49 02 01 31 44 34', '1: 47 50 30 30 52 35 35'], OFF);
    expect(messages).toEqual([{ ecu: '', data: [0x41, 0x0d, 0x32] }]);
    expect(stats.badFrames).toBe(2);
  });

  it('guesses the format per line when the protocol is not known yet', () => {
    const auto: AssemblerOptions = { format: 'auto', headers: true };
    expect(run(['7E8064100BE3FA813'], auto).messages).toEqual([{ ecu: '7E8', data: bytes('4100BE3FA813') }]);
    expect(run(['18DAF110064100BE3FA813'], auto).messages[0]!.ecu).toBe('18DAF110');
    expect(run(['486B104100BE3FA813C4'], auto).messages[0]).toEqual({
      ecu: '10',
      data: bytes('4100BE3FA813'),
    });
  });
});
