import type { TelemetrySample } from '../../shared/src/index.ts';

/** The ingest bench's sample: one vehicle's seq-th reading at `ts`, values that vary with seq. */
export function benchSample(seq: number, ts: number): TelemetrySample {
  return {
    seq,
    ts,
    lat: 48.1 + (seq % 997) / 1e4,
    lon: 11.5,
    speedKmh: seq % 130,
    rpm: 800 + (seq % 3000),
    fuelLevelPct: 55.5,
    coolantC: 90,
  };
}

/** The p-th percentile (nearest rank) of `xs`; NaN when empty. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}
