import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { configureSharedAnswers, sharedAnswer } from '../src/api/shared-answers.ts';

// Pure in-memory logic: no services needed. Date is faked so ages are exact.
const T0 = Date.UTC(2026, 0, 1);

/** A computation that counts its runs and answers `run n`. */
function counter() {
  let runs = 0;
  return {
    get runs() {
      return runs;
    },
    compute: () => Promise.resolve(`run ${++runs}`),
  };
}

describe('sharedAnswer', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(T0);
    configureSharedAnswers({ ttlMs: 1000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('computes once for concurrent callers and for the TTL, then again', async () => {
    const c = counter();
    const [a, b] = await Promise.all([sharedAnswer('k', c.compute), sharedAnswer('k', c.compute)]);
    expect([a, b, c.runs]).toEqual(['run 1', 'run 1', 1]);
    vi.setSystemTime(T0 + 700);
    expect(await sharedAnswer('k', c.compute)).toBe('run 1');
    expect(await sharedAnswer('other', c.compute)).toBe('run 2'); // keys are separate
    vi.setSystemTime(T0 + 1000);
    expect(await sharedAnswer('k', c.compute)).toBe('run 3');
  });

  it('in the last fifth of its life an answer is still served while its successor is computed', async () => {
    const c = counter();
    await sharedAnswer('k', c.compute);
    vi.setSystemTime(T0 + 850);
    expect(await sharedAnswer('k', c.compute)).toBe('run 1'); // served at once, successor started
    expect(c.runs).toBe(2);
    await Promise.resolve(); // the successor settles and takes the place
    expect(await sharedAnswer('k', c.compute)).toBe('run 2');
    expect(c.runs).toBe(2); // one refresh, not one per request
    vi.setSystemTime(T0 + 1849); // the successor counts its life from when it began (850)
    expect(await sharedAnswer('k', c.compute)).toBe('run 2');
    vi.setSystemTime(T0 + 1850);
    expect(await sharedAnswer('k', c.compute)).toBe('run 3');
  });

  it('never serves an answer past its TTL while a slow successor is still running', async () => {
    const c = counter();
    await sharedAnswer('k', c.compute);
    vi.setSystemTime(T0 + 900);
    let finish: (v: string) => void = () => {};
    const slow = () => new Promise<string>((r) => (finish = r));
    expect(await sharedAnswer('k', slow)).toBe('run 1');
    vi.setSystemTime(T0 + 1000); // run 1 has expired; the slow successor has not answered
    expect(await sharedAnswer('k', c.compute)).toBe('run 2');
    finish('late');
    await Promise.resolve();
    expect(await sharedAnswer('k', c.compute)).toBe('run 2'); // the late one does not displace it
  });

  it('a failure is not kept: the next caller computes again', async () => {
    let fail = true;
    const compute = () => (fail ? Promise.reject(new Error('database down')) : Promise.resolve('ok'));
    await expect(sharedAnswer('k', compute)).rejects.toThrow('database down');
    fail = false;
    expect(await sharedAnswer('k', compute)).toBe('ok');
  });

  it('with sharing off every call computes', async () => {
    configureSharedAnswers({ ttlMs: 0 });
    const c = counter();
    await sharedAnswer('k', c.compute);
    await sharedAnswer('k', c.compute);
    expect(c.runs).toBe(2);
  });
});
