import { appendFileSync } from 'node:fs';
import { createLogger } from '@fleet/shared/log';
import type { Command } from 'commander';
import { SimError, SimErrorCode } from '../errors.ts';
import { type ByteEndpoint, openEndpoint } from '../transport/index.ts';
import { hashString } from '../vehicle/random.ts';
import { routeByName } from '../vehicle/route.ts';
import { SimVehicle } from '../vehicle/sim-vehicle.ts';
import {
  addAdapterProfileOption,
  addVehicleModelOptions,
  faultRates,
  integerIn,
  isoTime,
  NMEA_HELP,
  sentenceList,
  talkerOption,
  type VehicleDeviceCliOptions,
  vehicleId,
  vehicleSettingsFromCli,
} from './options.ts';

interface VehicleCliOptions extends VehicleDeviceCliOptions {
  id: string;
  elm: string;
  nmea: string;
  tickMs: number;
  epochs?: number;
  truth?: string;
  labels?: string;
}

const HELP_AFTER = `
Endpoints (--elm, --nmea):
  /path/to/device     a serial device or pty; the simulator opens it at --baud (default 38400).
                      Make a pty pair with socat, give one end here and the other to the host:
                        socat -d -d pty,raw,echo=0,link=/tmp/elm-sim pty,raw,echo=0,link=/tmp/elm-host
  tcp://HOST:PORT     listen there, one client at a time (a WiFi ELM327 adapter uses port 35000);
                      port 0 picks a free port, shown in the "firmware-sim ready" log line.

Timing:
  Each tick (--tick-ms of wall clock) the vehicle advances one simulated second and one GPS epoch
  (RMC then GGA) is written; GPS time starts at --start-time. With --epochs N the GPS falls silent
  and the vehicle freezes after N epochs, while the ELM327 keeps answering.

Scenarios (--scenario, --labels):
  A scenario scripts what happens (parks, thefts, refuels, leaks, harsh driving, speeding, idling,
  DTCs, unplugging, GPS fix loss, adapter errors) and --labels FILE receives one JSON line per
  thing that happened, a meta line first. "firmware-sim scenarios" lists the built-ins.

Truth file (--truth FILE), one JSON line appended per emitted epoch:
  {"epoch":0,"ts":1714550400000,"lat":48.1391,"lon":11.5659,"speedKmh":0,"rpm":1050,
   "fuelLevelPct":61.96078431372549,"fuelLitresTrue":37.201,"coolantC":14.05,"headingDeg":167.91,
   "ignition":true,"vehicleId":"van-1","engineRunning":true,"gpsFix":true,"adapterPlugged":true,...}
  ts is the GPS time in epoch ms (a multiple of 1000); lat/lon are exactly what the NMEA fields
  say (degrees + minutes / 60); fuelLevelPct is the tank sender reading (PID 2F, with slosh);
  fuelLitresTrue is what is really in the tank.

${NMEA_HELP}

Logs are JSON lines on stderr (LOG_LEVEL=debug shows every ELM327 command).

Examples:
  firmware-sim vehicle --id van-1 --elm /tmp/elm-sim --nmea /tmp/gps-sim
  firmware-sim vehicle --id van-2 --elm tcp://127.0.0.1:35000 --nmea tcp://127.0.0.1:10110 \\
    --seed 7 --tick-ms 100 --epochs 600 --start-time 2024-05-01T08:00:00Z --truth /tmp/van-2.jsonl
  firmware-sim vehicle --id van-3 --elm /tmp/elm-sim --nmea /tmp/gps-sim --protocol iso9141 \\
    --adapter stn --dtc P0133 --scenario fuel-theft --labels /tmp/van-3-labels.jsonl --sentences all
`;

