/**
 * The subscriber side of bench/ingest.ts's bare broker rate: K raw MQTT 5 connections on a
 * shared subscription at QoS 1 that PUBACK every message and do nothing else (no ingest), so
 * the rate measured is the broker's own for the same publishers (live-fleet.ts "rate max").
 *
 *   node --import tsx bench/support/bare-sink.ts MQTT_URL FILTER CONNECTIONS
 *
 * stdin "count" -> {received}; "stop" -> {received} and exits. Prints "ready" once subscribed.
 */
import { createInterface } from 'node:readline';
import { RawMqttClient } from './raw-mqtt.ts';

const [url, filter, connectionsArg] = process.argv.slice(2) as string[];
const id = `bare-sink-${process.pid}`;
const sinks = await Promise.all(
  Array.from({ length: Number(connectionsArg) }, (_, i) => RawMqttClient.connect(url!, `${id}-${i}`)),
);
await Promise.all(sinks.map((s) => s.subscribe(`$share/${id}/${filter}`)));
const received = () => sinks.reduce((n, s) => n + s.received, 0);
process.stdout.write('ready\n');
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'count') process.stdout.write(`${JSON.stringify({ received: received() })}\n`);
  else if (line === 'stop') {
    process.stdout.write(`${JSON.stringify({ received: received() })}\n`);
    await Promise.all(sinks.map((s) => s.end()));
    process.exit(0);
  }
}
