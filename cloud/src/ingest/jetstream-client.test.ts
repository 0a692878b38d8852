import { describe, expect, it } from 'vitest';
import { subjectOf, topicOf } from './jetstream-client.ts';

describe('MQTT topics as NATS subjects (NATS MQTT mapping)', () => {
  it('maps filters and topics both ways, dots in a segment as NATS writes them (//)', () => {
    expect(subjectOf('fleet/v1/+/+/telemetry')).toBe('fleet.v1.*.*.telemetry');
    expect(subjectOf('fleet/v1/#')).toBe('fleet.v1.>');
    expect(subjectOf('fleet/v1/acme/van.1/ack')).toBe('fleet.v1.acme.van//1.ack');
    expect(topicOf('fleet.v1.acme.van//1.telemetry')).toBe('fleet/v1/acme/van.1/telemetry');
    expect(topicOf(subjectOf('fleet/v1/acme/van-1/status'))).toBe('fleet/v1/acme/van-1/status');
  });
});
