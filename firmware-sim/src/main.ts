import { appendFileSync } from 'node:fs';
import { ID_PATTERN } from '@fleet/shared';
import { createLogger } from '@fleet/shared/log';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { isUsageError, SimError, SimErrorCode } from './errors.ts';
import { type ByteEndpoint, openEndpoint } from './transport/index.ts';
import { hashString } from './vehicle/random.ts';
import { routeByName, routeNames } from './vehicle/route.ts';
import { SimVehicle } from './vehicle/sim-vehicle.ts';

/** Exit code of a bad command line or an endpoint that cannot be opened (sysexits-style usage). */
const EXIT_USAGE = 2;

interface VehicleCliOptions {
  id: string;
  elm: string;
  nmea: string;
  seed?: number;
  tickMs: number;
  epochs?: number;
  startTime?: number;
  tankLitres: number;
  truth?: string;
  latencyMs: number;
  route?: string;
}

function integerIn(min: number, max: number) {
  return (text: string): number => {
    const n = Number(text);
    if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected an integer in [${min}...${max}]`);
    }
    return n;
  };
}

function numberIn(min: number, max: number) {
  return (text: string): number => {
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a number in [${min}...${max}]`);
    }
    return n;
  };
}

function isoTime(text: string): number {
  const ms = Date.parse(text);
  if (Number.isNaN(ms))
    throw new InvalidArgumentError('expected an ISO 8601 time, e.g. 2024-05-01T08:00:00Z');
  return ms;
}

function vehicleId(text: string): string {
  if (!ID_PATTERN.test(text))
    throw new InvalidArgumentError(`expected ${ID_PATTERN.source} (it ends up in MQTT topics)`);
  return text;
}

const HELP_AFTER = `
Endpoints (--elm, --nmea):
  /path/to/device     a serial device or pty; the simulator opens it at 38400 baud.
                      Make a pty pair with socat, give one end here and the other to the host:
                        socat -d -d pty,raw,echo=0,link=/tmp/elm-sim pty,raw,echo=0,link=/tmp/elm-host
  tcp://HOST:PORT     listen there, one client at a time (a WiFi ELM327 adapter uses port 35000);
                      port 0 picks a free port, shown in the "firmware-sim ready" log line.

Timing:
  Each tick (--tick-ms of wall clock) the vehicle advances one simulated second and one GPS epoch
  (RMC then GGA) is written; GPS time starts at --start-time. With --epochs N the GPS falls silent
  and the vehicle freezes after N epochs, while the ELM327 keeps answering.

Truth file (--truth FILE), one JSON line appended per emitted epoch:
  {"epoch":0,"ts":1714550400000,"lat":48.1391,"lon":11.5659,"speedKmh":0,"rpm":1050,
   "fuelLevelPct":61.96078431372549,"fuelLitresTrue":37.201,"coolantC":14.05,"headingDeg":167.91,
   "ignition":true,"vehicleId":"van-1"}
  ts is the GPS time in epoch ms (a multiple of 1000); lat/lon are exactly what the NMEA fields
  say (degrees + minutes / 60); fuelLevelPct is the tank sender reading (PID 2F, with slosh);
  fuelLitresTrue is what is really in the tank.

Logs are JSON lines on stderr (LOG_LEVEL=debug shows every ELM327 command).

Examples:
  firmware-sim vehicle --id van-1 --elm /tmp/elm-sim --nmea /tmp/gps-sim
  firmware-sim vehicle --id van-2 --elm tcp://127.0.0.1:35000 --nmea tcp://127.0.0.1:10110 \\
    --seed 7 --tick-ms 100 --epochs 600 --start-time 2024-05-01T08:00:00Z --truth /tmp/van-2.jsonl
`;

async function runVehicle(opts: VehicleCliOptions): Promise<void> {
  const log = createLogger('firmware-sim', { vehicle: opts.id });
  const seed = opts.seed ?? hashString(opts.id);
  const route = opts.route === undefined ? undefined : routeByName(opts.route);
  const startTimeMs = Math.floor((opts.startTime ?? Date.now()) / 1000) * 1000;
  if (opts.truth !== undefined) {
    try {
      appendFileSync(opts.truth, ''); // fail now, not at the first epoch
    } catch (cause) {
      throw new SimError(
        SimErrorCode.InvalidOption,
        `cannot write truth file ${opts.truth}: ${(cause as Error).message}`,
        {
          cause,
        },
      );
    }
  }

  const opened: ByteEndpoint[] = [];
  let elm: ByteEndpoint;
  let nmea: ByteEndpoint;
  try {
    elm = await openEndpoint(opts.elm, {
      logger: createLogger('transport', { vehicle: opts.id, role: 'elm', endpoint: opts.elm }),
    });
    opened.push(elm);
    nmea = await openEndpoint(opts.nmea, {
      logger: createLogger('transport', { vehicle: opts.id, role: 'nmea', endpoint: opts.nmea }),
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
    tankLitres: opts.tankLitres,
    latencyMs: opts.latencyMs,
    ...(opts.epochs !== undefined ? { epochs: opts.epochs } : {}),
    ...(opts.truth !== undefined ? { truthFile: opts.truth } : {}),
    ...(route ? { route } : {}),
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

  sim.start();
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
    },
    'firmware-sim ready',
  );
}

function buildProgram(): Command {
  const program = new Command()
    .name('firmware-sim')
    .description(
      'Virtual vehicles for the fleet edge agent: an ELM327 v1.5 OBD-II adapter and an NMEA 0183 GPS ' +
        'receiver per vehicle, on serial ptys or TCP, driven by a deterministic vehicle model.',
    )
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();

  program
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
    .option('--tank-litres <n>', 'fuel tank capacity in litres', numberIn(1, 2000), 60)
    .option('--truth <file>', 'append one JSON line of ground truth per GPS epoch to FILE')
    .option(
      '--latency-ms <n>',
      'ELM327 response time per command (0: answer at once)',
      integerIn(0, 5000),
      30,
    )
    .option('--route <name>', `built-in route (default: chosen by seed): ${routeNames().join(', ')}`)
    .addHelpText('after', HELP_AFTER)
    .action((opts: VehicleCliOptions) => runVehicle(opts));

  return program;
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Commander already printed the message (or the help); only the exit code is ours.
    process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE);
  }
  if (isUsageError(err)) {
    console.error(`firmware-sim: ${err.message}`);
    process.exit(EXIT_USAGE);
  }
  console.error(
    `firmware-sim: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
  );
  process.exit(1);
}
