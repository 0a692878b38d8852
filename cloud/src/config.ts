import { DEFAULT_BASE_TOPIC } from '@fleet/shared';
import { z } from 'zod';
import { CloudError, CloudErrorCode } from './errors.ts';

/**
 * Cloud settings, from the environment. Every field documents its range and default; the
 * defaults are the embedded stack's (see embedded/main.ts), production sets the URLs.
 */
const CloudConfig = z.object({
  /** PostgreSQL URL. Default: the embedded PGlite socket. */
  databaseUrl: z.string().url().default('postgres://postgres@127.0.0.1:5433/postgres'),
  /** Optional schema (created if missing) so several stacks can share one database (tests). */
  databaseSchema: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/)
    .optional(),
  /** [1...100] pool size, default 10; the embedded PGlite serialises queries anyway. */
  databasePoolSize: z.coerce.number().int().min(1).max(100).default(10),
  /** MQTT broker URL (mqtt://, mqtts://). Default: the embedded aedes broker. */
  mqttUrl: z.string().url().default('mqtt://127.0.0.1:1884'),
  mqttUsername: z.string().optional(),
  mqttPassword: z.string().optional(),
  /** Root of the topic namespace, default `fleet`. */
  baseTopic: z.string().default(DEFAULT_BASE_TOPIC),
  /**
   * MQTT 5 shared-subscription group of the ingest processes, default `fleet-ingest`; `none`
   * for a plain subscription on one connection. Brokers without MQTT 5 (aedes) fall back anyway.
   */
  ingestSharedGroup: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/)
    .default('fleet-ingest'),
  /** [1...256] MQTT connections per ingest process on the shared subscription, default 8. */
  ingestConnections: z.coerce.number().int().min(1).max(256).default(8),
  /** API listen address: localhost only unless configured. */
  apiHost: z.string().default('127.0.0.1'),
  /** [0...65535] API port, default 4000; 0 picks a free one. */
  apiPort: z.coerce.number().int().min(0).max(65535).default(4000),
  /**
   * Register unknown tenants/vehicles on their first valid batch. On by default until device
   * provisioning exists (security issue); a vehicle id already owned by another tenant is refused.
   */
  autoRegisterVehicles: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
});
export type CloudConfig = z.infer<typeof CloudConfig>;

export function loadCloudConfig(processEnv: NodeJS.ProcessEnv = process.env): CloudConfig {
  // An empty variable means "not set" (shells and launchers often pass VAR= to clear one).
  const env = Object.fromEntries(Object.entries(processEnv).filter(([, v]) => v !== ''));
  const parsed = CloudConfig.safeParse({
    databaseUrl: env.DATABASE_URL,
    databaseSchema: env.DATABASE_SCHEMA,
    databasePoolSize: env.DATABASE_POOL_SIZE,
    mqttUrl: env.MQTT_URL,
    mqttUsername: env.MQTT_USERNAME,
    mqttPassword: env.MQTT_PASSWORD,
    baseTopic: env.FLEET_BASE_TOPIC,
    ingestSharedGroup: env.FLEET_INGEST_SHARED_GROUP,
    ingestConnections: env.FLEET_INGEST_CONNECTIONS,
    apiHost: env.FLEET_API_HOST,
    apiPort: env.FLEET_API_PORT,
    autoRegisterVehicles: env.FLEET_AUTO_REGISTER_VEHICLES,
  });
  if (!parsed.success) {
    throw new CloudError(
      CloudErrorCode.ConfigInvalid,
      `invalid cloud configuration: ${z.prettifyError(parsed.error)}`,
    );
  }
  return parsed.data;
}
