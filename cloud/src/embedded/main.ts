/**
 * Embedded infrastructure for one-command local runs: aedes on FLEET_MQTT_PORT (default 1884)
 * and PGlite on FLEET_PG_PORT (default 5433), both on 127.0.0.1. The defaults stay off 1883/5432
 * so they never collide with a Mosquitto or PostgreSQL already running on the machine.
 * FLEET_PGLITE_DIR keeps the database on disk (default: in memory).
 */
import { createLogger } from '@fleet/shared/log';
import { startEmbeddedBroker } from './broker.ts';
import { startEmbeddedDatabase } from './database.ts';

const log = createLogger('embedded');

async function main() {
  const host = '127.0.0.1';
  const broker = await startEmbeddedBroker({ host, port: Number(process.env.FLEET_MQTT_PORT ?? 1884), log });
  const database = await startEmbeddedDatabase({
    host,
    port: Number(process.env.FLEET_PG_PORT ?? 5433),
    dataDir: process.env.FLEET_PGLITE_DIR || undefined,
    log,
  });
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
