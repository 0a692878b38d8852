import { describe, expect, it } from 'vitest';
import { rowToVehicleEvent } from './event-sync.ts';

const T0 = Date.UTC(2026, 10, 2, 8, 0, 0);
const row = (
  over: Partial<{ id: number; type: string; start_ts: number; end_ts: number | null; payload: string }>,
) => ({
  id: 7,
  type: 'refuel',
  start_ts: T0,
  end_ts: T0 + 90_000,
  payload: JSON.stringify({ volumeL: 41, confidence: 0.8, details: { levelBeforeL: 9 } }),
  ...over,
});

describe('rowToVehicleEvent (events row -> VehicleEvent)', () => {
  it('takes id, type, start and end from the columns and the rest from the payload', () => {
    expect(rowToVehicleEvent(row({}))).toEqual({
      ok: true,
      event: {
        id: 7,
        type: 'refuel',
        start: T0,
        end: T0 + 90_000,
        volumeL: 41,
        lat: null,
        lon: null,
        driverId: null,
        confidence: 0.8,
        modelVersion: null,
        details: { levelBeforeL: 9 },
      },
    });
  });

  it('keeps payload keys the contract does not know in details, and reads a missing end as an instant', () => {
    const r = rowToVehicleEvent(
      row({
        type: 'dtc',
        end_ts: null,
        payload: JSON.stringify({ confidence: 1, code: 'P0300', details: { ecu: '7E8' } }),
      }),
    );
    expect(r).toMatchObject({
      ok: true,
      event: { type: 'dtc', start: T0, end: T0, details: { code: 'P0300', ecu: '7E8' } },
    });
  });

  it('says why a row is not a VehicleEvent (so the lane steps over it, counted)', () => {
    const reasons = [
      row({ type: 'trip' }),
      row({ payload: '{oops' }),
      row({ payload: '[1,2]' }),
      row({ payload: JSON.stringify({ volumeL: 4 }) }), // no confidence
      row({ end_ts: T0 - 1 }),
      row({ payload: JSON.stringify({ confidence: 0.5, lat: 123 }) }),
    ].map((r) => {
      const out = rowToVehicleEvent(r);
      return out.ok ? 'ok' : out.reason;
    });
    expect(reasons[0]).toBe('type "trip" is not a VehicleEvent type');
    expect(reasons[1]).toMatch(/^payload is not JSON/);
    expect(reasons[2]).toBe('payload is not a JSON object');
    expect(reasons[3]).toMatch(/confidence/);
    expect(reasons[4]).toBe('end is before start');
    expect(reasons[5]).toMatch(/lat/);
  });
});
