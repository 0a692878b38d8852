/**
 * What a received telemetry-lane message is, decided without the database: a batch of samples,
 * a vehicle status, or a refusal with its reason (then dead-lettered, and answered when it names
 * a batch its agent waits for).
 */
import {
  decodeTelemetryBatch,
  type ParsedTopic,
  parseVehicleTopic,
  type TelemetryBatch,
  VehicleStatus,
} from '@fleet/shared';

/** A decoded batch and the vehicle topic it came from: enough to answer it. */
export interface Addressed {
  tenantId: string;
  vehicleId: string;
  batch: TelemetryBatch;
}

export type Classified<T> =
  | { kind: 'telemetry'; item: T; tenantId: string; vehicleId: string; batch: TelemetryBatch }
  | { kind: 'status'; item: T; tenantId: string; vehicleId: string; status: VehicleStatus }
  | { kind: 'dead'; item: T; reason: string; refusedBatch?: Addressed };

/** A refusal; refusedBatch when it names a batch its agent waits for (answered with the reason). */
function dead<T>(item: T, reason: string, refusedBatch?: Addressed): Classified<T> {
  return refusedBatch ? { kind: 'dead', item, reason, refusedBatch } : { kind: 'dead', item, reason };
}

/**
 * Topics parsed before, per base topic: a fleet sends from the same few thousand topics over and
 * over, and a lookup costs less than the split and the id checks. Bounded: cleared past a large
 * fleet.
 */
const parsedTopics = new Map<string, Map<string, ParsedTopic | null>>();
function parseTopic(topic: string, baseTopic: string): ParsedTopic | null {
  let cache = parsedTopics.get(baseTopic);
  if (cache === undefined) {
    cache = new Map();
    parsedTopics.set(baseTopic, cache);
  }
  let parsed = cache.get(topic);
  if (parsed === undefined) {
    if (cache.size >= 200_000) cache.clear();
    parsed = parseVehicleTopic(topic, baseTopic);
    cache.set(topic, parsed);
  }
  return parsed;
}

/** `item` travels along untouched (the caller's handle to answer the message). */
export function classify<T>(item: T, topic: string, payload: Buffer, baseTopic: string): Classified<T> {
  const parsed = parseTopic(topic, baseTopic);
  if (!parsed) return dead(item, 'topic outside the namespace');
  const { tenantId, vehicleId, kind } = parsed;
  if (kind === 'ack') return dead(item, 'ack topics are cloud-to-vehicle');
  if (kind === 'status') {
    try {
      const status = VehicleStatus.parse(JSON.parse(payload.toString('utf8')));
      return { kind: 'status', item, tenantId, vehicleId, status };
    } catch (err) {
      return dead(item, `bad status payload: ${(err as Error).message}`);
    }
  }
  const decoded = decodeTelemetryBatch(payload);
  if (!decoded.ok) return dead(item, decoded.reason);
  if (decoded.batch.vehicleId !== vehicleId) {
    return dead(
      item,
      `payload vehicle "${decoded.batch.vehicleId}" does not match topic vehicle "${vehicleId}"`,
      {
        tenantId,
        vehicleId,
        batch: decoded.batch,
      },
    );
  }
  return { kind: 'telemetry', item, tenantId, vehicleId, batch: decoded.batch };
}
