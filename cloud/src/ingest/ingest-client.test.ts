import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { MQTT_URL, requireServices, uniqueId } from '../../test/support/services.ts';
import { writeQos0Publishes } from './ingest-client.ts';

describe('acks written straight to the socket (writeQos0Publishes)', () => {
  const clients: mqtt.MqttClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
  });

  for (const protocolVersion of [5, 4] as const) {
    it(`reach a subscriber through Mosquitto as the same QoS 0 messages (MQTT ${protocolVersion === 5 ? '5' : '3.1.1'})`, async () => {
      await requireServices({ mqtt: true });
      const base = uniqueId('acks');
      const sub = await mqtt.connectAsync(MQTT_URL, { clientId: uniqueId('sub'), clean: true });
      const sender = await mqtt.connectAsync(MQTT_URL, {
        clientId: uniqueId('sender'),
        clean: true,
        protocolVersion,
      });
      clients.push(sub, sender);
      await sub.subscribeAsync(`${base}/#`, { qos: 0 });
      const got: { topic: string; payload: string; qos: number }[] = [];
      sub.on('message', (topic, payload, packet) =>
        got.push({ topic, payload: payload.toString(), qos: packet.qos }),
      );
      // A payload past 127 bytes needs a two-byte remaining length; a multi-byte character counts in bytes.
      const messages = [
        {
          topic: `${base}/v1/acme/van-1/ack`,
          payload: '{"v":1,"batchSeq":1,"status":"stored","first":1,"last":1}',
        },
        { topic: `${base}/v1/acme/van-2/ack`, payload: `{"reason":"${'x'.repeat(300)}é"}` },
        { topic: `${base}/v1/acme/van-3/ack`, payload: '' },
      ];
      expect(writeQos0Publishes(sender, messages)).toBe(true);
      // mqtt.js's own packets on the same connection stay intact around ours.
      await sender.publishAsync(`${base}/after`, 'mqtt.js', { qos: 1 });
      const deadline = Date.now() + 5000;
      while (got.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(got).toEqual([
        ...messages.map((m) => ({ ...m, qos: 0 })),
        { topic: `${base}/after`, payload: 'mqtt.js', qos: 0 },
      ]);
    });
  }

  it('writes nothing on a connection that is not open (the caller publishes through mqtt.js)', async () => {
    await requireServices({ mqtt: true });
    const sender = await mqtt.connectAsync(MQTT_URL, { clientId: uniqueId('sender'), clean: true });
    await sender.endAsync();
    expect(writeQos0Publishes(sender, [{ topic: 'x/ack', payload: '{}' }])).toBe(false);
    expect(
      writeQos0Publishes({ publish: () => undefined, endAsync: async () => {}, options: {} }, [
        { topic: 'x/ack', payload: '{}' },
      ]),
    ).toBe(false);
  });
});
