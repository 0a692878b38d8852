/**
 * `fleet-agent`: the in-vehicle daemon (`run`) and the technician's commands.
 * Human output on stdout, JSON logs on stderr, `--json` where a script reads the answer.
 */
import { createLogger } from '@fleet/shared/log';
import { Command, Option } from 'commander';
import { Agent } from './agent.ts';
import { registerGpsCommands } from './cli/gps.ts';
import { registerObdCommands } from './cli/obd.ts';
import { parseAgentConfig } from './config.ts';
import { isAgentError } from './errors.ts';
import { SampleStore } from './store/sample-store.ts';

const env = process.env;
const program = new Command('fleet-agent')
  .description('Edge agent of the fleet telematics system: OBD-II + GPS -> SQLite -> MQTT.')
  .showHelpAfterError();

program
  .command('run')
  .description('Run the agent: read the vehicle and GPS, store every sample, sync to the cloud.')
  .addOption(new Option('--tenant <id>', 'tenant id').env('FLEET_TENANT_ID').default('demo'))
  .addOption(new Option('--vehicle <id>', 'vehicle id').env('FLEET_VEHICLE_ID').makeOptionMandatory())
  .addOption(
    new Option('--obd-port <path>', 'ELM327 adapter: serial device or tcp://host:port')
      .env('FLEET_OBD_PORT')
      .makeOptionMandatory(),
  )
  .addOption(new Option('--obd-baud <n>', 'ELM327 baud rate').env('FLEET_OBD_BAUD').default('38400'))
  .addOption(
    new Option('--gps-nmea <path>', 'NMEA GPS receiver: serial device or tcp://host:port').env(
      'FLEET_GPS_NMEA',
    ),
  )
  .addOption(
    new Option('--gpsd <host:port>', 'read GPS from gpsd instead (port defaults to 2947)')
      .env('FLEET_GPSD')
      .conflicts('gpsNmea'),
  )
  .addOption(new Option('--gps-baud <n>', 'GPS baud rate').env('FLEET_GPS_BAUD').default('9600'))
  .addOption(new Option('--db <file>', 'SQLite store').env('FLEET_AGENT_DB').default('data/agent.db'))
  .addOption(
    new Option('--mqtt-url <url>', 'MQTT broker URL').env('MQTT_URL').default('mqtt://127.0.0.1:1884'),
  )
  .addOption(new Option('--base-topic <topic>', 'MQTT base topic').env('FLEET_BASE_TOPIC').default('fleet'))
  .addOption(
    new Option('--batch-size <n>', 'samples per MQTT batch [1...5000]')
      .env('FLEET_BATCH_SIZE')
      .default('500'),
  )
  .addOption(
    new Option('--flush-interval <ms>', 'ms between flushes [50...600000]')
      .env('FLEET_FLUSH_INTERVAL_MS')
      .default('1000'),
  )
  .action(async (o: Record<string, string>) => {
    const config = parseAgentConfig({
      tenantId: o.tenant,
      vehicleId: o.vehicle,
      obdPort: o.obdPort,
      obdBaud: o.obdBaud,
      gpsNmeaPort: o.gpsNmea,
      gpsdAddress: o.gpsd,
      gpsBaud: o.gpsBaud,
      dbPath: o.db,
      mqttUrl: o.mqttUrl,
      // Secrets only from the environment: a flag would show in `ps`.
      mqttUsername: env.MQTT_USERNAME,
      mqttPassword: env.MQTT_PASSWORD,
      baseTopic: o.baseTopic,
      batchSize: o.batchSize,
      flushIntervalMs: o.flushInterval,
    });
    const log = createLogger('agent', { vehicle: config.vehicleId });
    const agent = new Agent(config, log);
    agent.start();
    console.log(`fleet-agent ready vehicle=${config.vehicleId}`);
    let stopping = false;
    const stop = async () => {
      if (stopping) return;
      stopping = true;
      await agent.stop();
      log.info({ ...agent.sync.stats, gps: agent.gps.stats }, 'agent stopped');
      process.exit(0);
    };
    process.on('SIGTERM', () => void stop());
    process.on('SIGINT', () => void stop());
  });

const db = program.command('db').description('Inspect the on-device store.');
db.command('stats')
  .description('Samples stored, acknowledged by the broker, and still to send.')
  .addOption(new Option('--db <file>', 'SQLite store').env('FLEET_AGENT_DB').default('data/agent.db'))
  .option('--json', 'machine-readable output')
  .action((o: { db: string; json?: boolean }) => {
    const store = new SampleStore(o.db);
    const stats = store.stats();
    store.close();
    if (o.json) console.log(JSON.stringify(stats));
    else console.table(stats);
  });

registerObdCommands(program);
registerGpsCommands(program);

program.parseAsync().catch((err: unknown) => {
  // One clear line for a technician; the code tells support which subsystem failed.
  const code = isAgentError(err) ? ` [E${err.code}]` : '';
  console.error(`fleet-agent: ${(err as Error).message}${code}`);
  process.exit(2);
});
