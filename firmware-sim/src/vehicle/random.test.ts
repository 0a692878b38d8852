import { describe, expect, it } from 'vitest';
import { hashString, Random } from './random.ts';

describe('Random', () => {
  it('replays the same sequence for the same seed', () => {
    const a = new Random(42);
    const b = new Random(42);
    const seqA = Array.from({ length: 100 }, () => a.next());
    const seqB = Array.from({ length: 100 }, () => b.next());
    expect(seqA).toEqual(seqB);
    expect(new Random(43).next()).not.toBe(seqA[0]);
  });

  it('stays in range', () => {
    const r = new Random(7);
    for (let i = 0; i < 10_000; i++) {
      const u = r.next();
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
      const n = r.int(3, 5);
      expect(n === 3 || n === 4 || n === 5).toBe(true);
    }
  });

  it('forks independent streams by label', () => {
    const driver = Random.fork(1, 'driver');
    const sensor = Random.fork(1, 'sensor');
    expect(driver.next()).not.toBe(sensor.next());
    expect(Random.fork(1, 'driver').next()).toBe(Random.fork(1, 'driver').next());
  });

  it('hashes strings stably (FNV-1a)', () => {
    expect(hashString('')).toBe(0x811c9dc5);
    expect(hashString('a')).toBe(0xe40c292c);
  });
});
