/** The cloud's dependencies for tests outside the workspace packages (test/e2e has none of its own). */
export { vehicleTopic } from '@fleet/shared';
export { createLogger } from '@fleet/shared/log';
export { default as mqtt } from 'mqtt';