function ensureWritable(file: string, what: string): void {
  try {
    appendFileSync(file, ''); // fail now, not at the first epoch
  } catch (cause) {
    throw new SimError(
      SimErrorCode.InvalidOption,
      `cannot write ${what} ${file}: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
}

async function runVehicle(opts: VehicleCliOptions): Promise<void> {
  const log = createLogger('firmware-sim', { vehicle: opts.id });
  const seed = opts.seed ?? hashString(opts.id);
  const route = opts.route === undefined ? undefined : routeByName(opts.route);
  const startTimeMs = Math.floor((opts.startTime ?? Date.now()) / 1000) * 1000;
  if (opts.truth !== undefined) ensureWritable(opts.truth, 'truth file');
  if (opts.labels !== undefined) ensureWritable(opts.labels, 'labels file');

  const opened: ByteEndpoint[] = [];
  let elm: ByteEndpoint;
  let nmea: ByteEndpoint;
  const baud = opts.baud !== undefined ? { baudRate: opts.baud } : {};
  try {
    elm = await openEndpoint(opts.elm, {
      logger: createLogger('transport', { vehicle: opts.id, role: 'elm', endpoint: opts.elm }),
      ...baud,
    });
    opened.push(elm);
    nmea = await openEndpoint(opts.nmea, {
      logger: createLogger('transport', { vehicle: opts.id, role: 'nmea', endpoint: opts.nmea }),
      ...baud,
    });
    opened.push(nmea);
  } catch (err) {
    await Promise.all(opened.map((e) => e.close()));
    throw err;
  }

  const sim = new SimVehicle({
    id: opts.id,
    seed,
    startTimeMs,
    elm,
    gps: nmea,
    tickMs: opts.tickMs,
    ...(opts.epochs !== undefined ? { epochs: opts.epochs } : {}),
    ...(opts.truth !== undefined ? { truthFile: opts.truth } : {}),
    ...(opts.labels !== undefined ? { labelsFile: opts.labels } : {}),
    ...(route ? { route } : {}),
    ...vehicleSettingsFromCli(opts),
  });

  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    sim.stop();
    const closed = Promise.all([elm.close(), nmea.close()]);
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    process.exit(0);
  };
  process.on('SIGTERM', (s) => void shutdown(s));
  process.on('SIGINT', (s) => void shutdown(s));

  sim.listen();
  log.info(
    {
      elm: elm.description,
      nmea: nmea.description,
      vin: sim.vin,
      seed,
      route: sim.model.route.name,
      startTime: new Date(startTimeMs).toISOString(),
      tickMs: opts.tickMs,
      epochs: opts.epochs ?? null,
      scenario: sim.scenarioName,
      protocol: sim.emulator.vehicleProtocol.vehicle,
      adapter: sim.emulator.adapter,
      adapterProfile: sim.emulator.profile,
    },
    'firmware-sim ready',
  );
  // A GPS on a TCP listener starts its clock when its first client connects, so a host that
  // connects after `ready` still receives epoch 0 (bytes with no client are dropped, as on a UART).
  if (nmea.firstHostConnected) {
    log.info({ nmea: nmea.description }, 'waiting for the first GPS client before the clock starts');
    await nmea.firstHostConnected;
  }
  if (!stopping) sim.start();
}

export function addVehicleCommand(program: Command): void {
  const cmd = program
    .command('vehicle')
    .description('Run one vehicle: ELM327 on --elm, NMEA GPS on --nmea, until SIGTERM/SIGINT')
    .requiredOption('--id <id>', 'vehicle id; also fixes the VIN', vehicleId)
    .requiredOption('--elm <spec>', 'ELM327 endpoint: serial device path or tcp://HOST:PORT')
    .requiredOption('--nmea <spec>', 'GPS endpoint: serial device path or tcp://HOST:PORT')
    .option(
      '--seed <n>',
      'seed of route, driving and noise (default: derived from --id)',
      integerIn(0, 2 ** 32 - 1),
    )
    .option('--tick-ms <n>', 'wall-clock ms per simulated second', integerIn(1, 3_600_000), 1000)
    .option(
      '--epochs <n>',
      'stop GPS output and driving after N epochs; OBD keeps answering',
      integerIn(1, 1e9),
    )
    .option(
      '--start-time <iso>',
      'GPS time of the first epoch (default: now, rounded down to the second)',
      isoTime,
    )
    .option('--truth <file>', 'append one JSON line of ground truth per GPS epoch to FILE')
    .option('--labels <file>', "append the scenario's ground-truth labels (JSON lines) to FILE")
    .option(
      '--latency-ms <n>',
      'ELM327 response time per command (0: answer at once; default: 30, 3 with --adapter stn)',
      integerIn(0, 5000),
    )
    .option(
      '--baud <n>',
      'serial line rate (default: 38400); when given, ELM327 replies also take their wire time at it',
      integerIn(300, 4_000_000),
    )
    .option('--talker <id>', 'NMEA talker: GP (GPS only, default) or GN (GPS + GLONASS)', talkerOption)
    .option(
      '--sentences <list>',
      'NMEA sentences per epoch: RMC,VTG,GGA,GSA,GSV or all (default: RMC,GGA)',
      sentenceList,
    )
    .option(
      '--faults <list>',
      'random ELM327 error answers, e.g. "NO DATA=0.01,CAN ERROR=0.002"',
      faultRates,
    );
  addVehicleModelOptions(addAdapterProfileOption(cmd))
    .addHelpText('after', HELP_AFTER)
    .action((opts: VehicleCliOptions) => runVehicle(opts));
}
