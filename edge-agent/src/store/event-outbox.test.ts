import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLogger } from '@fleet/shared/log';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LiveDetectors } from '../fuel/live.ts';
import { AgentDb } from './agent-db.ts';
import { rowToVehicleEvent } from './event-outbox.ts';

const T0 = Date.UTC(2024, 4, 1, 8, 0, 0);
let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'fleet-events-'));
  file = path.join(dir, 'agent.db');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('EventOutbox', () => {
  it('numbers events by their row id, keeps every field, and lists them after a cursor', () => {
    const db = new AgentDb(file);
    const store = db.events;
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
    db.close();
    // Ids are never reused, also after the newest row is deleted (AUTOINCREMENT).
    const sql = new Database(file);
    sql.prepare('DELETE FROM events WHERE id = ?').run(b.id);
    sql.close();
    const again = new AgentDb(file);
    expect(again.events.record(b).id).toBe(b.id + 1);
    again.close();
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
      const db = new AgentDb(f);
      const first = db.events.record(event).id;
      expect(db.events.record(event).id).toBe(first + 1);
      db.close();
      return first;
    });
    for (const id of ids) {
      expect(id).toBeGreaterThan(2 ** 40);
      expect(Number.isSafeInteger(id + 1e9)).toBe(true);
    }
    // The cloud's key (tenant, vehicle, event id) tells the three databases' events apart.
    expect(new Set(ids).size).toBe(3);
  });

  it('hands the lane batches above its cursor, steps over rows that are not VehicleEvents, and moves only on acknowledge', () => {
    const db = new AgentDb(file);
    const e = (start: number) => ({
      type: 'harsh_brake' as const,
      start,
      end: start,
      lat: null,
      lon: null,
      driverId: null,
      confidence: 0.7,
      modelVersion: null,
      details: {},
    });
    const a = db.events.record(e(T0));
    const trip = db.events.append({ type: 'trip', startTs: T0 + 1, endTs: T0 + 2 });
    const b = db.events.record(e(T0 + 3));
    expect(db.events.pending()).toBe(3);
    const batch = db.events.nextBatch(10);
    expect(batch.events).toEqual([a, b]);
    expect(batch.skipped).toEqual([{ id: trip, reason: 'type "trip" is not a VehicleEvent type' }]);
    expect(batch.lastId).toBe(b.id);
    // Not acknowledged yet: the same batch again (a resend after a lost ack).
    expect(db.events.nextBatch(10)).toEqual(batch);
    db.events.acknowledge(batch.lastId);
    expect(db.events.ackedId()).toBe(b.id);
    expect(db.events.pending()).toBe(0);
    expect(db.events.nextBatch(10)).toEqual({ events: [], skipped: [], lastId: b.id });
    // Batch numbers are durable and only grow.
    const n = db.events.nextBatchSeq();
    expect(db.events.nextBatchSeq()).toBe(n + 1);
    db.close();
  });

  it('live detectors store what the pipeline decides, as the agent feeds samples', () => {
    const db = new AgentDb(file);
    const live = new LiveDetectors(db.events, { tankLitres: 60 }, createLogger('event-outbox-test'));
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
    expect(db.events.listSince(0, 10)).toEqual(found);
    db.close();
  });
});

const T1 = Date.UTC(2026, 10, 2, 8, 0, 0);
const row = (
  over: Partial<{ id: number; type: string; start_ts: number; end_ts: number | null; payload: string }>,
) => ({
  id: 7,
  type: 'refuel',
  start_ts: T1,
  end_ts: T1 + 90_000,
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
        start: T1,
        end: T1 + 90_000,
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
      event: { type: 'dtc', start: T1, end: T1, details: { code: 'P0300', ecu: '7E8' } },
    });
  });

  it('says why a row is not a VehicleEvent (so the lane steps over it, counted)', () => {
    const reasons = [
      row({ type: 'trip' }),
      row({ payload: '{oops' }),
      row({ payload: '[1,2]' }),
      row({ payload: JSON.stringify({ volumeL: 4 }) }), // no confidence
      row({ end_ts: T1 - 1 }),
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
