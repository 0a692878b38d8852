/**
 * Issue 17 §2 on the vehicle: each stored sample carries the odometer (PID A6) and the GPS
 * odometer; a parked vehicle's wander adds nothing; a restarted agent goes on from its store.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLogger } from '@fleet/shared/log';
import { afterEach, describe, expect, it } from 'vitest';
import type { LiveDetectors } from './fuel/live.ts';
import { SampleClock } from './gps/clock.ts';
import type { GpsFix } from './gps/nmea/rmc.ts';
import { SampleRecorder } from './recorder.ts';
import { AgentDb } from './store/agent-db.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'fleet-odometer-'));
afterEach(() => rmSync(dir, { recursive: true, force: true }));
const log = createLogger('gps-odometer-test').child({}, { level: 'silent' });
const T0 = Date.UTC(2026, 6, 14, 8);

function recorderOn(db: AgentDb, obd: { speedKmh: number | null; odometerKm: number | null }) {
  const latest = { rpm: 900, fuelLevelPct: null, coolantC: null, ...obd };
  const detectors = { push: () => {} } as unknown as LiveDetectors;
  const r = new SampleRecorder(
    new SampleClock(),
    { latest, state: 'polling', fuelRateLph: null },
    db.samples,
    detectors,
    log,
  );
  return { r, latest };
}

const fix = (i: number, lat: number, speedKmh: number | null): GpsFix =>
  ({
    ts: T0 + i * 1000,
    lat,
    lon: -105,
    speedKmh,
    courseDeg: null,
    altitudeM: null,
    mode: 3,
    satellitesUsed: 8,
    satellitesVisible: 12,
  }) as GpsFix;

describe('odometer and GPS odometer on every sample', () => {
  it('parked wander adds nothing, driving adds its distance, a restart goes on from the store', () => {
    const file = path.join(dir, 'agent.db');
    let db = new AgentDb(file);
    const { r, latest } = recorderOn(db, { speedKmh: 0, odometerKm: 12_345.6 });
    // A minute parked, the receiver wandering ±8 m around the spot (OBD speed 0).
    for (let i = 0; i < 60; i++) r.record(fix(i, 40 + (i % 3) * 0.00007, 8));
    // Then 100 s north at 80 km/h (0.0002° = 22.2 m a second).
    latest.speedKmh = 80;
    for (let i = 60; i < 160; i++) r.record(fix(i, 40.001 + (i - 60) * 0.0002, 80));
    const samples = db.samples.pending(1000);
    expect(samples).toHaveLength(160);
    expect(samples[59]!.gpsDistanceM).toBe(0);
    expect(samples.every((s) => s.odometerKm === 12_345.6)).toBe(true);
    const driven = samples.at(-1)!.gpsDistanceM!;
    // The first step leaves the parking spot (0.001° + wander), then 99 × 22.24 m.
    expect(driven).toBeGreaterThan(99 * 22.2);
    expect(driven).toBeLessThan(99 * 22.3 + 120);
    db.close();

    db = new AgentDb(file);
    const again = recorderOn(db, { speedKmh: 80, odometerKm: null });
    again.r.record(fix(200, 40.001 + 100 * 0.0002, 80)); // the first fix after a restart anchors
    again.r.record(fix(201, 40.001 + 101 * 0.0002, 80));
    const after = db.samples.pending(1000).slice(-2);
    expect(after[0]!.gpsDistanceM).toBe(driven);
    expect(after[1]!.gpsDistanceM).toBeCloseTo(driven + 22.24, 0);
    expect(after[1]!.odometerKm).toBeUndefined(); // no PID A6: absent, as before issue 17
    db.close();
  });
});
