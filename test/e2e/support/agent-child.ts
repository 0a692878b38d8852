/**
 * Child process for sync-faults.test.ts: the real agent sync loop (AgentDb + BrokerLink) with
 * samples appended continuously from a deterministic generator (a sample's fields depend only on
 * its seq), until it is SIGKILLed.
 *   node --import tsx agent-child.ts run   DB URL BASE TENANT VEHICLE CLIENT_ID
 *   node --import tsx agent-child.ts drain DB URL BASE TENANT VEHICLE CLIENT_ID
 * `run` prints "ready" once syncing and appending; `drain` appends nothing, sends everything
 * unsent, stops cleanly and prints "drained <lastSeq>".
 */
import { createLogger } from '../../../cloud/test/support/reexports.ts';
import { AgentDb } from '../../../edge-agent/src/store/agent-db.ts';
import type { NewSample } from '../../../edge-agent/src/store/sample-outbox.ts';
import { BrokerLink } from '../../../edge-agent/src/sync/broker-link.ts';

const [mode, file, url, baseTopic, tenantId, vehicleId, clientId] = process.argv.slice(2) as string[];
const T0 = Date.UTC(2024, 7, 1, 0, 0, 0);

/** The deterministic generator: sample number n (== its seq in a fresh store). */
function generated(n: number): NewSample {
  return {
    ts: T0 + n * 100,
    lat: 48 + (n % 1000) / 1e5,
    lon: 11 + (n % 777) / 1e5,
    speedKmh: n % 130,
    rpm: 700 + (n % 4000),
    fuelLevelPct: 80 - (n % 50),
    coolantC: 85 + (n % 10),
  };
}

const store = new AgentDb(file!);
const sync = new BrokerLink(
  store,
  {
    url: url!,
    tenantId: tenantId!,
    vehicleId: vehicleId!,
    baseTopic: baseTopic!,
    clientId: clientId!,
    batchSize: 40,
    flushIntervalMs: 50,
    flushJitterMs: 0,
    reconnectPeriodMs: 100,
    ackTimeoutMs: 2000,
  },
  createLogger('agent-child').child({}, { level: 'fatal' }),
);
sync.start();

if (mode === 'run') {
  let next = store.stats().lastSeq;
  const tick = () => {
    for (let i = 0; i < 3; i++) store.samples.append(generated(++next));
  };
  tick();
  setInterval(tick, 2);
  process.stdout.write('ready\n');
} else {
  await sync.waitConnected(10_000);
  while (store.stats().unsent > 0)
    await sync.telemetry.flush().then(() => new Promise((r) => setTimeout(r, 20)));
  await sync.stop();
  const last = store.stats().lastSeq;
  store.close();
  process.stdout.write(`drained ${last}\n`);
  process.exit(0);
}
