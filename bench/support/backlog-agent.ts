/**
 * The vehicle side of bench/ingest.ts step 5, in a process of its own as on a real vehicle (its
 * SQLite work must not share the ingest's event loop): fills a AgentDb with a 7-day backlog
 * at 1 Hz, prints "ready", waits for "go" on stdin, drains it through BrokerLink (cursor on the
 * cloud's acks) and prints one JSON line with the drain time.
 *   node --import tsx bench/support/backlog-agent.ts DB_FILE MQTT_URL BASE TENANT VEHICLE SAMPLES
 */

import { sampleAt } from '../../cloud/test/support/publisher.ts';
import { AgentDb } from '../../edge-agent/src/store/agent-db.ts';
import { BrokerLink } from '../../edge-agent/src/sync/broker-link.ts';
import { createLogger } from '../../shared/src/log.ts';

const [file, url, baseTopic, tenantId, vehicleId, samplesArg] = process.argv.slice(2) as string[];
const samples = Number(samplesArg);
const log = createLogger('bench-agent');
log.level = 'error';

const store = new AgentDb(file!);
const start = Date.now() - samples * 1000 - 60_000;
for (let i = 1; i <= samples; i++) {
  const { seq: _seq, ...reading } = sampleAt(i, start + i * 1000);
  store.samples.append(reading);
}
process.stdout.write('ready\n');
process.stdin.once('data', async () => {
  const sync = new BrokerLink(
    store,
    {
      url: url!,
      tenantId: tenantId!,
      vehicleId: vehicleId!,
      baseTopic: baseTopic!,
      // The agent's defaults unless the bench is asked to try others.
      ...(process.env.BENCH_BACKFILL_INFLIGHT
        ? { backfillInflight: Number(process.env.BENCH_BACKFILL_INFLIGHT) }
        : {}),
      ...(process.env.BENCH_BATCH_SIZE ? { batchSize: Number(process.env.BENCH_BATCH_SIZE) } : {}),
    },
    log,
  );
  const t = performance.now();
  sync.start();
  // The cursor reaches the last seq only once the cloud acked every batch (after its COMMIT).
  while (store.samples.ackedSeq() < samples && performance.now() - t < 120_000)
    await new Promise((r) => setTimeout(r, 10));
  const ms = performance.now() - t;
  await sync.stop();
  process.stdout.write(
    `${JSON.stringify({ drained: store.samples.ackedSeq() === samples, ms, batches: sync.telemetry.stats.batchesSent, ackTimeouts: sync.telemetry.stats.ackTimeouts })}\n`,
  );
  store.close();
  process.exit(0);
});
