/** The cloud's dependencies for tests outside the workspace packages (test/e2e has none of its own). */
export {
  type AgentCommandResult,
  decodeTelemetryBatch,
  decodeVehicleEventBatch,
  type TelemetryAck,
  type VehicleEventAck,
  vehicleTopic,
  vehicleTopics,
} from '@fleet/shared';
export { createLogger } from '@fleet/shared/log';
export { default as mqtt } from 'mqtt';
