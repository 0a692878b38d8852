/**
 * The live fleet of bench/ingest.ts, in a process of its own as real vehicles are: N vehicles,
 * one sample per QoS 1 message (`ack=cloud`, as the agent publishes) at an offered rate (default
 * N x 1 Hz; above that each vehicle sends faster), spread over a few connections within each
 * connection's broker receive window, and the cloud acks that come back. Raw MQTT 5 over a
 * socket (raw-mqtt.ts): mqtt.js cost tens of microseconds per publish, and on 2 cores the load
 * generator's CPU is taken from the broker and the ingest under test.
 *
 *   node --import tsx bench/support/live-fleet.ts MQTT_URL BASE TENANT VEHICLES [acks|no-acks]
 *
 * stdin, one command per line; each answer is one JSON line on stdout:
 *   rate N   offer N messages/s from now on ("rate max": as fast as the broker takes them)
 *   stats    {published, pubacked, acks, owed}: totals so far (owed: offered, not yet sent)
 *   record   start recording the creation -> cloud-ack latency of every sample sent from now on
 *   report   {acks, ackP50, ackP99, published}: latencies recorded since "record", then forgets them
 *   stop     stops publishing, waits for the PUBACKs in flight, prints {published} and exits
 * Prints "ready" once connected and subscribed to the acks.
 */
import { createInterface } from 'node:readline';
import { sampleAt } from '../../cloud/test/support/publisher.ts';
import { encodeTelemetryBatch, vehicleTopic } from '../../shared/src/index.ts';
import { percentile } from './percentile.ts';
import { encodeTopic, RawMqttClient } from './raw-mqtt.ts';

const [url, base, tenantId, vehiclesArg, acksArg] = process.argv.slice(2) as string[];
const VEHICLES = Number(vehiclesArg);
const CONNECTIONS = 16;

let recording = false;
const sentAt = new Map<string, number>();
const ackLatencies: number[] = [];
let acks = 0;
const onAck = (topic: string, payload: Buffer) => {
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
};
const pubs = await Promise.all(
  Array.from({ length: CONNECTIONS }, (_, i) => RawMqttClient.connect(url!, `${base}-live-${i}`)),
);
const ackClient =
  acksArg === 'no-acks' ? undefined : await RawMqttClient.connect(url!, `${base}-live-acks`, onAck);
await ackClient?.subscribe(`${base}/v1/${tenantId}/+/ack`);

const seqs = new Array<number>(VEHICLES).fill(0);
const vehicleIds = Array.from({ length: VEHICLES }, (_, v) => `live-${v}`);
const topics = vehicleIds.map((v) => encodeTopic(vehicleTopic('telemetry', tenantId!, v, base)));
let published = 0;
let nextVehicle = 0;
let conn = 0;
/** Offered messages/s (Infinity: as fast as the receive windows allow). */
let rate = VEHICLES;
let rateFrom = performance.now();
let offeredBefore = 0;
let running = true;

/** Sends one message on the next connection with room; false when every window is full. */
function sendOne(): boolean {
  for (let k = 0; k < CONNECTIONS; k++) {
    const c = pubs[conn]!;
    conn = (conn + 1) % CONNECTIONS;
    if (!c.canPublish) continue;
    const v = nextVehicle;
    nextVehicle = (v + 1) % VEHICLES;
    const vehicleId = vehicleIds[v]!;
    const seq = ++seqs[v]!;
    const created = Date.now();
    if (recording) sentAt.set(`${vehicleId}/${seq}`, created);
    c.publish(
      topics[v]!,
      encodeTelemetryBatch({ v: 2, vehicleId, samples: [sampleAt(seq, created)], batchSeq: seq }),
    );
    published++;
    return true;
  }
  return false;
}

const offered = () =>
  rate === Number.POSITIVE_INFINITY
    ? published
    : offeredBefore + (rate * (performance.now() - rateFrom)) / 1000;
const pump = () => {
  if (!running) return;
  if (rate === Number.POSITIVE_INFINITY) while (sendOne());
  else while (published < Math.floor(offered()) && sendOne());
};
for (const c of pubs) c.onDrain = pump;
const ticker = setInterval(pump, 5);

const answer = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
process.stdout.write('ready\n');
for await (const line of createInterface({ input: process.stdin })) {
  const [cmd, arg] = line.split(' ');
  if (cmd === 'rate') {
    offeredBefore = rate === Number.POSITIVE_INFINITY ? published : offered();
    rate = arg === 'max' ? Number.POSITIVE_INFINITY : Number(arg);
    rateFrom = performance.now();
    answer({ rate: arg });
  } else if (cmd === 'stats') {
    answer({
      published,
      pubacked: pubs.reduce((n, c) => n + c.pubacks, 0),
      acks,
      owed: Math.max(0, Math.floor(offered()) - published),
    });
  } else if (cmd === 'record') {
    recording = true;
    answer({ recording: true });
  } else if (cmd === 'report') {
    answer({
      acks: ackLatencies.length,
      ackP50: ackLatencies.length ? percentile(ackLatencies, 50) : null,
      ackP99: ackLatencies.length ? percentile(ackLatencies, 99) : null,
      published,
    });
    ackLatencies.length = 0;
    sentAt.clear();
    recording = false;
  } else if (cmd === 'stop') {
    running = false;
    clearInterval(ticker);
    const deadline = Date.now() + 10_000;
    while (pubs.some((c) => c.inFlight > 0) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    answer({ published, acksReceived: acks });
    await Promise.all([...pubs, ...(ackClient ? [ackClient] : [])].map((c) => c.end()));
    process.exit(0);
  }
}
