/**
 * Several ingest processes on one MQTT 5 shared subscription (local Mosquitto): three OS
 * processes (support/ingest-process.ts), each with its own pool and connections, split the load;
 * the totals are exact and nothing is stored twice, redeliveries included (a batch sent twice can
 * reach two processes at once: one stores it, the other's plain INSERT meets the key and redoes
 * its group with ON CONFLICT).
 */
import path from 'node:path';
import { createLogger } from '@fleet/shared/log';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { migrate } from '../src/db/migrate.ts';
import type { IngestStats } from '../src/ingest/telemetry-ingest.ts';
import { type LineChild, startLineChild } from './support/line-child.ts';
import { publishBatches } from './support/publisher.ts';
import { MQTT_URL, openTestPool, POSTGRES_URL, requireServices, uniqueId } from './support/services.ts';

const log = createLogger('test').child({}, { level: 'error' });
const base = uniqueId('test/shared').replace('_', '-');
const VEHICLES = 20;
const BATCHES = 25;
const SIZE = 40;
let db: Awaited<ReturnType<typeof openTestPool>>;

const processes: LineChild[] = [];

const startIngestProcess = (i: number) =>
  startLineChild(`ingest process ${i}`, path.join(import.meta.dirname, 'support/ingest-process.ts'), [
    POSTGRES_URL,
    db.schema,
    MQTT_URL,
    base,
    'fleet-ingest-test',
    uniqueId(`ingest-${i}`),
  ]);

beforeAll(async () => {
  await requireServices({ postgres: true, mqtt: true });
  db = await openTestPool('t_shared');
  await migrate(db.pool, log);
  processes.push(...(await Promise.all([0, 1, 2].map(startIngestProcess))));
}, 60_000);

afterAll(async () => {
  for (const p of processes) {
    const { clientIds } = await p.ask<{ clientIds: string[] }>('stop').catch(() => ({ clientIds: [] }));
    p.child.kill();
    for (const clientId of clientIds) {
      const cleaner = await mqtt.connectAsync(MQTT_URL, { clientId, clean: true }).catch(() => null);
      await cleaner?.endAsync();
    }
  }
  await db?.drop();
});

describe('three ingest processes sharing one subscription', () => {
  it('split the messages, store every sample exactly once, twice-sent batches included', async () => {
    const stats = () => Promise.all(processes.map((p) => p.ask<IngestStats & { mode: string }>('stats')));
    expect((await stats()).map((s) => s.mode)).toEqual(['shared', 'shared', 'shared']);
    const pub = await mqtt.connectAsync(MQTT_URL, { clientId: uniqueId('pub'), clean: true });
    const t0 = Date.UTC(2024, 5, 1);
    // Every vehicle's stream is sent twice (an agent that lost its cursor): all duplicates.
    for (let round = 0; round < 2; round++) {
      await Promise.all(
        Array.from({ length: VEHICLES }, (_, v) =>
          publishBatches(pub, {
            base,
            tenantId: 'acme',
            vehicleId: `van-${v}`,
            fromSeq: 0,
            batches: BATCHES,
            size: SIZE,
            t0,
          }),
        ),
      );
    }
    await pub.endAsync();
    const total = VEHICLES * BATCHES * SIZE;
    let all: IngestStats[] = [];
    const sum = (f: (s: IngestStats) => number) => all.reduce((a, s) => a + f(s), 0);
    await vi.waitFor(
      async () => {
        all = await stats();
        expect(sum((s) => s.batches)).toBe(2 * VEHICLES * BATCHES);
      },
      { timeout: 30_000, interval: 100 },
    );
    // A valid batch must never be dead-lettered, e.g. by a registration race between ingests.
    expect(sum((s) => s.deadLetters)).toBe(0);
    expect(sum((s) => s.samplesInserted)).toBe(total);
    expect(sum((s) => s.samplesDuplicate)).toBe(total);
    for (const s of all) expect(s.batches, 'every process got a share').toBeGreaterThan(0);
    const { rows } = await db.pool.query<{ n: number; keys: number; minutes: number }>(
      `SELECT (SELECT count(*) FROM telemetry)::int AS n,
              (SELECT count(DISTINCT (vehicle_id, seq)) FROM telemetry)::int AS keys,
              (SELECT sum(samples) FROM telemetry_minute)::int AS minutes`,
    );
    expect(rows[0]).toEqual({ n: total, keys: total, minutes: total });
  });
});
