/**
 * A broker that refuses a subscription once (SUBACK 0x80) must not leave the agent deaf: NATS's
 * MQTT listener does so when it cannot create a QoS 1 filter's JetStream consumer in time, as
 * while its cluster re-elects leaders after losing a node (issue 20, node loss), and drops the
 * subscription. The agent subscribes to the refused filters again on the same connection.
 *
 * Real Mosquitto on 127.0.0.1:1883 behind a proxy that answers the first SUBSCRIBE of every
 * connection itself with a refusal of every filter (Mosquitto never sees it) and passes everything
 * else through: a link that only subscribes at connect never hears an ack, even if it reconnects.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeTelemetryBatch, type TelemetryAck } from '@fleet/shared';
import { createLogger } from '@fleet/shared/log';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { AgentDb } from '../src/store/agent-db.ts';
import { BrokerLink } from '../src/sync/broker-link.ts';
import { startBrokerProxy } from './support/broker-proxy.ts';

const BROKER = { host: '127.0.0.1', port: 1883 };
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** One MQTT packet off the front of `buf` (fixed header, remaining length), or null if incomplete. */
function takePacket(buf: Buffer): { packet: Buffer; rest: Buffer } | null {
  let len = 0;
  let mul = 1;
  for (let i = 1; i < Math.min(buf.length, 5); i++) {
    len += (buf[i]! & 0x7f) * mul;
    mul *= 128;
    if ((buf[i]! & 0x80) === 0) {
      const total = i + 1 + len;
      if (buf.length < total) return null;
      return { packet: buf.subarray(0, total), rest: buf.subarray(total) };
    }
  }
  return null;
}

/** SUBACK refusing every filter of an MQTT 3.1.1 SUBSCRIBE. */
function refusal(subscribe: Buffer): Buffer {
  let at = 1;
  while ((subscribe[at]! & 0x80) !== 0) at++;
  at++;
  const packetId = subscribe.readUInt16BE(at);
  let filters = 0;
  for (let p = at + 2; p < subscribe.length; p += 2 + subscribe.readUInt16BE(p) + 1) filters++;
  return Buffer.from([0x90, 2 + filters, packetId >> 8, packetId & 0xff, ...Array(filters).fill(0x80)]);
}

async function refusingProxy() {
  const seen = { subscribes: 0, refused: 0 };
  const proxy = await startBrokerProxy(BROKER, {
    fromClient: (client, upstream) => {
      let refusedHere = false;
      let pending: Buffer = Buffer.alloc(0);
      return (chunk) => {
        pending = Buffer.concat([pending, chunk]);
        for (let next = takePacket(pending); next; next = takePacket(pending)) {
          pending = next.rest;
          if (next.packet[0]! >> 4 === 8) {
            seen.subscribes++;
            if (!refusedHere) {
              refusedHere = true;
              seen.refused++;
              client.write(refusal(next.packet));
              continue;
            }
          }
          upstream.write(next.packet);
        }
      };
    },
  });
  cleanups.push(() => proxy.close());
  return { url: proxy.url, seen };
}

describe('BrokerLink and a refused subscription', () => {
  it('subscribes again on the same connection, so the cloud acks arrive and the outbox drains', async () => {
    const base = `subrefused-${process.pid}-${Date.now()}`;
    const dir = mkdtempSync(path.join(tmpdir(), 'fleet-subrefused-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const store = new AgentDb(path.join(dir, 'agent.db'));
    cleanups.push(() => store.close());

    // Stands in for the ingest: answers every batch on the vehicle's ack topic, as after COMMIT.
    const cloud = await mqtt.connectAsync(`mqtt://${BROKER.host}:${BROKER.port}`);
    cleanups.push(() => cloud.endAsync());
    cloud.on('message', (topic, payload) => {
      const r = decodeTelemetryBatch(payload);
      if (!r.ok) return;
      const ack: TelemetryAck = {
        v: 1,
        batchSeq: r.batch.batchSeq!,
        status: 'stored',
        first: r.batch.samples[0]!.seq,
        last: r.batch.samples.at(-1)!.seq,
      };
      cloud.publish(topic.replace(/telemetry$/, 'ack'), JSON.stringify(ack), { qos: 0 });
    });
    await cloud.subscribeAsync(`${base}/v1/+/+/telemetry`, { qos: 1 });

    const proxy = await refusingProxy();
    const link = new BrokerLink(
      store,
      {
        url: proxy.url,
        protocol: '4',
        tenantId: 't1',
        vehicleId: 'van-1',
        baseTopic: base,
        batchSize: 10,
        flushIntervalMs: 50,
        flushJitterMs: 0,
        ackTimeoutMs: 500,
      },
      createLogger('sync-test').child({}, { level: 'fatal' }),
    );
    cleanups.push(() => link.stop());
    for (let i = 1; i <= 25; i++)
      store.samples.append({
        ts: 1e12 + i * 1000,
        lat: 48,
        lon: 11,
        speedKmh: 50,
        rpm: 900,
        fuelLevelPct: 40,
        coolantC: 90,
      });
    link.start();

    const deadline = Date.now() + 15_000;
    while (store.stats().unsent > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(store.stats().unsent).toBe(0);
    // Every connection's first SUBSCRIBE was refused (a slow machine may reconnect); the acks came
    // through a SUBSCRIBE sent again after a refusal.
    expect(proxy.seen.refused).toBe(link.stats.connects);
    expect(proxy.seen.subscribes).toBeGreaterThan(proxy.seen.refused);
  });
});
