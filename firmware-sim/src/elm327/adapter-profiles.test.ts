import { afterEach, describe, expect, it, vi } from 'vitest';
import { elmHarness, replyLines } from '../testing/elm-harness.ts';
import type { AdapterProfileName } from './adapter-profiles.ts';

/** Echo off, spaces off, headers on, CAN fixed: what the agent sets up. */
function ready(profile: AdapterProfileName, latencyMs = 0) {
  const h = elmHarness({ profile, latencyMs });
  for (const cmd of ['ATE0', 'ATS0', 'ATH1', 'ATSP6']) h.send(cmd);
  return h;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('adapter profiles: multi-PID requests and the reply-count digit', () => {
  it('standard: six PIDs in one answer, with or without the reply count', () => {
    const h = ready('standard');
    expect(replyLines(h.send('010C0D'))).toEqual(['7E806410C1AF80D32']);
    expect(replyLines(h.send('010C0D1'))).toEqual(['7E806410C1AF80D32']);
    expect(replyLines(h.send('010D1'))).toEqual(['7E803410D32']);
  });

  it('multi-pid-refused: ? to two PIDs or more, single PIDs answered with the reply count', () => {
    const h = ready('multi-pid-refused');
    expect(replyLines(h.send('010C0D'))).toEqual(['?']);
    expect(replyLines(h.send('010C0D2F1'))).toEqual(['?']);
    expect(replyLines(h.send('010D1'))).toEqual(['7E803410D32']);
    // Support maps and other services are not multi-PID requests.
    expect(replyLines(h.send('0100'))[0]).toMatch(/^7E8064100/);
    expect(replyLines(h.send('0902'))[0]).toMatch(/^7E8/);
  });

  it('multi-pid-no-data: NO DATA to two PIDs or more', () => {
    const h = ready('multi-pid-no-data');
    expect(replyLines(h.send('010C0D'))).toEqual(['NO DATA']);
    expect(replyLines(h.send('010C'))).toEqual(['7E804410C1AF8']);
  });

  it('first-pid-only: a valid answer that carries the first PID alone', () => {
    const h = ready('first-pid-only');
    expect(replyLines(h.send('010C0D2F'))).toEqual(['7E804410C1AF8']);
    expect(replyLines(h.send('010D0C'))).toEqual(['7E803410D32']);
  });

  it('reply-count-refused: ? to any request with the digit, multi-PID without it answered', () => {
    const h = ready('reply-count-refused');
    expect(replyLines(h.send('010C1'))).toEqual(['?']);
    expect(replyLines(h.send('010C0D1'))).toEqual(['?']);
    expect(replyLines(h.send('010C0D'))).toEqual(['7E806410C1AF80D32']);
  });

  it('first-pid-only waits for the frames the reply count promised before its prompt', async () => {
    vi.useFakeTimers();
    const h = ready('first-pid-only', 30);
    await vi.advanceTimersByTimeAsync(500);
    h.take();
    // 41 0C ab 0D a 2F a 05 a 11 a 04 a: 14 bytes, 3 frames promised; one single frame comes.
    h.send('010C0D2F0511043');
    await vi.advanceTimersByTimeAsync(30);
    expect(h.take()).toBe('7E804410C1AF8\r');
    // ATAT1: the learned wait (2 x latency) before the prompt, as without a reply count.
    await vi.advanceTimersByTimeAsync(59);
    expect(h.take()).toBe('');
    await vi.advanceTimersByTimeAsync(1);
    expect(h.take()).toBe('\r>');
  });
});
