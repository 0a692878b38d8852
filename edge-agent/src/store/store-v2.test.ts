import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentDb, type AgentDbOptions } from './agent-db.ts';
import { MIGRATIONS } from './migrations.ts';
import type { NewSample } from './sample-outbox.ts';

const T0 = Date.UTC(2024, 4, 1, 8, 0, 0);
const sample = (i: number): NewSample => ({
  ts: T0 + i * 1000,
  lat: 48.1 + i / 1e4,
  lon: 11.5 - i / 1e4,
  speedKmh: i % 120,
  rpm: 750 + i * 0.25,
  fuelLevelPct: i % 7 === 0 ? null : (100 * (200 - (i % 200))) / 255,
  coolantC: 90,
});

let dir: string;
let file: string;
const open: AgentDb[] = [];
const openStore = (o: AgentDbOptions = {}) => {
  const s = new AgentDb(file, o);
  open.push(s);
  return s;
};
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'fleet-store2-'));
  file = path.join(dir, 'agent.db');
});
afterEach(() => {
  for (const s of open.splice(0)) s.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('migrations', () => {
  it('upgrades a v1 file (schema of the first release) keeping samples and cursor, with rollups backfilled', () => {
    const v1 = new Database(file);
    v1.pragma('journal_mode = WAL');
    v1.exec(MIGRATIONS[0]!);
    v1.pragma('user_version = 1');
    const ins = v1.prepare(
      'INSERT INTO samples (ts, lat, lon, speed_kmh, rpm, fuel_level_pct, coolant_c) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    for (let i = 0; i < 150; i++) {
      const s = sample(i);
      ins.run(s.ts, s.lat, s.lon, s.speedKmh, s.rpm, s.fuelLevelPct, s.coolantC);
    }
    v1.prepare("UPDATE sync_cursor SET acked_seq = 100 WHERE lane = 'telemetry'").run();
    v1.close();

    const store = openStore();
    expect(store.samples.ackedSeq()).toBe(100);
    expect(store.samples.pending(100).map((s) => s.seq)).toEqual(
      Array.from({ length: 50 }, (_, i) => 101 + i),
    );
    const rollups = store.samples.rollups();
    expect(rollups.map((r) => r.count)).toEqual([60, 60, 30]);
    expect(rollups[0]!.speedKmh).toEqual({ min: 0, max: 59, avg: 29.5, n: 60 });
    expect(store.samples.append(sample(150))).toBe(151);
    expect(store.stats().evictions).toEqual({ rawSynced: 0, rawUnsynced: 0, rollups: 0, events: 0 });
    store.close();
    open.pop();
    const db = new Database(file);
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(db.pragma('auto_vacuum', { simple: true })).toBe(2);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  });
});

describe('rollups and events', () => {
  it('keeps min/max/avg/count per minute, ignoring nulls', () => {
    const store = openStore();
    for (let i = 0; i < 60; i++) store.samples.append(sample(i));
    const [r] = store.samples.rollups();
    expect(r!.count).toBe(60);
    expect(r!.rpm).toEqual({ min: 750, max: 750 + 59 * 0.25, avg: 750 + 29.5 * 0.25, n: 60 });
    expect(r!.fuelLevelPct.n).toBe(60 - 9); // i % 7 === 0 is null
  });

  it('stores generic events with a JSON payload', () => {
    const store = openStore();
    store.events.append({ type: 'dtc', startTs: T0, payload: { code: 'P0300' } });
    store.events.append({ type: 'trip', startTs: T0 - 1000, endTs: T0 + 5000 });
    expect(store.events.list().map((e) => [e.type, e.payload])).toEqual([
      ['trip', {}],
      ['dtc', { code: 'P0300' }],
    ]);
  });
});

describe('contiguous acknowledgement', () => {
  it('moves the cursor only over a complete prefix; acked ranges above it are not resent', () => {
    const store = openStore();
    for (let i = 0; i < 30; i++) store.samples.append(sample(i));
    store.samples.acknowledgeRange(21, 30); // live batch acked while the backlog is in flight
    expect(store.samples.ackedSeq()).toBe(0);
    expect(store.samples.unsent({ limit: 100 }).map((s) => s.seq)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    store.samples.acknowledgeRange(11, 20);
    expect(store.samples.ackedSeq()).toBe(0);
    store.samples.acknowledgeRange(1, 10);
    expect(store.samples.ackedSeq()).toBe(30);
    expect(store.samples.unsent({ limit: 100 })).toEqual([]);
    expect(store.stats().unsent).toBe(0);
  });

  it('batch sequence is strictly increasing across restarts', () => {
    const a = openStore();
    expect([a.samples.nextBatchSeq(), a.samples.nextBatchSeq()]).toEqual([1, 2]);
    a.close();
    open.pop();
    expect(openStore().samples.nextBatchSeq()).toBe(3);
  });
});

describe('disk budget', () => {
  it('evicts oldest synced samples first, then unsynced, then rollups and events; counts each; keeps running', () => {
    const budget = 256 * 1024;
    const store = openStore({ diskBudgetBytes: budget, budgetCheckEvery: 100 });
    store.events.append({ type: 'trip', startTs: T0 });
    for (let i = 0; i < 1500; i++) store.samples.append(sample(i));
    expect(store.stats().evictions.rawUnsynced).toBe(0);
    store.samples.acknowledge(1000);
    // Push past the budget: synced rows go first.
    let i = 1500;
    while (store.stats().evictions.rawSynced === 0 && i < 10_000) store.samples.append(sample(i++));
    let st = store.stats();
    expect(st.fileBytes).toBeLessThanOrEqual(budget);
    expect(st.evictions.rawSynced).toBeGreaterThan(0);
    expect(st.evictions.rawUnsynced).toBe(0);
    expect(store.samples.pending(1)[0]!.seq).toBe(1001); // nothing unsent lost yet
    // Keep writing with nothing acknowledged: now unsynced rows go, oldest first.
    while (i < 20_000) store.samples.append(sample(i++));
    st = store.stats();
    expect(st.fileBytes).toBeLessThanOrEqual(budget);
    expect(st.evictions.rawSynced).toBe(1000);
    expect(st.evictions.rawUnsynced).toBeGreaterThan(0);
    expect(st.evictions.rollups + st.evictions.events).toBe(0);
    const oldest = store.samples.pending(1)[0]!.seq;
    expect(oldest).toBe(1001 + st.evictions.rawUnsynced);
    expect(st.ackedSeq).toBe(oldest - 1); // evicted seqs need no ack
    expect(st.lastSeq).toBe(20_000);
    expect(st.samples + st.evictions.rawSynced + st.evictions.rawUnsynced).toBe(20_000);
  });

  it('falls back to rollups and events when no raw samples are left', () => {
    const store = openStore({ diskBudgetBytes: 64 * 1024, budgetCheckEvery: 1_000_000 });
    for (let i = 0; i < 100; i++)
      store.events.append({ type: 'harsh', startTs: T0 + i, payload: { pad: 'x'.repeat(500) } });
    for (let i = 0; i < 1500; i++) store.samples.append({ ...sample(i), ts: T0 + i * 60_000 }); // one rollup each
    const ev = store.enforceBudget();
    expect(ev.rawSynced).toBe(0);
    expect(ev.rawUnsynced).toBe(1500);
    expect(ev.rollups).toBeGreaterThan(0);
    expect(store.stats().fileBytes).toBeLessThanOrEqual(64 * 1024);
    expect(store.samples.append(sample(9999))).toBe(1501);
  });

  it('metricBufferLimit caps unsent samples, dropping the oldest', () => {
    const store = openStore({ metricBufferLimit: 100, budgetCheckEvery: 50 });
    for (let i = 0; i < 500; i++) store.samples.append(sample(i));
    const st = store.stats();
    expect(st.unsent).toBeLessThanOrEqual(150);
    expect(st.evictions.rawUnsynced).toBe(500 - st.unsent);
    expect(store.samples.pending(1)[0]!.seq).toBe(501 - st.unsent);
  });
});
