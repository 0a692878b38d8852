/**
 * Several ingest processes on one MQTT 5 shared subscription (local Mosquitto): the load is split
 * between them, the totals are exact and nothing is stored twice, redeliveries included.
 */
import { createLogger } from '@fleet/shared/log';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { migrate } from '../src/db/migrate.ts';
import { TelemetryIngest } from '../src/ingest/telemetry-ingest.ts';
import { publishBatches } from './support/publisher.ts';
import { MQTT_URL, openTestPool, requireServices, uniqueId } from './support/services.ts';

const log = createLogger('test').child({}, { level: 'error' });
const base = uniqueId('test/shared').replace('_', '-');
const VEHICLES = 20;
const BATCHES = 25;
const SIZE = 40;
let db: Awaited<ReturnType<typeof openTestPool>>;
const ingests: TelemetryIngest[] = [];

beforeAll(async () => {
  await requireServices({ postgres: true, mqtt: true });
  db = await openTestPool('t_shared');
  await migrate(db.pool, log);
  for (let i = 0; i < 3; i++) {
    const ingest = new TelemetryIngest({
      pool: db.pool,
      mqttUrl: MQTT_URL,
      baseTopic: base,
      clientId: uniqueId(`ingest-${i}`),
      autoRegisterVehicles: true,
      sharedGroup: 'fleet-ingest-test',
      connections: 4,
      log,
      retryDelayMs: 100,
    });
    await ingest.start();
    ingests.push(ingest);
  }
});

afterAll(async () => {
  for (const ingest of ingests) await ingest.stop();
  for (const clientId of ingests.flatMap((i) => i.clientIds)) {
    const cleaner = await mqtt.connectAsync(MQTT_URL, { clientId, clean: true }).catch(() => null);
    await cleaner?.endAsync();
  }
  await db?.drop();
});

describe('three ingest processes sharing one subscription', () => {
  it('split the messages, store every sample exactly once, twice-sent batches included', async () => {
    expect(ingests.map((i) => i.mode)).toEqual(['shared', 'shared', 'shared']);
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
    const sum = (f: (i: TelemetryIngest) => number) => ingests.reduce((a, i) => a + f(i), 0);
    await vi.waitFor(() => expect(sum((i) => i.stats.batches)).toBe(2 * VEHICLES * BATCHES), {
      timeout: 20_000,
      interval: 50,
    });
    // A valid batch must never be dead-lettered, e.g. by a registration race between ingests.
    expect(sum((i) => i.stats.deadLetters)).toBe(0);
    expect(sum((i) => i.stats.samplesInserted)).toBe(total);
    expect(sum((i) => i.stats.samplesDuplicate)).toBe(total);
    for (const i of ingests) expect(i.stats.batches, 'every process got a share').toBeGreaterThan(0);
    const { rows } = await db.pool.query<{ n: number; keys: number; minutes: number }>(
      `SELECT (SELECT count(*) FROM telemetry)::int AS n,
              (SELECT count(DISTINCT (vehicle_id, seq)) FROM telemetry)::int AS keys,
              (SELECT sum(samples) FROM telemetry_minute)::int AS minutes`,
    );
    expect(rows[0]).toEqual({ n: total, keys: total, minutes: total });
  });
});
