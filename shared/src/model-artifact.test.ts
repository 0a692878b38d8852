import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  MODEL_SIGNING_PREFIX,
  modelSigningText,
  modelVersionLabel,
} from './model-artifact.ts';

describe('canonicalJson (the bytes a model signature covers)', () => {
  it('is the same text whatever the key order, at every level', () => {
    const a = { b: 1, a: { d: [3, { y: 1, x: 2 }], c: null }, e: 'é"' };
    const b = { e: 'é"', a: { c: null, d: [3, { x: 2, y: 1 }] }, b: 1 };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(canonicalJson(a)).toBe('{"a":{"c":null,"d":[3,{"x":2,"y":1}]},"b":1,"e":"é\\""}');
  });

  it('survives a JSON round trip (what the agent receives is what the cloud signed)', () => {
    const m = { threshold: 0.0123456789012345, mean: -1e-7, std: 1234.5, version: 20261126230507 };
    expect(canonicalJson(JSON.parse(JSON.stringify(m)))).toBe(canonicalJson(m));
  });

  it('drops undefined fields like JSON does, and refuses non-finite numbers', () => {
    expect(canonicalJson({ a: 1, b: undefined })).toBe('{"a":1}');
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(/non-finite/);
  });

  it('signs a prefixed text, so no other signed message can pass for a manifest', () => {
    expect(modelSigningText({ v: 1 })).toBe(`${MODEL_SIGNING_PREFIX}{"v":1}`);
    expect(modelVersionLabel({ name: 'engine-anomaly', version: 7 })).toBe('engine-anomaly@7');
  });
});
