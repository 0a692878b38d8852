import { describe, expect, it } from 'vitest';
import { tfWasmLoader } from './tf-wasm.ts';

// shared/ has no tfjs of its own: resolve it as the edge agent does, from its package.
const agentUrl = new URL('../../edge-agent/src/models/tf.ts', import.meta.url).href;

/** The few tfjs calls this test makes (shared/ cannot name tfjs's own types). */
interface TfUsed {
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  getBackend(): string;
  tensor(values: number[]): { sum(): { dataSync(): ArrayLike<number> } };
}

describe('tfWasmLoader', () => {
  it('loads tfjs once, on the wasm backend, for every caller', async () => {
    const load = tfWasmLoader<TfUsed>(agentUrl);
    const first = load();
    expect(load()).toBe(first);
    const tf = await first;
    expect(tf.getBackend()).toBe('wasm');
    expect(tf.tensor([1, 2, 3]).sum().dataSync()[0]).toBe(6);
  });
});
