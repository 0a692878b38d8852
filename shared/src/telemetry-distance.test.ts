/**
 * Issue 17 §2 on the wire: the odometer (PID A6) and the agent's GPS odometer travel in the
 * binary payload behind flag bit 3, and only when a sample has one, so a batch without them is
 * byte for byte what it was before and a current cloud reads both kinds.
 */
import { describe, expect, it } from 'vitest';
import { decodeTelemetryBatch, encodeTelemetryBatch, type TelemetryBatch } from './telemetry.ts';

const base = {
  seq: 1,
  ts: 1_780_000_000_000,
  lat: 41.0001,
  lon: -105,
  speedKmh: 50,
  rpm: 1400,
  fuelLevelPct: 40,
  coolantC: 88,
};
const batch = (samples: TelemetryBatch['samples']): TelemetryBatch => ({
  v: 2,
  vehicleId: 'truck-1',
  samples,
});

describe('distance columns in the binary telemetry payload', () => {
  it('round-trip the odometer in 0.1 km steps and the GPS odometer, nulls included', () => {
    const samples = [
      { ...base, odometerKm: 123_456.7, gpsDistanceM: 0 },
      { ...base, seq: 2, ts: base.ts + 1000, odometerKm: null, gpsDistanceM: 13.9 },
      { ...base, seq: 3, ts: base.ts + 2000, odometerKm: 123_456.8, gpsDistanceM: 27.25 },
    ];
    const out = decodeTelemetryBatch(encodeTelemetryBatch(batch(samples)));
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    expect(out.batch.samples.map((s) => [s.odometerKm, s.gpsDistanceM])).toEqual([
      [123_456.7, 0],
      [null, 13.9],
      [123_456.8, 27.3], // metres to 0.1 m
    ]);
  });

  it('a batch without them is the pre-issue-17 encoding (flag bit 3 clear) and decodes without the fields', () => {
    const bytes = encodeTelemetryBatch(batch([base]));
    expect(bytes[3]! & 8).toBe(0);
    const withNulls = encodeTelemetryBatch(batch([{ ...base, odometerKm: null, gpsDistanceM: null }]));
    expect(Buffer.compare(bytes, withNulls)).toBe(0);
    const out = decodeTelemetryBatch(bytes);
    expect(out.ok && out.batch.samples[0]).toEqual(base);
  });

  it('JSON v1 payloads take the fields too, and ranges are checked', () => {
    const ok = decodeTelemetryBatch(encodeTelemetryBatch({ ...batch([{ ...base, odometerKm: 5 }]), v: 1 }));
    expect(ok.ok && ok.batch.samples[0]!.odometerKm).toBe(5);
    const bad = decodeTelemetryBatch(encodeTelemetryBatch({ ...batch([{ ...base, odometerKm: -1 }]), v: 1 }));
    expect(bad.ok).toBe(false);
  });
});
