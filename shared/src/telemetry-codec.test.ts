import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeTelemetryBatch,
  encodeTelemetryBatch,
  MAX_SAMPLES_PER_BATCH,
  type TelemetryBatch,
  type TelemetrySample,
} from './telemetry.ts';
import { BINARY_MAGIC_0, BINARY_MAGIC_1 } from './telemetry-codec.ts';

const T0 = Date.UTC(2024, 4, 1, 8, 0, 0);

/** A realistic drive at 1 Hz: OBD values on their J1979 grids, NMEA-derived positions. */
function drive(n: number, firstSeq = 1): TelemetrySample[] {
  return Array.from({ length: n }, (_, i) => ({
    seq: firstSeq + i,
    ts: T0 + i * 1000,
    lat: 48 + (7.038 + i * 0.00731) / 60,
    lon: 11 + (33.954 + i * 0.01127) / 60,
    speedKmh: 40 + (i % 30),
    rpm: (4 * 1500 + (i % 97) * 3) / 4,
    fuelLevelPct: ((200 - Math.floor(i / 60)) * 100) / 255,
    coolantC: 88 + (i % 5),
  }));
}

function binary(samples: TelemetrySample[], extra: Partial<TelemetryBatch> = {}): TelemetryBatch {
  return { v: 2, vehicleId: 'van-1', samples, ...extra };
}

function roundTrip(batch: TelemetryBatch): TelemetryBatch {
  const bytes = encodeTelemetryBatch(batch);
  expect(bytes[0]).toBe(BINARY_MAGIC_0);
  const result = decodeTelemetryBatch(bytes);
  if (!result.ok) throw new Error(result.reason);
  return result.batch;
}

/**
 * A double in [min, max] as a wire format can carry it: no NaN, and no -0 (neither JSON nor the
 * fixed-point columns distinguish -0 from 0; fast-check found -0 coolant "changing" to 0).
 */
const wireDouble = (min: number, max: number) =>
  fc.double({ min, max, noNaN: true }).map((v) => (v === 0 ? 0 : v));

const sampleArb = fc.record({
  ts: fc.integer({ min: 946_684_800_000, max: 4_102_444_799_999 }),
  lat: fc.option(wireDouble(-90, 90), { nil: null }),
  lon: fc.option(wireDouble(-180, 180), { nil: null }),
  speedKmh: fc.option(fc.oneof(fc.integer({ min: 0, max: 255 }), wireDouble(0, 400)), {
    nil: null,
  }),
  rpm: fc.option(
    fc.oneof(
      fc.integer({ min: 0, max: 65535 }).map((a) => a / 4),
      wireDouble(0, 16383.75),
    ),
    { nil: null },
  ),
  fuelLevelPct: fc.option(
    fc.oneof(
      fc.integer({ min: 0, max: 255 }).map((a) => (a * 100) / 255),
      wireDouble(0, 100),
    ),
    { nil: null },
  ),
  coolantC: fc.option(fc.oneof(fc.integer({ min: -40, max: 215 }), wireDouble(-40, 215)), { nil: null }),
});

