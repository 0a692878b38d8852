/**
 * One cloud ingest in an OS process of its own, for tests of several ingest processes on one
 * shared subscription (each with its own database pool, MQTT connections and event loop, as in
 * a deployment).
 *   node --import tsx cloud/test/support/ingest-process.ts DB_URL SCHEMA MQTT_URL BASE GROUP CLIENT_ID [NATS_URLS]
 * With NATS_URLS (comma-separated) it reads from JetStream instead (jetstream-client.ts).
 * Prints "ready" once subscribed; stdin commands, one JSON line answer each:
 *   stats  the ingest's IngestStats and its mode
 *   stop   stops the ingest, prints its client ids, exits
 */
import { createInterface } from 'node:readline';
import { createLogger } from '@fleet/shared/log';
import { openPool } from '../../src/db/pool.ts';
import { TelemetryIngest } from '../../src/ingest/telemetry-ingest.ts';

const [url, schema, mqttUrl, baseTopic, sharedGroup, clientId, natsUrls] = process.argv.slice(2) as string[];
const log = createLogger('ingest-process').child({}, { level: 'error' });
const pool = await openPool({ url: url!, schema: schema!, max: 5 });
const ingest = new TelemetryIngest({
  pool,
  mqttUrl: mqttUrl!,
  baseTopic: baseTopic!,
  clientId: clientId!,
  autoRegisterVehicles: true,
  sharedGroup: sharedGroup!,
  connections: 4,
  jetstream: natsUrls ? { servers: natsUrls.split(','), ackWaitMs: 5000 } : undefined,
  log,
  retryDelayMs: 100,
});
await ingest.start();
process.stdout.write('ready\n');
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'stats') process.stdout.write(`${JSON.stringify({ mode: ingest.mode, ...ingest.stats })}\n`);
  if (line === 'stop') {
    await ingest.stop();
    await pool.end();
    process.stdout.write(`${JSON.stringify({ clientIds: ingest.clientIds })}\n`);
    process.exit(0);
  }
}
