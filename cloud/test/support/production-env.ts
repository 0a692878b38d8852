/**
 * The variables a production cloud process must be given: what the compose file
 * (cloud/test/compose.test.ts) and the Kubernetes manifests (test/k8s.test.ts) must both set.
 */
export const PRODUCTION_ENV = [
  'DATABASE_URL',
  'MQTT_URL',
  'MQTT_USERNAME',
  'MQTT_PASSWORD',
  'FLEET_SECRET_KEYS',
  'FLEET_API_HOST',
  'FLEET_METRICS_HOST',
  'FLEET_COMMAND_KEY_FILE',
  'FLEET_AUTO_REGISTER_VEHICLES',
] as const;
