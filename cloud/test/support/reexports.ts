/**
 * The cloud's dependencies for tests outside the workspace packages (test/e2e, test/integration
 * have none of their own).
 */
export {
  type AgentCommandResult,
  decodeTelemetryBatch,
  decodeVehicleEventBatch,
  encodeTelemetryBatch,
  MAX_PAYLOAD_BYTES,
  type ModelManifest,
  modelSigningText,
  type TelemetryAck,
  type TelemetryBatch,
  type TelemetrySample,
  VehicleEvent,
  type VehicleEventAck,
  VehicleStatus,
  vehicleTopic,
  vehicleTopics,
} from '@fleet/shared';
export { createLogger } from '@fleet/shared/log';
export { default as mqtt } from 'mqtt';
