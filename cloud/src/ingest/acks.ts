/**
 * The TelemetryAck that tells an agent its batch is stored (after COMMIT) or refused; only that
 * moves the agent's cursor, never the broker's PUBACK (a PUBACK is not storage).
 */
import { type TelemetryAck, vehicleTopic } from '@fleet/shared';
import type { Addressed } from './classify.ts';
import { type IngestConnection, writeQos0Publishes } from './ingest-client.ts';

export interface OutgoingAck {
  /** The connection the batch came in on; its ack goes out on the same one. */
  client: IngestConnection;
  topic: string;
  payload: string;
}

/** The answer to a batch; null for a v1 publisher that sends no batchSeq (it waits for nothing). */
export function telemetryAck(
  to: Addressed,
  client: IngestConnection,
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
  if (reason === undefined) {
    // The live path answers every message: the same JSON as below without building the object.
    const stored = `{"v":1,"batchSeq":${batch.batchSeq},"status":"stored","first":${first},"last":${last}}`;
    return { client, topic: ackTopic(to, baseTopic), payload: stored };
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
    topic: ackTopic(to, baseTopic),
    payload: JSON.stringify(ack),
  };
}

/**
 * Ack topics built once per vehicle, keyed by the vehicle id alone (no key string built per
 * message: a concatenated key costs its flattening and hashing on every lookup) and checked
 * against the tenant and base. Bounded: cleared when it grows past a large fleet.
 */
const ackTopics = new Map<string, { tenantId: string; baseTopic: string; topic: string }>();
function ackTopic(to: Addressed, baseTopic: string): string {
  const known = ackTopics.get(to.vehicleId);
  if (known !== undefined && known.tenantId === to.tenantId && known.baseTopic === baseTopic)
    return known.topic;
  if (ackTopics.size >= 200_000) ackTopics.clear();
  const topic = vehicleTopic('ack', to.tenantId, to.vehicleId, baseTopic);
  ackTopics.set(to.vehicleId, { tenantId: to.tenantId, baseTopic, topic });
  return topic;
}

/**
 * QoS 0 and not awaited: an ack is idempotent and a lost one costs one resend from the agent,
 * which the (vehicle, ts, seq) key turns into a duplicate count, never a row; QoS 1 would double
 * the broker's packets for it (a PUBACK each way) at 10,000 vehicles x 1 Hz (bench/ingest.ts).
 * The acks of one connection go out in one socket write (ingest-client.ts writeQos0Publishes);
 * only a connection that is not open or not mqtt.js's publishes each (and reports errors).
 */
export function sendAcks(acks: readonly OutgoingAck[], onError: (err: Error, topic: string) => void): void {
  const byConnection = new Map<IngestConnection, OutgoingAck[]>();
  for (const a of acks) {
    const list = byConnection.get(a.client);
    if (list) list.push(a);
    else byConnection.set(a.client, [a]);
  }
  for (const [client, list] of byConnection) {
    if (writeQos0Publishes(client, list)) continue;
    for (const a of list) {
      client.publish(a.topic, a.payload, { qos: 0 }, (err) => {
        if (err) onError(err, a.topic);
      });
    }
  }
}
