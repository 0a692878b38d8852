/**
 * `fleet-cloud devices provision|rotate|revoke|list`: the same device service as the dashboard's
 * devices page (devices/device-provisioning.ts), run as the tenant under row-level security and
 * audited with the operator as actor.
 *
 *   devices provision VEHICLE --tenant T [--json]   credentials printed once (KEY=value lines)
 *   devices rotate VEHICLE --tenant T [--json]      a new password; the old one is refused
 *   devices revoke VEHICLE --tenant T [--json]      the broker refuses the device's next connection
 *   devices list --tenant T [--json]                every vehicle, its device and its agent's health
 *
 * The broker: --password-file / FLEET_MQTT_PASSWORD_FILE and --broker-pid-file /
 * FLEET_MQTT_BROKER_PID_FILE (Mosquitto's pid_file; it gets SIGHUP). Exit 0 done, 2 refused or
 * could not run (one line on stderr with the code).
 */
import type { Command } from 'commander';
import type { CliConfig } from '../config.ts';
import { openPool } from '../db/pool.ts';
import { listVehicleHealth } from '../db/queries/agent-health.ts';
import { inTenant } from '../db/tenant.ts';
import { agentEnvironment, deviceProvisioningFrom } from '../devices/device-provisioning.ts';
import { isCloudError } from '../errors.ts';
import type { CliIo } from './io.ts';

interface DevicesOptions {
  databaseUrl: string;
  schema?: string;
  tenant: string;
  json?: boolean;
  passwordFile?: string;
  brokerPidFile?: string;
  mqttUrl?: string;
  actor: string;
}

export function registerDevicesCommands(program: Command, io: CliIo, env: CliConfig): void {
  const opts = (cmd: Command) => ({ ...program.opts(), ...cmd.opts() }) as DevicesOptions;
  const run = async (
    o: DevicesOptions,
    fn: (pool: Awaited<ReturnType<typeof openPool>>) => Promise<void>,
  ) => {
    try {
      const pool = await openPool({ url: o.databaseUrl, schema: o.schema, max: 2 });
      try {
        await fn(pool);
      } finally {
        await pool.end();
      }
    } catch (err) {
      io.err(isCloudError(err) ? `E${err.code}: ${err.message}` : `error: ${(err as Error).message}`);
      process.exitCode = 2;
    }
  };
  const service = (o: DevicesOptions) =>
    deviceProvisioningFrom({
      brokerLogins: o.passwordFile
        ? { passwordFile: o.passwordFile, brokerPidFile: o.brokerPidFile }
        : env.brokerLogins,
      deviceMqttUrl: o.mqttUrl ?? env.deviceMqttUrl,
      baseTopic: env.baseTopic,
      mqttUsername: env.mqttUsername,
    });

  const devices = program
    .command('devices')
    .description("vehicles' devices: the MQTT login each agent signs in with, and the agents' health");
  const withBroker = (c: Command) =>
    c
      .requiredOption('--tenant <id>', 'tenant the vehicle belongs to')
      .option('--password-file <path>', "the broker's password_file (default FLEET_MQTT_PASSWORD_FILE)")
      .option(
        '--broker-pid-file <path>',
        "Mosquitto's pid_file, to send it SIGHUP (FLEET_MQTT_BROKER_PID_FILE)",
      )
      .option(
        '--mqtt-url <url>',
        'the broker URL the vehicle is given (default FLEET_DEVICE_MQTT_URL or MQTT_URL)',
      )
      .option('--actor <who>', 'who does this, for the audit log', `user:${env.operator}`)
      .option('--json', 'one JSON document');

  for (const verb of ['provision', 'rotate'] as const) {
    withBroker(
      devices
        .command(`${verb} <vehicle>`)
        .description(
          verb === 'provision'
            ? "create the vehicle's device login; the credentials are printed once (only a hash is kept)"
            : 'a new password for the vehicle; the old one is refused from now on; printed once',
        ),
    ).action(async (vehicle: string, _o, cmd: Command) => {
      const o = opts(cmd);
      await run(o, async (pool) => {
        const c = await inTenant(pool, o.tenant, (db) => service(o)[verb](db, o.tenant, vehicle, o.actor));
        io.out(
          o.json
            ? JSON.stringify({ ...c, environment: agentEnvironment(c) })
            : `${agentEnvironment(c)}\n(give these to the vehicle now, e.g. | fleet-agent provision; they are not shown again)`,
        );
      });
    });
  }

  withBroker(
    devices
      .command('revoke <vehicle>')
      .description("the broker refuses the vehicle's device at its next connection"),
  ).action(async (vehicle: string, _o, cmd: Command) => {
    const o = opts(cmd);
    await run(o, async (pool) => {
      await inTenant(pool, o.tenant, (db) => service(o).revoke(db, o.tenant, vehicle, o.actor));
      io.out(
        o.json ? JSON.stringify({ vehicleId: vehicle, revoked: true }) : `revoked the device of ${vehicle}`,
      );
    });
  });

  devices
    .command('list')
    .description("every vehicle of the tenant, its device's state and its agent's health")
    .requiredOption('--tenant <id>', 'tenant')
    .option('--json', 'one JSON document: {devices: [...]}')
    .action(async (_o, cmd: Command) => {
      const o = opts(cmd);
      await run(o, async (pool) => {
        const rows = await inTenant(pool, o.tenant, async (db) => {
          const health = new Map((await listVehicleHealth(db, o.tenant)).map((h) => [h.vehicleId, h]));
          return (await service(o).list(db, o.tenant)).map((d) => ({
            ...d,
            health: health.get(d.vehicleId),
          }));
        });
        if (o.json) {
          io.out(JSON.stringify({ devices: rows }));
          return;
        }
        io.out('vehicle\tdevice\tagent\tlast seen\tunsent\tsync lag s');
        for (const r of rows)
          io.out(
            [
              r.vehicleId,
              r.status,
              r.health?.agentVersion ?? '-',
              r.health?.lastSeenAt ? new Date(r.health.lastSeenAt).toISOString() : '-',
              r.health?.unsentSamples ?? '-',
              r.health?.syncLagMs == null ? '-' : Math.round(r.health.syncLagMs / 1000),
            ].join('\t'),
          );
      });
    });
}
