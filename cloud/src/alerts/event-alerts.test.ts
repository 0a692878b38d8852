import { VEHICLE_EVENT_TYPES } from '@fleet/shared';
import { describe, expect, it } from 'vitest';
import type { InsertedVehicleEvent } from '../db/queries/insert-vehicle-events.ts';
import { alertForEvent } from './event-alerts.ts';

const START = Date.UTC(2026, 11, 6, 8, 0);

function stored(e: Pick<InsertedVehicleEvent, 'type'> & Partial<InsertedVehicleEvent>): InsertedVehicleEvent {
  return {
    tenantId: 'acme',
    vehicleId: 'van-1',
    eventId: 7,
    start: START,
    end: START + 600_000,
    volumeL: null,
    lat: 48.1,
    lon: 11.5,
    driverId: null,
    confidence: 0.9,
    details: {},
    ...e,
  };
}

const title = (e: Pick<InsertedVehicleEvent, 'type'> & Partial<InsertedVehicleEvent>) =>
  alertForEvent(stored(e))?.title;

describe('alertForEvent', () => {
  it('alerts the six event types that need attention, with their severity; records the rest only', () => {
    const decided = Object.fromEntries(
      VEHICLE_EVENT_TYPES.map((type) => [type, alertForEvent(stored({ type }))?.severity ?? null]),
    );
    expect(decided).toEqual({
      refuel: null,
      fuel_drain: 'critical',
      fuel_leak: 'warning',
      long_idle: 'info',
      harsh_brake: null,
      harsh_accel: null,
      harsh_corner: null,
      speeding: 'warning',
      engine_anomaly: 'warning',
      dtc: 'warning',
      // Alerted only when the agent found it low (below).
      battery: null,
      ignition_on: null,
      ignition_off: null,
      // Recorded; a misfire among them alerts through vehicle-health-alerts.ts, not here.
      monitors: null,
      // Recorded; a day high for the vehicle becomes an inspect suggestion, not an alert.
      engine_scores: null,
    });
  });

  it('names a trouble code with its SAE J2012 text, and alerts a battery only when found low', () => {
    expect(title({ type: 'dtc', details: { code: 'P0171', description: 'System Too Lean (Bank 1)' } })).toBe(
      'Trouble code P0171 System Too Lean (Bank 1)',
    );
    expect(
      title({ type: 'battery', details: { phase: 'start', low: false, runningV: 14.1 } }),
    ).toBeUndefined();
    expect(title({ type: 'battery', details: { phase: 'resting', low: true, restingV: 11.86 } })).toBe(
      'Low battery: 11.9 V parked',
    );
    expect(
      title({
        type: 'battery',
        details: {
          phase: 'start',
          low: true,
          reasons: ['cranking', 'charging'],
          lowestV: 9.1,
          runningV: 12.9,
        },
      }),
    ).toBe('Weak battery at start: 9.1 V while starting, 12.9 V running (not charging)');
  });

  it('the alert carries the event: its key, start, place, and its fields over its details', () => {
    const alert = alertForEvent(
      stored({
        type: 'fuel_drain',
        volumeL: 12.5,
        driverId: 'dana',
        details: { rateLph: 90, confidence: 'overridden by the column' },
      }),
    );
    expect(alert).toEqual({
      tenantId: 'acme',
      vehicleId: 'van-1',
      type: 'fuel_drain',
      severity: 'critical',
      title: 'Fuel drain: 12.5 L lost',
      ts: START,
      lat: 48.1,
      lon: 11.5,
      eventId: 7,
      geofenceId: null,
      details: {
        rateLph: 90,
        confidence: 0.9,
        volumeL: 12.5,
        endTs: '2026-12-06T08:10:00.000Z',
        driverId: 'dana',
      },
    });
  });

  it('volumes read with one decimal, half away from zero, as the stored real shows them', () => {
    expect(title({ type: 'fuel_drain', volumeL: 18 })).toBe('Fuel drain: 18.0 L lost');
    expect(title({ type: 'fuel_leak', volumeL: 2.25 })).toBe('Slow fuel leak: 2.3 L lost');
    // 12.35 is a little under 12.35 in binary; numeric rounding of the shown digits gives 12.4.
    expect(title({ type: 'fuel_drain', volumeL: 12.35 })).toBe('Fuel drain: 12.4 L lost');
    expect(title({ type: 'fuel_drain', volumeL: 0.04 })).toBe('Fuel drain: 0.0 L lost');
    expect(title({ type: 'fuel_drain' })).toBe('Fuel drain');
  });

  it('details fill the other titles; missing or unusable ones leave the title plain', () => {
    expect(title({ type: 'dtc', details: { code: 'P0301' } })).toBe('Trouble code P0301');
    expect(title({ type: 'dtc' })).toBe('Trouble code');
    expect(title({ type: 'speeding', details: { maxSpeedKmh: 92.5, limitKmh: 80 } })).toBe(
      'Speeding: 92.5 km/h',
    );
    expect(title({ type: 'speeding', details: { maxSpeedKmh: null } })).toBe('Speeding');
    expect(title({ type: 'long_idle', details: { durationS: 1200 } })).toBe('Long idle: 20 min');
    expect(title({ type: 'long_idle', details: { durationS: 90 } })).toBe('Long idle: 2 min'); // 1.5 rounds up
    expect(title({ type: 'long_idle', details: { durationS: '600' } })).toBe('Long idle: 10 min');
    expect(title({ type: 'long_idle', details: { durationS: 'ten minutes' } })).toBe('Long idle');
    expect(title({ type: 'engine_anomaly', details: { score: 3.2 } })).toBe('Engine anomaly');
  });
});
