/**
 * The TelemetryAck that tells an agent its batch is stored (after COMMIT) or refused; only that
 * moves the agent's cursor, never the broker's PUBACK (a PUBACK is not storage).
 */
import { type TelemetryAck, vehicleTopic } from '@fleet/shared';
import type mqtt from 'mqtt';
import type { Addressed } from './classify.ts';

export interface OutgoingAck {
  /** The connection the batch came in on; its ack goes out on the same one. */
  client: mqtt.MqttClient;
  topic: string;
  payload: string;
}

/** The answer to a batch; null for a v1 publisher that sends no batchSeq (it waits for nothing). */
export function telemetryAck(
  to: Addressed,
  client: mqtt.MqttClient,
  baseTopic: string,
  reason?: string,
): OutgoingAck | null {
  const { batch } = to;
  if (batch.batchSeq === undefined) return null;
  let first = Number.MAX_SAFE_INTEGER;
  let last = 0;
  for (const s of batch.samples) {
    if (s.seq < first) first = s.seq;
    if (s.seq > last) last = s.seq;
  }
  const ack: TelemetryAck = {
    v: 1,
    batchSeq: batch.batchSeq,
    status: reason === undefined ? 'stored' : 'refused',
    first,
    last,
    ...(reason === undefined ? {} : { reason: reason.slice(0, 500) }),
  };
  return {
    client,
    topic: vehicleTopic('ack', to.tenantId, to.vehicleId, baseTopic),
    payload: JSON.stringify(ack),
  };
}

/**
 * QoS 0 and not awaited: an ack is idempotent and a lost one costs one resend from the agent,
 * which the (vehicle, ts, seq) key turns into a duplicate count, never a row; QoS 1 would double
 * the broker's packets for it (a PUBACK each way) at 10,000 vehicles x 1 Hz (bench/ingest.ts).
 */
export function sendAcks(acks: readonly OutgoingAck[], onError: (err: Error, topic: string) => void): void {
  for (const a of acks) {
    a.client.publish(a.topic, a.payload, { qos: 0 }, (err) => {
      if (err) onError(err, a.topic);
    });
  }
}
