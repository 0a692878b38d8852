import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLogger } from '@fleet/shared/log';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LiveDetectors } from '../fuel/live.ts';
import { rowToVehicleEvent } from '../sync/event-sync.ts';
import { EventStore } from './event-store.ts';
import { SampleStore } from './sample-store.ts';

const T0 = Date.UTC(2024, 4, 1, 8, 0, 0);
let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'fleet-events-'));
  file = path.join(dir, 'agent.db');
  new SampleStore(file).close(); // runs the migrations: the events table
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('EventStore', () => {
  it('numbers events by their row id, keeps every field, and lists them after a cursor', () => {
    const store = EventStore.open(file);
    const a = store.record({
      type: 'fuel_drain',
      start: T0,
      end: T0 + 60_000,
      volumeL: 12.5,
      lat: 48.1,
      lon: 11.5,
      driverId: null,
      confidence: 0.9,
      modelVersion: null,
      details: { during: 'ignition_off' },
    });
    const b = store.record({
      type: 'long_idle',
      start: T0 + 100_000,
      end: T0 + 500_000,
      lat: null,
      lon: null,
      driverId: 'd-7',
      confidence: 0.95,
      modelVersion: null,
      details: { durationS: 400 },
    });
    expect(b.id).toBe(a.id + 1);
    expect(store.listSince(0, 10)).toEqual([a, b]);
    expect(store.listSince(a.id, 10)).toEqual([b]);
    expect(store.listSince(0, 1)).toEqual([a]);
    // The cloud lane reads the same rows back into the same events.
    const raw = new Database(file, { readonly: true });
    const rows = raw.prepare('SELECT id, type, start_ts, end_ts, payload FROM events ORDER BY id').all();
    raw.close();
    expect(rows.map((r) => rowToVehicleEvent(r as never))).toEqual([
      { ok: true, event: a },
      { ok: true, event: b },
    ]);
    store.close();
    // Ids are never reused, also after the newest row is deleted (AUTOINCREMENT).
    const db = new Database(file);
    db.prepare('DELETE FROM events WHERE id = ?').run(b.id);
    const again = new EventStore(db);
    expect(again.record(b).id).toBe(b.id + 1);
    db.close();
  });

  it('a recreated database does not count from 1 again: ids start at a random point above 2^40', () => {
    const event = {
      type: 'long_idle' as const,
      start: T0,
      end: T0 + 1000,
      lat: null,
      lon: null,
      driverId: null,
      confidence: 0.9,
      modelVersion: null,
      details: {},
    };
    const ids = [file, path.join(dir, 'reflashed.db'), path.join(dir, 'new-card.db')].map((f) => {
      new SampleStore(f).close();
      const store = EventStore.open(f);
      const first = store.record(event).id;
      expect(store.record(event).id).toBe(first + 1);
      store.close();
      return first;
    });
    for (const id of ids) {
      expect(id).toBeGreaterThan(2 ** 40);
      expect(Number.isSafeInteger(id + 1e9)).toBe(true);
    }
    // The cloud's key (tenant, vehicle, event id) tells the three databases' events apart.
    expect(new Set(ids).size).toBe(3);
  });

  it('refuses a database without the events table with a clear error', () => {
    const bare = new Database(path.join(dir, 'bare.db'));
    expect(() => new EventStore(bare)).toThrow(/no events table/);
    bare.close();
  });

  it('live detectors store what the pipeline decides, as the agent feeds samples', () => {
    const live = new LiveDetectors(file, { tankLitres: 60 }, createLogger('event-store-test'));
    // Idle for 6 minutes, then drive: one long_idle.
    let ts = T0;
    for (let i = 0; i < 360; i++, ts += 1000) {
      live.push({
        ts,
        speedKmh: 0,
        rpm: 800,
        fuelLevelPct: 50,
        fuelRateLph: 0.9,
        mafGps: null,
        lat: 48,
        lon: 11,
        ignition: null,
        coolantC: 90,
      });
    }
    const found = [];
    for (let i = 1; i <= 10; i++, ts += 1000) {
      found.push(
        ...live.push({
          ts,
          speedKmh: 2 * i,
          rpm: 1500,
          fuelLevelPct: 50,
          fuelRateLph: 3,
          mafGps: null,
          lat: 48,
          lon: 11,
          ignition: null,
        }),
      );
    }
    live.stop();
    expect(found.map((e) => e.type)).toEqual(['long_idle']);
    const store = EventStore.open(file);
    expect(store.listSince(0, 10)).toEqual(found);
    store.close();
  });
});
