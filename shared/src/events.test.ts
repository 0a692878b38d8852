import { describe, expect, it } from 'vitest';
import { decodeVehicleEventBatch, MAX_EVENTS_PER_BATCH, type VehicleEvent } from './events.ts';

const T0 = Date.UTC(2026, 10, 2, 8, 0, 0);

function event(id: number, over: Partial<VehicleEvent> = {}): VehicleEvent {
  return {
    id,
    type: 'refuel',
    start: T0 + id * 60_000,
    end: T0 + id * 60_000 + 120_000,
    volumeL: 41.5,
    lat: 48.1,
    lon: 11.5,
    driverId: null,
    confidence: 0.93,
    modelVersion: null,
    details: { levelBeforeL: 12 },
    ...over,
  };
}

const encode = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

describe('decodeVehicleEventBatch', () => {
  it('accepts a valid batch and keeps every field', () => {
    const batch = { v: 1, vehicleId: 'van-1', batchSeq: 7, events: [event(1), event(2)] };
    const r = decodeVehicleEventBatch(encode(batch));
    expect(r).toEqual({ ok: true, batch });
  });

  it('refuses, with a reason and without throwing, what the cloud must not store', () => {
    const cases: [Uint8Array, RegExp][] = [
      [new TextEncoder().encode('{not json'), /^malformed/],
      [new Uint8Array([0xff, 0xfe, 0x00]), /^malformed/],
      [
        encode({ v: 2, vehicleId: 'van-1', batchSeq: 1, events: [event(1)] }),
        /unsupported payload version 2/,
      ],
      [encode({ v: 1, vehicleId: 'van/1', batchSeq: 1, events: [event(1)] }), /^schema:.*vehicleId/],
      [encode({ v: 1, vehicleId: 'van-1', batchSeq: 1, events: [] }), /^schema:.*events/],
      [
        encode({ v: 1, vehicleId: 'van-1', batchSeq: 1, events: [{ ...event(1), type: 'teleport' }] }),
        /^schema:/,
      ],
      [
        encode({ v: 1, vehicleId: 'van-1', batchSeq: 1, events: [event(1, { end: T0 - 1 })] }),
        /end is before start/,
      ],
      [
        encode({ v: 1, vehicleId: 'van-1', batchSeq: 1, events: [event(1, { confidence: 1.5 })] }),
        /confidence/,
      ],
      [
        encode({ v: 1, vehicleId: 'van-1', batchSeq: 1, events: [event(1, { driverId: 'a\u0000b' })] }),
        /U\+0000/,
      ],
      [
        encode({
          v: 1,
          vehicleId: 'van-1',
          batchSeq: 1,
          events: Array.from({ length: MAX_EVENTS_PER_BATCH + 1 }, (_, i) => event(i + 1)),
        }),
        /^schema:.*events/,
      ],
      [new Uint8Array(1024 * 1024 + 1).fill(32), /^oversized/],
      [encode(null), /^schema:/],
    ];
    for (const [payload, reason] of cases) {
      const r = decodeVehicleEventBatch(payload);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.reason).toMatch(reason);
    }
  });
});
