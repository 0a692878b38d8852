/**
 * The cloud's dependencies for tests outside the workspace packages (test/e2e, test/integration
 * have none of their own).
 */
export {
  encodeTelemetryBatch,
  MAX_PAYLOAD_BYTES,
  type ModelManifest,
  modelSigningText,
  type TelemetryAck,
  type TelemetryBatch,
  type TelemetrySample,
  VehicleEvent,
  type VehicleStatus,
  vehicleTopic,
} from '@fleet/shared';
export { createLogger } from '@fleet/shared/log';
export { default as mqtt } from 'mqtt';
