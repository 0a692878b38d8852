/**
 * `fleet-agent`: the in-vehicle daemon (`run`) and the technician's commands.
 * Human output on stdout, JSON logs on stderr, `--json` where a script reads the answer.
 */
import { createLogger } from '@fleet/shared/log';
import { Command, Option } from 'commander';
import { Agent } from './agent.ts';
import { registerDbCommands } from './cli/db.ts';
import { registerGpsCommands } from './cli/gps.ts';
import { addModelKeyOption, registerModelCommands } from './cli/model.ts';
import { registerObdCommands } from './cli/obd.ts';
import { registerProvisionCommand, resolveModelKeyFile } from './cli/provision.ts';
import { registerReplayCommand } from './cli/replay.ts';
import { addDbOption, addSyncOptions, registerSyncCommands, syncConfigFrom } from './cli/sync.ts';
import { parseAgentConfig } from './config.ts';
import { isAgentError } from './errors.ts';

const env = process.env;
const program = new Command('fleet-agent')
  .description('Edge agent of the fleet telematics system: OBD-II + GPS -> SQLite -> MQTT.')
  .showHelpAfterError();

const run = program
  .command('run')
  .description('Run the agent: read the vehicle and GPS, store every sample, sync to the cloud.')
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
  .addOption(
    new Option('--tank-liters <n>', 'fuel tank capacity, litres').env('FLEET_TANK_LITRES').default('60'),
  )
  .addOption(
    new Option('--speed-limit <kmh>', 'speeding rule for the detectors').env('FLEET_SPEED_LIMIT_KMH'),
  )
  .addOption(
    new Option(
      '--dtc-period <s>',
      'seconds between trouble-code reads while the engine runs (sooner when the MIL changes) [10...86400]',
    )
      .env('FLEET_DTC_PERIOD_S')
      .default('300'),
  )
  .addOption(
    new Option(
      '--monitor-period <s>',
      'seconds between on-board monitor (service 06) reads while the engine runs [1...86400]',
    )
      .env('FLEET_MONITOR_PERIOD_S')
      .default('600'),
  )
  .addOption(
    new Option(
      '--obd-retry-ms <ms>',
      'ms between probes of a silent vehicle (ignition off) and reconnects [100...60000]',
    )
      .env('FLEET_OBD_RETRY_MS')
      .default('2000'),
  );
addModelKeyOption(run);
run.addOption(
  new Option(
    '--command-public-key <file>',
    "the cloud's remote-command public key (PEM, Ed25519): signed commands are run only with it",
  ).env('FLEET_COMMAND_PUBLIC_KEY_FILE'),
);
addSyncOptions(addDbOption(run)).action(async (o: Record<string, string>) => {
  const config = parseAgentConfig({
    ...syncConfigFrom(o, env),
    obdPort: o.obdPort,
    obdBaud: o.obdBaud,
    gpsNmeaPort: o.gpsNmea,
    gpsdAddress: o.gpsd,
    gpsBaud: o.gpsBaud,
    tankLitres: o.tankLiters,
    speedLimitKmh: o.speedLimit,
    dtcPeriodSec: o.dtcPeriod,
    monitorPeriodSec: o.monitorPeriod,
    obdRetryMs: o.obdRetryMs,
    // Given, or installed by `fleet-agent provision --model-public-key`.
    modelPublicKeyFile: resolveModelKeyFile(o.modelPublicKey),
    commandPublicKeyFile: o.commandPublicKey,
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
    log.info(
      {
        ...agent.link.stats,
        ...agent.link.telemetry.stats,
        events: agent.link.events.stats,
        gps: agent.gps.stats,
      },
      'agent stopped',
    );
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
});

registerSyncCommands(program);
registerDbCommands(program);
registerObdCommands(program);
registerGpsCommands(program);
registerProvisionCommand(program);
registerModelCommands(program);
registerReplayCommand(program);

program.parseAsync().catch((err: unknown) => {
  // One clear line for a technician; the code tells support which subsystem failed.
  const code = isAgentError(err) ? ` [E${err.code}]` : '';
  console.error(`fleet-agent: ${(err as Error).message}${code}`);
  process.exit(2);
});
