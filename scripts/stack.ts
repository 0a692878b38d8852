/**
 * `pnpm stack`: runs the whole system (see scripts/lib/stack.ts) until Ctrl-C.
 * Environment: DATABASE_URL + MQTT_URL for real services (else embedded), FLEET_VEHICLES (3),
 * FLEET_WEB_PORT (3000), FLEET_API_PORT (4000), FLEET_MQTT_PORT (1884), FLEET_PG_PORT (5433),
 * FLEET_TICK_MS (1000), FLEET_DATA_DIR (data/stack), FLEET_PGLITE_DIR (in memory), FLEET_DEMO (on:
 * the demo fleet and its last 7 days; `false` for an empty tenant).
 */
import { startStack } from './lib/stack.ts';

const env = process.env;
const num = (v: string | undefined) => (v === undefined || v === '' ? undefined : Number(v));

const stack = await startStack({
  vehicles: num(env.FLEET_VEHICLES),
  tickMs: num(env.FLEET_TICK_MS),
  databaseUrl: env.DATABASE_URL || undefined,
  mqttUrl: env.MQTT_URL || undefined,
  databaseSchema: env.DATABASE_SCHEMA || undefined,
  apiPort: num(env.FLEET_API_PORT),
  webPort: num(env.FLEET_WEB_PORT),
  mqttPort: num(env.FLEET_MQTT_PORT),
  pgPort: num(env.FLEET_PG_PORT),
  dataDir: env.FLEET_DATA_DIR || undefined,
  pgliteDir: env.FLEET_PGLITE_DIR || undefined,
  demo: env.FLEET_DEMO !== 'false',
  say: (line) => console.log(`  ${line}`),
}).catch((err: unknown) => {
  console.error(`fleet: could not start the system: ${(err as Error).message}`);
  process.exit(1);
});

console.log('');
console.log(`Fleet is running (${stack.mode} services). Logs: ${stack.logDir}`);
console.log(`Dashboard: ${stack.webUrl}`);
console.log(`Sign in: ${stack.admin.email} / ${stack.admin.password}`);
for (const p of stack.demo?.people.filter((p) => p.shown) ?? [])
  console.log(`Sign in (demo ${p.role.replace('_', ' ')}, ${p.name}): ${p.email} / ${p.password}`);
console.log('Press Ctrl-C to stop.');

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log('\nStopping…');
    void stack.stop().then(() => process.exit(0));
  });
}
