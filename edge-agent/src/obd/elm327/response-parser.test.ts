import { mulberry32 } from '@fleet/shared/testing';
import { describe, expect, it } from 'vitest';
import { Elm327ResponseParser, MAX_RESPONSE_BYTES, responseLines } from './response-parser.ts';

/** A parser that records every response it emits. */
function collect() {
  const responses: string[] = [];
  const parser = new Elm327ResponseParser((text) => responses.push(text));
  return { parser, responses };
}

const bytes = (text: string) => Buffer.from(text, 'latin1');

describe('Elm327ResponseParser', () => {
  it('emits one response per prompt, without the prompt', () => {
    const { parser, responses } = collect();
    parser.push(bytes('ATZ\r\r\rELM327 v1.5\r\r>'));
    parser.push(bytes('41 0D 32 \r\r>OK\r\r>'));
    expect(responses).toEqual(['ATZ\r\r\rELM327 v1.5\r\r', '41 0D 32 \r\r', 'OK\r\r']);
    expect(parser.stats).toEqual({ responses: 3, junkBytes: 0, overflows: 0 });
    expect(parser.pending).toBe(0);
  });

  it('emits an empty response for a bare prompt', () => {
    const { parser, responses } = collect();
    parser.push(bytes('>>'));
    expect(responses).toEqual(['', '']);
  });

  it('reassembles a response split over chunks, down to one byte per chunk', () => {
    const { parser, responses } = collect();
    const wire = 'SEARCHING...\r41 0C 1A F8 \r\r>';
    parser.push(bytes('SEARCH'));
    expect(responses).toEqual([]);
    expect(parser.pending).toBe(6);
    parser.push(bytes('ING...\r41 0C'));
    parser.push(bytes(' 1A F8 \r\r'));
    expect(responses).toEqual([]);
    parser.push(bytes('>41'));
    expect(responses).toEqual([wire.slice(0, -1)]);
    expect(parser.pending).toBe(2);

    const single = collect();
    for (const b of bytes(wire + wire)) single.parser.push(Uint8Array.of(b));
    expect(single.responses).toEqual([wire.slice(0, -1), wire.slice(0, -1)]);
  });

  it('drops and counts junk bytes (NUL, 0x80..0xFF, control characters) but keeps CR and LF', () => {
    const { parser, responses } = collect();
    const junk = [0x00, 0xff, 0x80, 0x81, 0xfe, 0x7f, 0x01, 0x1b, 0x09];
    parser.push(Uint8Array.from([...junk, ...bytes('41 0D'), 0x00, ...bytes(' 32\r\n'), 0xff, 0x3e]));
    expect(responses).toEqual(['41 0D 32\r\n']);
    expect(parser.stats.junkBytes).toBe(junk.length + 2);
    expect(parser.stats.responses).toBe(1);
  });

  it('cuts a response that never ends at MAX_RESPONSE_BYTES and counts the overflow', () => {
    const { parser, responses } = collect();
    parser.push(bytes('A'.repeat(MAX_RESPONSE_BYTES)));
    expect(parser.pending).toBe(MAX_RESPONSE_BYTES);
    expect(parser.stats.overflows).toBe(0);
    // One more byte: the full buffer is discarded (counted as junk) and the new byte starts over.
    parser.push(bytes('B'));
    expect(parser.stats.overflows).toBe(1);
    expect(parser.stats.junkBytes).toBe(MAX_RESPONSE_BYTES);
    expect(parser.pending).toBe(1);
    // The parser still works afterwards: the next prompt ends a (truncated) response.
    parser.push(bytes('C\r>OK\r\r>'));
    expect(responses).toEqual(['BC\r', 'OK\r\r']);
    expect(parser.pending).toBe(0);
  });

  it('stays bounded under a long stream without a prompt', () => {
    const { parser } = collect();
    const chunk = bytes('7E8 10 14 49 02 01 31 53 56 \r'); // 29 bytes
    for (let i = 0; i < 2000; i++) {
      parser.push(chunk);
      expect(parser.pending).toBeLessThanOrEqual(MAX_RESPONSE_BYTES);
    }
    const total = 2000 * chunk.length;
    // Every byte is either still pending or was discarded by one of the overflows.
    expect(parser.stats.overflows).toBe(Math.floor((total - 1) / MAX_RESPONSE_BYTES));
    expect(parser.stats.junkBytes + parser.pending).toBe(total);
  });

  it('reset() discards what is pending', () => {
    const { parser, responses } = collect();
    parser.push(bytes('41 0D'));
    parser.reset();
    expect(parser.pending).toBe(0);
    parser.push(bytes('OK\r>'));
    expect(responses).toEqual(['OK\r']);
  });

  it('never throws and keeps pending bounded on 1000 random chunks (seeded)', () => {
    const rand = mulberry32(0x0b0d2);
    const { parser, responses } = collect();
    let prompts = 0;
    let junk = 0;
    for (let i = 0; i < 1000; i++) {
      // Mostly long chunks without a prompt, so overflows actually happen.
      const length = Math.floor(rand() * (i % 10 === 0 ? 9000 : 300));
      const chunk = new Uint8Array(length);
      for (let j = 0; j < length; j++) {
        const r = rand();
        // Printable bytes dominate; prompts are rare; the rest is noise over the full byte range.
        const b = r < 0.7 ? 0x20 + Math.floor(rand() * 95) : Math.floor(rand() * 256);
        chunk[j] = b === 0x3e && rand() < 0.9 ? 0x41 : b;
        if (chunk[j] === 0x3e) prompts++;
        else if ((chunk[j]! < 0x20 && chunk[j] !== 0x0d && chunk[j] !== 0x0a) || chunk[j]! > 0x7e) junk++;
      }
      expect(() => parser.push(chunk)).not.toThrow();
      expect(parser.pending).toBeGreaterThanOrEqual(0);
      expect(parser.pending).toBeLessThanOrEqual(MAX_RESPONSE_BYTES);
    }
    expect(parser.stats.responses).toBe(prompts);
    expect(responses).toHaveLength(prompts);
    expect(parser.stats.overflows).toBeGreaterThan(0);
    // junkBytes = the noise bytes plus whatever each overflow threw away.
    expect(parser.stats.junkBytes).toBe(junk + parser.stats.overflows * MAX_RESPONSE_BYTES);
    for (const r of responses) {
      expect(r.length).toBeLessThanOrEqual(MAX_RESPONSE_BYTES);
      expect(r).toMatch(/^[\x20-\x7e\r\n]*$/);
      expect(r).not.toContain('>');
    }
  });
});

