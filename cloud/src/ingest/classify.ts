/**
 * What a received telemetry-lane message is, decided without the database: a batch of samples,
 * a vehicle status, or a refusal with its reason (then dead-lettered, and answered when it names
 * a batch its agent waits for).
 */
import { decodeTelemetryBatch, parseVehicleTopic, type TelemetryBatch, VehicleStatus } from '@fleet/shared';

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

/** `item` travels along untouched (the caller's handle to answer the message). */
export function classify<T>(item: T, topic: string, payload: Buffer, baseTopic: string): Classified<T> {
  const dead = (reason: string, refusedBatch?: Addressed): Classified<T> => ({
    kind: 'dead',
    item,
    reason,
    ...(refusedBatch ? { refusedBatch } : {}),
  });
  const parsed = parseVehicleTopic(topic, baseTopic);
  if (!parsed) return dead('topic outside the namespace');
  const { tenantId, vehicleId, kind } = parsed;
  if (kind === 'ack') return dead('ack topics are cloud-to-vehicle');
  if (kind === 'status') {
    try {
      const status = VehicleStatus.parse(JSON.parse(payload.toString('utf8')));
      return { kind: 'status', item, tenantId, vehicleId, status };
    } catch (err) {
      return dead(`bad status payload: ${(err as Error).message}`);
    }
  }
  const decoded = decodeTelemetryBatch(payload);
  if (!decoded.ok) return dead(decoded.reason);
  if (decoded.batch.vehicleId !== vehicleId) {
    return dead(`payload vehicle "${decoded.batch.vehicleId}" does not match topic vehicle "${vehicleId}"`, {
      tenantId,
      vehicleId,
      batch: decoded.batch,
    });
  }
  return { kind: 'telemetry', item, tenantId, vehicleId, batch: decoded.batch };
}
