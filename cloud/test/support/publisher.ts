import { encodeTelemetryBatch, type TelemetrySample, vehicleTopic } from '@fleet/shared';
import mqtt from 'mqtt';

/** An agent-like publisher for tests: QoS 1 batches built with the shared codec. */
export function sampleAt(seq: number, ts: number): TelemetrySample {
  return {
    seq,
    ts,
    lat: 48.1 + (seq % 1000) / 1e5,
    lon: 11.5,
    speedKmh: seq % 120,
    rpm: 800 + (seq % 3000),
    fuelLevelPct: 50,
    coolantC: 90,
  };
}

export async function publishBatches(
  client: mqtt.MqttClient,
  opts: {
    base: string;
    tenantId: string;
    vehicleId: string;
    fromSeq: number;
    batches: number;
    size: number;
    t0: number;
  },
): Promise<number> {
  let seq = opts.fromSeq;
  for (let b = 0; b < opts.batches; b++) {
    const samples = Array.from({ length: opts.size }, () => {
      seq++;
      return sampleAt(seq, opts.t0 + seq * 1000);
    });
    await client.publishAsync(
      vehicleTopic('telemetry', opts.tenantId, opts.vehicleId, opts.base),
      encodeTelemetryBatch({ v: 1, vehicleId: opts.vehicleId, samples }),
      { qos: 1 },
    );
  }
  return seq;
}

/** The MQTT client library, for scripts outside the cloud package (bench/) that publish. */
export { mqtt };