describe('responseLines', () => {
  it('splits on CR and LF, trims, and drops empty lines', () => {
    expect(responseLines('41 0D 32 \r\r')).toEqual(['41 0D 32']);
    expect(responseLines('\r\n41 0C 1A F8\r\n\r\n41 0C 1B 00\r\n')).toEqual(['41 0C 1A F8', '41 0C 1B 00']);
    expect(responseLines('')).toEqual([]);
    expect(responseLines('\r\r\r')).toEqual([]);
  });

  it('drops the echoed command', () => {
    expect(responseLines('010D\r41 0D 32 \r\r', '010D')).toEqual(['41 0D 32']);
    expect(responseLines('ATZ\r\r\rELM327 v1.5\r\r', 'ATZ')).toEqual(['ELM327 v1.5']);
    // Without the command nothing is taken for an echo.
    expect(responseLines('010D\r41 0D 32 \r\r')).toEqual(['010D', '41 0D 32']);
  });

  it('drops SEARCHING... but keeps what follows it', () => {
    expect(responseLines('0100\rSEARCHING...\r41 00 98 1B 80 03 \r\r', '0100')).toEqual([
      '41 00 98 1B 80 03',
    ]);
    expect(responseLines('SEARCHING...\rUNABLE TO CONNECT\r\r')).toEqual(['UNABLE TO CONNECT']);
    // Only the exact note is dropped.
    expect(responseLines('SEARCHING..\r')).toEqual(['SEARCHING..']);
  });
});
