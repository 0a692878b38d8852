import { describe, expect, it } from 'vitest';
import {
  decodeTelemetryBatch,
  encodeTelemetryBatch,
  MAX_PAYLOAD_BYTES,
  MAX_SAMPLES_PER_BATCH,
  TELEMETRY_PAYLOAD_VERSION,
  TelemetryBatch,
  type TelemetrySample,
  VehicleStatus,
} from './telemetry.ts';

const T0 = Date.UTC(2024, 4, 1, 8, 0, 0);

function sample(overrides: Partial<TelemetrySample> = {}): TelemetrySample {
  return {
    seq: 1,
    ts: T0,
    lat: 48.1391,
    lon: 11.5659,
    speedKmh: 50,
    rpm: 1726,
    fuelLevelPct: (128 * 100) / 255,
    coolantC: 90,
    ...overrides,
  };
}

function batch(samples: TelemetrySample[] = [sample()], vehicleId = 'van-1'): TelemetryBatch {
  return { v: 1, vehicleId, samples };
}

/** The payload as an agent would publish it, from a plain object (so invalid shapes can be sent). */
function payload(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

function refusal(bytes: Uint8Array): string {
  const result = decodeTelemetryBatch(bytes);
  if (result.ok) throw new Error(`expected a refusal, got ${JSON.stringify(result.batch).slice(0, 200)}`);
  return result.reason;
}

describe('decodeTelemetryBatch: valid payloads', () => {
  it('accepts a valid batch and returns it unchanged', () => {
    const input = batch([sample({ seq: 1 }), sample({ seq: 2, ts: T0 + 1000, lat: null, lon: null })]);
    const result = decodeTelemetryBatch(payload(input));
    expect(result).toEqual({ ok: true, batch: input });
  });

  it('round-trips encodeTelemetryBatch', () => {
    const input = batch([sample({ seq: 7, rpm: null, speedKmh: null, fuelLevelPct: null, coolantC: null })]);
    expect(decodeTelemetryBatch(encodeTelemetryBatch(input))).toEqual({ ok: true, batch: input });
  });

  it('accepts every PID at the edges of its J1979 range', () => {
    const edges = [
      sample({ seq: 1, rpm: 0, speedKmh: 0, fuelLevelPct: 0, coolantC: -40, lat: -90, lon: -180 }),
      // rpm (256*255+255)/4 = 16383.75, fuel 100*255/255 = 100, coolant 255-40 = 215
      sample({ seq: 2, rpm: 16383.75, speedKmh: 255, fuelLevelPct: 100, coolantC: 215, lat: 90, lon: 180 }),
    ];
    expect(decodeTelemetryBatch(payload(batch(edges))).ok).toBe(true);
  });

  it(`accepts ${MAX_SAMPLES_PER_BATCH} samples and refuses one more`, () => {
    const many = Array.from({ length: MAX_SAMPLES_PER_BATCH + 1 }, (_, i) => sample({ seq: i + 1 }));
    expect(decodeTelemetryBatch(payload(batch(many.slice(0, MAX_SAMPLES_PER_BATCH)))).ok).toBe(true);
    expect(refusal(payload(batch(many)))).toMatch(/samples/);
  });

  it('drops unknown keys instead of passing them on', () => {
    const result = decodeTelemetryBatch(payload({ ...batch(), extra: 'x' }));
    expect(result.ok && 'extra' in result.batch).toBe(false);
    expect(result.ok).toBe(true);
  });
});

describe('decodeTelemetryBatch: refusals say why', () => {
  it('refuses malformed JSON', () => {
    const valid = JSON.stringify(batch());
    expect(refusal(Buffer.from(valid.slice(0, -1)))).toMatch(/^malformed: /);
    expect(refusal(Buffer.from('{"v":1,'))).toMatch(/^malformed: .*JSON/);
    expect(refusal(Buffer.from(''))).toMatch(/^malformed: /);
  });

  it('refuses invalid UTF-8 even where the bytes would otherwise be ignored', () => {
    // 0xC3 0x28 is an invalid 2-byte sequence (RFC 3629 §3), placed in a key zod would strip:
    // a lenient decoder would substitute U+FFFD and accept the batch.
    const json = JSON.stringify({ ...batch(), note: 'XX' });
    const bytes = Buffer.from(json);
    const at = bytes.indexOf('XX');
    bytes[at] = 0xc3;
    bytes[at + 1] = 0x28;
    expect(refusal(bytes)).toMatch(/^malformed: .*utf-8/i);
    // A lone continuation byte and an overlong encoding of '/' (0xC0 0xAF) are refused too.
    expect(refusal(Uint8Array.from([0x7b, 0x80, 0x7d]))).toMatch(/utf-8/i);
    expect(refusal(Uint8Array.from([0x22, 0xc0, 0xaf, 0x22]))).toMatch(/utf-8/i);
  });

  it('refuses another payload version and names it', () => {
    expect(TELEMETRY_PAYLOAD_VERSION).toBe(1);
    expect(refusal(payload({ ...batch(), v: 2 }))).toMatch(/version 2/);
    expect(refusal(payload({ ...batch(), v: 0 }))).toMatch(/version 0/);
  });

  it('refuses a payload without a version', () => {
    const { v: _v, ...rest } = batch();
    expect(refusal(payload(rest))).toMatch(/at v\b/);
  });

  it.each([
    ['lat', { lat: 91 }],
    ['lat', { lat: -90.000001 }],
    ['lon', { lon: 180.5 }],
    ['rpm', { rpm: 16383.76 }],
    ['rpm', { rpm: -1 }],
    ['fuelLevelPct', { fuelLevelPct: 100.01 }],
    ['fuelLevelPct', { fuelLevelPct: -0.1 }],
    ['coolantC', { coolantC: -41 }],
    ['coolantC', { coolantC: 216 }],
    ['speedKmh', { speedKmh: -1 }],
    ['seq', { seq: 1.5 }],
    ['seq', { seq: -1 }],
    ['ts', { ts: Date.UTC(1999, 11, 31) }],
    ['ts', { ts: T0 + 0.5 }],
  ] as [string, Partial<TelemetrySample>][])('refuses an out-of-range %s (%j)', (field, bad) => {
    const reason = refusal(payload(batch([sample(), sample({ seq: 2, ...bad })])));
    expect(reason).toMatch(/^schema: /);
    expect(reason).toContain(`samples[1].${field}`);
  });

  // ECMAScript TimeClip (ECMA-262 §21.4.1.31): a time value beyond 8.64e15 ms is not a date.
  // Such a ts is a safe integer, so the schema (min 2000-01-01, no max) accepts it; the ingest
  // stores it and vehicles.list then fails for every tenant (see cloud/test/api.test.ts).
  it('refuses a ts no Date can represent (> 8.64e15 ms)', () => {
    const ts = 8_640_000_000_000_000 + 1000;
    expect(Number.isNaN(new Date(ts).getTime())).toBe(true);
    expect(refusal(payload(batch([sample({ ts })])))).toContain('samples[0].ts');
  });

  it('refuses a sample with a missing or non-numeric field', () => {
    const { rpm: _rpm, ...noRpm } = sample();
    expect(refusal(payload(batch([noRpm as TelemetrySample])))).toContain('samples[0].rpm');
    expect(refusal(payload(batch([{ ...sample(), lat: '48.1' } as unknown as TelemetrySample])))).toContain(
      'samples[0].lat',
    );
  });

  it('refuses an empty sample list', () => {
    expect(refusal(payload(batch([])))).toMatch(/schema: .*at samples/);
  });

  it(`refuses a payload over MAX_PAYLOAD_BYTES (${MAX_PAYLOAD_BYTES}) before parsing it`, () => {
    const json = JSON.stringify(batch());
    // Valid JSON padded with whitespace: the size is the only thing wrong with it.
    const atLimit = Buffer.from(json + ' '.repeat(MAX_PAYLOAD_BYTES - json.length));
    expect(atLimit.byteLength).toBe(MAX_PAYLOAD_BYTES);
    expect(decodeTelemetryBatch(atLimit).ok).toBe(true);
    const over = Buffer.concat([atLimit, Buffer.from(' ')]);
    const reason = refusal(over);
    expect(reason).toMatch(/^oversized: /);
    expect(reason).toContain(String(MAX_PAYLOAD_BYTES + 1));
  });

  it.each(['van+1', 'van/1', '#', '+', '', 'v'.repeat(65)])('refuses vehicleId %j', (vehicleId) => {
    expect(refusal(payload(batch([sample()], vehicleId)))).toMatch(/schema: .*at vehicleId/);
  });

  it.each(['null', '[]', '"text"', '42', 'true', '{}'])('refuses the JSON value %s', (text) => {
    expect(refusal(Buffer.from(text))).toMatch(/^schema: /);
  });

  it('never throws on random bytes (seeded, 1000 payloads)', () => {
    const rand = mulberry32(0xbad5eed);
    const valid = Buffer.from(JSON.stringify(batch()));
    for (let i = 0; i < 1000; i++) {
      // Half pure noise, half a valid payload with a few bytes flipped.
      const bytes =
        i % 2 === 0
          ? Uint8Array.from({ length: Math.floor(rand() * 200) }, () => Math.floor(rand() * 256))
          : Uint8Array.from(valid);
      if (i % 2 === 1) {
        for (let k = 0; k < 3; k++) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
      }
      const result = decodeTelemetryBatch(bytes);
      if (!result.ok) expect(result.reason.length).toBeGreaterThan(0);
    }
  });
});

describe('VehicleStatus', () => {
  it('accepts online/offline and refuses anything else', () => {
    expect(VehicleStatus.safeParse({ v: 1, state: 'online', ts: T0 }).success).toBe(true);
    expect(VehicleStatus.safeParse({ v: 1, state: 'offline', ts: T0 }).success).toBe(true);
    expect(VehicleStatus.safeParse({ v: 1, state: 'sleeping', ts: T0 }).success).toBe(false);
    expect(VehicleStatus.safeParse({ v: 2, state: 'online', ts: T0 }).success).toBe(false);
    expect(VehicleStatus.safeParse({ v: 1, state: 'online', ts: 1.5 }).success).toBe(false);
  });

  describe("the health block's VIN (backward compatible within v1)", () => {
    const health = (vin?: unknown) => ({
      v: 1,
      at: T0,
      agentVersion: '0.3.0',
      clockSource: 'gps',
      diskUsedBytes: 10,
      diskBudgetBytes: 100,
      evicted: { rawSynced: 0, rawUnsynced: 0, rollups: 0, events: 0 },
      unsentSamples: 0,
      syncLagMs: null,
      modelVersion: null,
      ...(vin === undefined ? {} : { vin }),
    });
    const parsed = (vin?: unknown) =>
      VehicleStatus.parse({ v: 1, state: 'online', ts: T0, health: health(vin) });

    it('carries a VIN as the ECU sent it, or null when none was read', () => {
      expect(parsed('1SV4KPZ70RZ012345').health?.vin).toBe('1SV4KPZ70RZ012345');
      // Not a valid ISO 3779 VIN (an O), yet reported: the cloud flags it rather than never seeing it.
      expect(parsed('1SVOKPZ70RZ012345').health?.vin).toBe('1SVOKPZ70RZ012345');
      expect(parsed(null).health?.vin).toBeNull();
    });

    it('an agent before VINs (no key) keeps its health block', () => {
      const h = parsed().health;
      expect(h?.agentVersion).toBe('0.3.0');
      expect(h && 'vin' in h ? h.vin : undefined).toBeUndefined();
    });

    it('a malformed VIN is dropped alone; the rest of the health block stays', () => {
      for (const bad of ['SHORT', '1SV4KPZ70RZ0123456', 'ÄSV4KPZ70RZ01234\u0000', 42]) {
        const h = parsed(bad).health;
        expect(h?.diskBudgetBytes).toBe(100);
        expect(h?.vin).toBeUndefined();
      }
    });
  });
});

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('decodeTelemetryBatch: binary batches skip the schema only where it would agree', () => {
  // The binary path checks ranges by hand (no parsed copy per message); it must refuse exactly
  // what the schema refuses, and leave the reason to the schema.
  const edges: [string, Partial<TelemetrySample>][] = [
    ['lat above 90', { lat: 90.0001 }],
    ['lat at -90', { lat: -90 }],
    ['lon below -180', { lon: -180.5 }],
    ['speed negative', { speedKmh: -1 }],
    ['speed at 400', { speedKmh: 400 }],
    ['rpm too high', { rpm: 16_384 }],
    ['fuel above 100', { fuelLevelPct: 100.5 }],
    ['coolant below -40', { coolantC: -41 }],
    ['NaN lat', { lat: Number.NaN }],
    ['infinite rpm', { rpm: Number.POSITIVE_INFINITY }],
    ['ts before 2000', { ts: 946_684_799_999 }],
    ['ts in 2100', { ts: 4_102_444_800_001 }],
    ['odometer negative', { odometerKm: -0.5, gpsDistanceM: 1 }],
    ['gps distance too far', { odometerKm: 1, gpsDistanceM: 1e12 + 1 }],
    ['odometer null', { odometerKm: null, gpsDistanceM: 5 }],
    ['all nulls', { lat: null, lon: null, speedKmh: null, rpm: null, fuelLevelPct: null, coolantC: null }],
  ];
  for (const [name, overrides] of edges) {
    it(name, () => {
      const b: TelemetryBatch = { v: 2, vehicleId: 'van-1', samples: [sample(overrides)], batchSeq: 3 };
      const expected = TelemetryBatch.safeParse(b);
      const got = decodeTelemetryBatch(encodeTelemetryBatch(b));
      expect(got.ok).toBe(expected.success);
      if (!got.ok) expect(got.reason).toMatch(/^schema: /);
    });
  }
  it('a vehicle id outside the pattern', () => {
    const b: TelemetryBatch = { v: 2, vehicleId: 'van 1', samples: [sample()] };
    const got = decodeTelemetryBatch(encodeTelemetryBatch(b));
    expect(got.ok).toBe(false);
  });
});