describe('binary payload v2', () => {
  it('round-trips a realistic batch: OBD values bit for bit, positions within 5e-11 degrees', () => {
    const input = binary(drive(500), {
      historical: true,
      batchSeq: 42,
      dropped: { rawSynced: 10, rawUnsynced: 2, rollups: 0, events: 0 },
    });
    const out = roundTrip(input);
    expect(out).toMatchObject({
      v: 2,
      vehicleId: 'van-1',
      historical: true,
      batchSeq: 42,
      dropped: input.dropped,
    });
    out.samples.forEach((s, i) => {
      const want = input.samples[i]!;
      expect({ ...s, lat: 0, lon: 0 }).toEqual({ ...want, lat: 0, lon: 0 });
      expect(Math.abs(s.lat! - want.lat!)).toBeLessThan(5.1e-11);
      expect(Math.abs(s.lon! - want.lon!)).toBeLessThan(5.1e-11);
    });
  });

  it('keeps nulls, all-null columns and a lone sample', () => {
    const samples = drive(9).map((s, i) => ({
      ...s,
      rpm: i % 3 ? s.rpm : null,
      coolantC: null,
      lat: 48.5,
      lon: 11.25,
    }));
    expect(roundTrip(binary(samples)).samples).toEqual(samples);
    expect(roundTrip(binary(samples.slice(0, 1))).samples).toEqual(samples.slice(0, 1));
  });

  it('round-trips arbitrary valid samples (values off the J1979 grid fall back losslessly)', () => {
    fc.assert(
      fc.property(
        fc.array(sampleArb, { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 0, max: 2 ** 40 }),
        (raw, seq0) => {
          const samples = raw.map((s, i) => ({ ...s, seq: seq0 + i * 3 }));
          const out = roundTrip(binary(samples)).samples;
          out.forEach((s, i) => {
            const want = samples[i]!;
            expect({ ...s, lat: null, lon: null, speedKmh: null }).toEqual({
              ...want,
              lat: null,
              lon: null,
              speedKmh: null,
            });
            for (const k of ['lat', 'lon'] as const) {
              if (want[k] === null) expect(s[k]).toBeNull();
              else expect(Math.abs(s[k]! - want[k]!)).toBeLessThan(1e-10);
            }
            if (want.speedKmh === null) expect(s.speedKmh).toBeNull();
            else expect(Math.abs(s.speedKmh! - want.speedKmh)).toBeLessThanOrEqual(0.0005 + 1e-9);
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('is several times smaller than JSON', () => {
    const samples = drive(500);
    const json = encodeTelemetryBatch({ v: 1, vehicleId: 'van-1', samples }).length;
    const bin = encodeTelemetryBatch(binary(samples)).length;
    const gz = gzipSync(JSON.stringify({ v: 1, vehicleId: 'van-1', samples })).length;
    console.warn(
      `payload bytes/sample, 500-sample batch: json ${(json / 500).toFixed(1)}, json+gzip ${(gz / 500).toFixed(1)}, binary v2 ${(bin / 500).toFixed(1)}`,
    );
    expect(bin * 5).toBeLessThan(json);
    expect(bin).toBeLessThan(gz);
  });
});

describe('binary payload v2: refusals', () => {
  const good = encodeTelemetryBatch(binary(drive(20), { batchSeq: 3 }));
  const refusal = (bytes: Uint8Array) => {
    const r = decodeTelemetryBatch(bytes);
    if (r.ok) throw new Error('expected a refusal');
    return r.reason;
  };

  it('names what is wrong', () => {
    expect(refusal(Uint8Array.of(BINARY_MAGIC_0))).toMatch(/^malformed: truncated/);
    expect(refusal(Uint8Array.of(BINARY_MAGIC_0, 0x00, 2))).toMatch(/bad magic/);
    expect(refusal(Uint8Array.of(BINARY_MAGIC_0, BINARY_MAGIC_1, 9, 0))).toMatch(
      /unsupported payload version 9/,
    );
    expect(refusal(good.subarray(0, good.length - 1))).toMatch(/^malformed: /);
    expect(refusal(Buffer.concat([good, Buffer.of(0)]))).toMatch(/1 trailing bytes/);
  });

  it('refuses a count larger than the payload before allocating', () => {
    // header, id "v", count 5000 (varint), then nothing.
    const bytes = Uint8Array.of(BINARY_MAGIC_0, BINARY_MAGIC_1, 2, 0, 1, 0x76, 0x88, 0x27);
    expect(refusal(bytes)).toMatch(/sample count 5000 exceeds/);
    const huge = Uint8Array.of(BINARY_MAGIC_0, BINARY_MAGIC_1, 2, 0, 1, 0x76, 0xff, 0xff, 0xff, 0x7f);
    expect(refusal(huge)).toMatch(new RegExp(`outside \\[1\\.\\.\\.${MAX_SAMPLES_PER_BATCH}\\]`));
  });

  it('refuses values outside the J1979 ranges through the schema', () => {
    const bad = drive(2).map((s) => ({ ...s, coolantC: 300 }));
    // encode bypasses validation on purpose here: a forged payload
    expect(refusal(encodeTelemetryBatch(binary(bad)))).toMatch(/^schema: .*coolantC/s);
    const badId = encodeTelemetryBatch({ v: 2, vehicleId: 'a/b', samples: drive(1) });
    expect(refusal(badId)).toMatch(/^schema: .*vehicleId/s);
  });

  it('fuzz: never throws on random bytes or on mutations of a valid payload', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (tail) => {
        const bytes = Uint8Array.of(BINARY_MAGIC_0, BINARY_MAGIC_1, 2, ...tail);
        const r = decodeTelemetryBatch(bytes);
        expect(typeof r.ok).toBe('boolean');
        if (!r.ok) expect(r.reason.length).toBeGreaterThan(0);
      }),
      { numRuns: 3000 },
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
        fc.nat({ max: good.length }),
        (flips, cut) => {
          const bytes = Uint8Array.from(good);
          for (const [at, value] of flips) bytes[at % bytes.length] = value;
          const r = decodeTelemetryBatch(bytes.subarray(0, Math.max(1, cut)));
          expect(typeof r.ok).toBe('boolean');
          if (r.ok) expect(r.batch.samples.length).toBeLessThanOrEqual(MAX_SAMPLES_PER_BATCH);
        },
      ),
      { numRuns: 3000 },
    );
  });
});
