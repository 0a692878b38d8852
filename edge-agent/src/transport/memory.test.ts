import { describe, expect, it, vi } from 'vitest';
import { createMemoryStreamPair } from './memory.ts';

describe('createMemoryStreamPair', () => {
  it('carries bytes both ways, never inside write()', async () => {
    const [a, b] = createMemoryStreamPair();
    const got: string[] = [];
    b.onData((chunk) => got.push(chunk.toString()));
    a.onData((chunk) => got.push(`a:${chunk.toString()}`));
    const written = a.write('ATZ\r');
    expect(got).toEqual([]);
    await written;
    await new Promise((r) => setTimeout(r, 1));
    await b.write(Buffer.from('OK\r\r>'));
    await new Promise((r) => setTimeout(r, 1));
    expect(got).toEqual(['ATZ\r', 'a:OK\r\r>']);
    expect([a.name, b.name]).toEqual(['memory:host', 'memory:device']);
  });

  it('closes both sides at once, like a pulled cable; later writes reject', async () => {
    const [a, b] = createMemoryStreamPair();
    const closedA = vi.fn();
    const closedB = vi.fn();
    a.onClose(closedA);
    b.onClose(closedB);
    await b.close();
    await a.close();
    expect(closedA).toHaveBeenCalledTimes(1);
    expect(closedB).toHaveBeenCalledTimes(1);
    await expect(a.write('x')).rejects.toThrow(/closed/);
    const late = vi.fn();
    a.onClose(late);
    await new Promise((r) => setTimeout(r, 1));
    expect(late).toHaveBeenCalledTimes(1);
  });
});
