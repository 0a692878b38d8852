/**
 * The live fleet of bench/ingest.ts steps 4 and 5, in a process of its own as real vehicles are:
 * N vehicles x 1 Hz, one sample per QoS 1 message (`ack=cloud`, as the agent publishes), sent in
 * 10 slices a second over a few connections, and the cloud acks that come back. In the ingest's
 * process this load (publishing, PUBACKs, receiving every ack) took a core of its own and showed
 * up as ingest latency.
 *
 *   node --import tsx bench/support/live-fleet.ts MQTT_URL BASE TENANT VEHICLES
 *
 * stdin, one command per line; each answer is one JSON line on stdout:
 *   record   start recording the creation -> cloud-ack latency of every sample sent from now on
 *   report   {acks, ackP50, ackP99, published}: latencies recorded since "record", then forgets them
 *   stop     stops publishing, waits for what is in flight, prints {published} and exits
 * Prints "ready" once connected and subscribed to the acks.
 */
import { createInterface } from 'node:readline';
import { mqtt, sampleAt } from '../../cloud/test/support/publisher.ts';
import { encodeTelemetryBatch, vehicleTopic } from '../../shared/src/index.ts';
import { percentile } from './percentile.ts';

const [url, base, tenantId, vehiclesArg] = process.argv.slice(2) as string[];
const VEHICLES = Number(vehiclesArg);
const CONNECTIONS = 8;
const AS_AGENT = { qos: 1, properties: { userProperties: { ack: 'cloud' } } } as const;

const pubs = await Promise.all(
  Array.from({ length: CONNECTIONS }, (_, i) =>
    mqtt.connectAsync(url!, {
      clientId: `${base}-live-${i}`,
      clean: true,
      protocolVersion: 5,
      reconnectPeriod: 0,
    }),
  ),
);

let recording = false;
const sentAt = new Map<string, number>();
const ackLatencies: number[] = [];
let acks = 0;
pubs[0]!.on('message', (topic, payload) => {
  acks++;
  if (!recording) return;
  const vehicleId = topic.split('/')[3]!;
  const { batchSeq } = JSON.parse(payload.toString()) as { batchSeq: number };
  const key = `${vehicleId}/${batchSeq}`;
  const created = sentAt.get(key);
  if (created !== undefined) {
    ackLatencies.push(Date.now() - created);
    sentAt.delete(key);
  }
});
await pubs[0]!.subscribeAsync(`${base}/v1/${tenantId}/+/ack`, { qos: 1 });

const seqs = new Array<number>(VEHICLES).fill(0);
const topics = Array.from({ length: VEHICLES }, (_, v) =>
  vehicleTopic('telemetry', tenantId!, `live-${v}`, base),
);
let running = true;
let published = 0;
const inFlight = new Set<Promise<unknown>>();
const publishing = (async () => {
  const slice = Math.max(1, Math.floor(VEHICLES / 10));
  const start = performance.now();
  for (let tick = 0; running; tick++) {
    const from = (tick % 10) * slice;
    for (let v = from; v < Math.min(from + slice, VEHICLES); v++) {
      const vehicleId = `live-${v}`;
      const seq = ++seqs[v]!;
      const created = Date.now();
      if (recording) sentAt.set(`${vehicleId}/${seq}`, created);
      const p = pubs[v % CONNECTIONS]!.publishAsync(
        topics[v]!,
        encodeTelemetryBatch({ v: 2, vehicleId, samples: [sampleAt(seq, created)], batchSeq: seq }),
        AS_AGENT,
      );
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
      published++;
    }
    const wait = start + (tick + 1) * 100 - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
})();

const answer = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
process.stdout.write('ready\n');
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'record') {
    recording = true;
    answer({ recording: true });
  } else if (line === 'report') {
    answer({
      acks: ackLatencies.length,
      ackP50: ackLatencies.length ? percentile(ackLatencies, 50) : null,
      ackP99: ackLatencies.length ? percentile(ackLatencies, 99) : null,
      published,
    });
    ackLatencies.length = 0;
    sentAt.clear();
    recording = false;
  } else if (line === 'stop') {
    running = false;
    await publishing;
    await Promise.allSettled([...inFlight]);
    answer({ published, acksReceived: acks });
    await Promise.all(pubs.map((p) => p.endAsync()));
    process.exit(0);
  }
}
