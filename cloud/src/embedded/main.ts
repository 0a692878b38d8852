/**
 * Embedded infrastructure for one-command local runs: aedes on FLEET_MQTT_PORT (default 1884)
 * and PGlite on FLEET_PG_PORT (default 5433), both on 127.0.0.1. The defaults stay off 1883/5432
 * so they never collide with a Mosquitto or PostgreSQL already running on the machine.
 * FLEET_PGLITE_DIR keeps the database on disk (default: in memory).
 * FLEET_MQTT_PASSWORD_FILE + FLEET_MQTT_ACL_FILE: sign clients in and apply the ACL as the
 * production Mosquitto does (the launcher sets both; the ACL's `fleet/` base becomes
 * FLEET_BASE_TOPIC). Read and checked by config.ts.
 */
import { readFileSync } from 'node:fs';
import { createLogger } from '@fleet/shared/log';
import { loadEmbeddedConfig } from '../config.ts';
import { startEmbeddedBroker } from './broker.ts';
import { startEmbeddedDatabase } from './database.ts';

const log = createLogger('embedded');

async function main() {
  const config = loadEmbeddedConfig();
  const host = '127.0.0.1';
  const auth = config.brokerAuth;
  const broker = await startEmbeddedBroker({
    host,
    port: config.mqttPort,
    log,
    ...(auth
      ? {
          auth: {
            passwordFile: auth.passwordFile,
            acl: readFileSync(auth.aclFile, 'utf8').replace(
              /^(\s*(?:topic|pattern)\s+\S+\s+)fleet\//gm,
              `$1${config.baseTopic}/`,
            ),
          },
        }
      : {}),
  });
  const database = await startEmbeddedDatabase({ host, port: config.pgPort, dataDir: config.pgliteDir, log });
  console.log(`fleet embedded ready mqtt=${broker.url} database=${database.url}`);
  const stop = async () => {
    await broker.close();
    await database.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}

main().catch((err: unknown) => {
  console.error(`fleet embedded: ${(err as Error).message}`);
  process.exit(1);
});
