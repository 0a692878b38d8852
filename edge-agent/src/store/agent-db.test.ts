import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentErrorCode, isAgentError } from '../errors.ts';
import { AgentDb } from './agent-db.ts';
import { MIGRATIONS } from './migrations.ts';
import type { NewSample } from './sample-outbox.ts';

const T0 = Date.UTC(2024, 4, 1, 8, 0, 0);

function newSample(i: number, overrides: Partial<NewSample> = {}): NewSample {
  return {
    ts: T0 + i * 1000,
    lat: 48.1 + i / 1e4,
    lon: 11.5 - i / 1e4,
    speedKmh: i % 120,
    rpm: 750 + i * 0.25,
    fuelLevelPct: (100 * (200 - (i % 200))) / 255,
    coolantC: 90,
    ...overrides,
  };
}

let dir: string;
let file: string;
const open: AgentDb[] = [];

function openStore(): AgentDb {
  const store = new AgentDb(file);
  open.push(store);
  return store;
}

/** Closes a store as the agent does on shutdown (or as a crash would, minus the close). */
function closeStore(store: AgentDb) {
  store.close();
  open.splice(open.indexOf(store), 1);
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'fleet-store-'));
  file = path.join(dir, 'nested', 'agent.db'); // the store creates missing folders
});

afterEach(() => {
  for (const s of open.splice(0)) s.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('AgentDb', () => {
  it('assigns strictly increasing seq numbers starting at 1', () => {
    const store = openStore();
    const seqs = Array.from({ length: 50 }, (_, i) => store.samples.append(newSample(i)));
    expect(seqs[0]).toBe(1);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe(seqs[i - 1]! + 1);
    expect(store.stats()).toMatchObject({ samples: 50, lastSeq: 50, ackedSeq: 0, unsent: 50 });
  });

  it('returns pending samples oldest first, at most `limit`, with every field intact', () => {
    const store = openStore();
    const inputs = Array.from({ length: 10 }, (_, i) => newSample(i));
    inputs[3] = newSample(3, {
      lat: null,
      lon: null,
      rpm: null,
      speedKmh: null,
      fuelLevelPct: null,
      coolantC: null,
    });
    const seqs = inputs.map((s) => store.samples.append(s));

    const first = store.samples.pending(4);
    expect(first).toEqual(inputs.slice(0, 4).map((s, i) => ({ seq: seqs[i], ...s })));
    expect(store.samples.pending(100)).toHaveLength(10);
    expect(store.samples.pending(100).map((s) => s.seq)).toEqual(seqs);
    // pending() only reads: asking twice returns the same batch.
    expect(store.samples.pending(4)).toEqual(first);
  });

  it('acknowledge moves the cursor: pending starts after it', () => {
    const store = openStore();
    for (let i = 0; i < 10; i++) store.samples.append(newSample(i));
    store.samples.acknowledge(4);
    expect(store.samples.ackedSeq()).toBe(4);
    expect(store.samples.pending(3).map((s) => s.seq)).toEqual([5, 6, 7]);
    store.samples.acknowledge(10);
    expect(store.samples.pending(100)).toEqual([]);
    expect(store.stats()).toMatchObject({ samples: 10, lastSeq: 10, ackedSeq: 10, unsent: 0 });
  });

  it('never moves the cursor backwards (a late acknowledgement of an older batch)', () => {
    const store = openStore();
    for (let i = 0; i < 10; i++) store.samples.append(newSample(i));
    store.samples.acknowledge(8);
    store.samples.acknowledge(3);
    store.samples.acknowledge(0);
    expect(store.samples.ackedSeq()).toBe(8);
    expect(store.samples.pending(10).map((s) => s.seq)).toEqual([9, 10]);
  });

  it('keeps samples and cursor across a restart (reopening the file)', () => {
    const before = openStore();
    for (let i = 0; i < 20; i++) before.samples.append(newSample(i));
    before.samples.acknowledge(12);
    const expectedPending = before.samples.pending(100);
    closeStore(before);

    const after = openStore();
    expect(after.samples.ackedSeq()).toBe(12);
    expect(after.samples.pending(100)).toEqual(expectedPending);
    expect(after.samples.pending(100).map((s) => s.seq)).toEqual([13, 14, 15, 16, 17, 18, 19, 20]);
    // New samples continue the sequence.
    expect(after.samples.append(newSample(20))).toBe(21);
  });

  it('survives a restart without close() (process killed): WAL data is read back', () => {
    const before = openStore(); // deliberately not closed before the reopen
    for (let i = 0; i < 5; i++) before.samples.append(newSample(i));
    before.samples.acknowledge(2);
    const after = openStore();
    expect(after.samples.ackedSeq()).toBe(2);
    expect(after.samples.pending(10).map((s) => s.seq)).toEqual([3, 4, 5]);
  });

  it('never reuses a seq, even after the newest rows are deleted (AUTOINCREMENT)', () => {
    const store = openStore();
    for (let i = 0; i < 10; i++) store.samples.append(newSample(i));
    closeStore(store);

    // Delete the newest rows behind the store's back (e.g. a retention job, or a restore).
    const db = new Database(file);
    db.prepare('DELETE FROM samples WHERE seq > 7').run();
    db.close();

    const reopened = openStore();
    expect(reopened.stats().lastSeq).toBe(7);
    // Without AUTOINCREMENT SQLite would hand out max(rowid) + 1 = 8 again.
    expect(reopened.samples.append(newSample(10))).toBe(11);
  });

  it('does not reuse a seq after deleting every row', () => {
    const store = openStore();
    for (let i = 0; i < 3; i++) store.samples.append(newSample(i));
    closeStore(store);
    const db = new Database(file);
    db.prepare('DELETE FROM samples').run();
    db.close();
    expect(openStore().samples.append(newSample(3))).toBe(4);
  });

  it('opens an existing database without re-running its migrations', () => {
    closeStore(openStore());
    const db = new Database(file);
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    const again = openStore(); // would fail on "table samples already exists" otherwise
    expect(again.samples.append(newSample(0))).toBe(1);
  });

  it('fails with StoreFailed when the file cannot be opened', () => {
    const blocker = path.join(dir, 'not-a-dir');
    new Database(blocker).close(); // a file where the store wants a folder
    let caught: unknown;
    try {
      new AgentDb(path.join(blocker, 'agent.db'));
    } catch (err) {
      caught = err;
    }
    expect(isAgentError(caught, AgentErrorCode.StoreFailed)).toBe(true);
  });
});
