/**
 * Power-cut consistency: a child writes (samples, rollups, acknowledgements, events, evictions
 * under a 2 MiB budget) in a tight loop and is SIGKILLed at random instants; after each kill the
 * file must pass integrity_check and the cursor must never be ahead of the last assigned seq.
 * (SIGKILL loses the process, not the page cache; a real power cut is covered by WAL checksums.)
 *
 * The kill instants come from a seeded PRNG; the seed is printed, and `POWER_CUT_SEED=<n>` runs
 * the same instants again. (The child's own timing still varies: the same seed gives the same
 * delays after "ready", not the same byte at which the write was cut.)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from '@fleet/shared/testing';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), 'fleet-powercut-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SEED = Number(process.env.POWER_CUT_SEED ?? Math.floor(Math.random() * 2 ** 32));
if (!Number.isSafeInteger(SEED))
  throw new Error(`POWER_CUT_SEED must be an integer, got ${process.env.POWER_CUT_SEED}`);
console.info(`store-power-cut: seed ${SEED} (rerun with POWER_CUT_SEED=${SEED})`);

function runAndKill(file: string, afterMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(here, 'support/store-writer.ts'), file],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    child.stdout.once('data', () => setTimeout(() => child.kill('SIGKILL'), afterMs));
    child.once('exit', (_code, signal) =>
      signal === 'SIGKILL' ? resolve() : reject(new Error(`writer exited ${signal}`)),
    );
  });
}

describe('power cut (SIGKILL) while writing', () => {
  // 4 files in parallel, 6 kills each: 24 kills (the child's tsx start-up dominates the time).
  it('leaves a sound file and cursor <= last seq after 24 kills at random points', async () => {
    await Promise.all(
      // One generator per file, so the parallel loops do not interleave their draws.
      [0, 1, 2, 3].map((lane) => killLoop(path.join(dir, `agent-${lane}.db`), 6, mulberry32(SEED + lane))),
    );
  }, 60_000);
});

async function killLoop(file: string, kills: number, random: () => number) {
  let lastSeen = 0;
  for (let k = 0; k < kills; k++) {
    await runAndKill(file, Math.floor(random() * 150));
    const db = new Database(file);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const cursor = (
      db.prepare("SELECT acked_seq FROM sync_cursor WHERE lane = 'telemetry'").get() as { acked_seq: number }
    ).acked_seq;
    const last =
      (
        db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'samples'").get() as
          | { seq: number }
          | undefined
      )?.seq ?? 0;
    expect(cursor).toBeLessThanOrEqual(last);
    expect(last).toBeGreaterThanOrEqual(lastSeen); // committed seqs survive
    lastSeen = last;
    const orphan = db
      .prepare('SELECT count(*) AS n FROM sync_acked_ranges WHERE last_seq <= ?')
      .get(cursor) as { n: number };
    expect(orphan.n).toBe(0);
    db.close();
  }
  expect(lastSeen).toBeGreaterThan(0);
}
