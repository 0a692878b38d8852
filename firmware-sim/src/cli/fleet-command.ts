import { mkdirSync } from 'node:fs';
import { createLogger } from '@fleet/shared/log';
import type { Command } from 'commander';
import { SimError, SimErrorCode } from '../errors.ts';
import { startFleet } from '../fleet/fleet.ts';
import { routeByName } from '../vehicle/route.ts';
import {
  addAdapterProfileOption,
  addVehicleModelOptions,
  faultRates,
  integerIn,
  isoTime,
  sentenceList,
  talkerOption,
  type VehicleDeviceCliOptions,
  vehicleSettingsFromCli,
} from './options.ts';

interface FleetCliOptions extends VehicleDeviceCliOptions {
  count: number;
  dir: string;
  tcp?: boolean;
  pty?: boolean;
  host: string;
  idPrefix: string;
  tickMs: number;
  epochs?: number;
  truth: boolean;
  labels: boolean;
  startDelayMs: number;
}

const HELP_AFTER = `
Output (stdout), one JSON line per vehicle once all are set up, e.g.
  {"id":"veh-001","seed":1,"vin":"1SV...","elm":"tcp://127.0.0.1:40115","nmea":"tcp://127.0.0.1:40117",
   "truth":"DIR/veh-001/truth.jsonl","labels":"DIR/veh-001/labels.jsonl"}
  elm / nmea are what the host opens: with --pty the host-side pty paths (DIR/<id>/elm-host,
  DIR/<id>/gps-host; the simulator holds DIR/<id>/elm-sim, gps-sim), with --tcp the listening
  addresses. Vehicle i (from 0) has seed --seed + i. Epoch 0 is written after --start-delay-ms:
  open the host sides of ptys within it, or the first epochs are lost.

Examples:
  firmware-sim fleet --count 50 --dir /tmp/fleet --tcp --tick-ms 1000
  firmware-sim fleet --count 10 --dir /tmp/fleet --pty --scenario workday --start-delay-ms 3000
`;

async function runFleet(opts: FleetCliOptions): Promise<void> {
  const log = createLogger('firmware-sim');
  if (Boolean(opts.tcp) === Boolean(opts.pty)) {
    throw new SimError(SimErrorCode.InvalidOption, 'give exactly one of --tcp, --pty');
  }
  mkdirSync(opts.dir, { recursive: true });
  const startTimeMs = Math.floor((opts.startTime ?? Date.now()) / 1000) * 1000;
  const fleet = await startFleet({
    count: opts.count,
    dir: opts.dir,
    transport: opts.tcp ? 'tcp' : 'pty',
    host: opts.host,
    idPrefix: opts.idPrefix,
    seed: opts.seed ?? 1,
    startTimeMs,
    truth: opts.truth,
    labels: opts.labels,
    ...(opts.baud !== undefined ? { baudRate: opts.baud } : {}),
    vehicle: {
      tickMs: opts.tickMs,
      ...(opts.epochs !== undefined ? { epochs: opts.epochs } : {}),
      ...(opts.route ? { route: routeByName(opts.route) } : {}),
      ...vehicleSettingsFromCli(opts),
    },
  });

  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    await Promise.race([fleet.stop(), new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
    process.exit(0);
  };
  process.on('SIGTERM', (s) => void shutdown(s));
  process.on('SIGINT', (s) => void shutdown(s));

  for (const v of fleet.vehicles) process.stdout.write(`${JSON.stringify(v)}\n`);
  const begin = (): void => {
    fleet.start();
    log.info(
      {
        count: fleet.vehicles.length,
        transport: opts.tcp ? 'tcp' : 'pty',
        dir: opts.dir,
        tickMs: opts.tickMs,
      },
      'firmware-sim fleet ready',
    );
  };
  if (opts.startDelayMs > 0) setTimeout(begin, opts.startDelayMs);
  else begin();
}

export function addFleetCommand(program: Command): void {
  const cmd = program
    .command('fleet')
    .description(
      'Run N vehicles in one process, each on its own ptys (--pty) or TCP ports (--tcp), for load tests',
    )
    .requiredOption('--count <n>', 'number of vehicles', integerIn(1, 1000))
    .requiredOption('--dir <dir>', 'working folder: DIR/<id>/ holds ptys, truth and labels')
    .option('--tcp', 'listen on free TCP ports (printed)')
    .option('--pty', 'create socat pty pairs under DIR (host-side paths printed)')
    .option('--host <addr>', 'TCP listen address', '127.0.0.1')
    .option('--id-prefix <p>', 'vehicle ids are P-001, P-002, ...', 'veh')
    .option('--seed <n>', 'seed of the first vehicle; vehicle i gets seed + i', integerIn(0, 2 ** 32 - 1))
    .option('--tick-ms <n>', 'wall-clock ms per simulated second', integerIn(1, 3_600_000), 1000)
    .option(
      '--epochs <n>',
      'stop GPS output and driving after N epochs; OBD keeps answering',
      integerIn(1, 1e9),
    )
    .option('--start-time <iso>', 'GPS time of the first epoch (default: now)', isoTime)
    .option(
      '--start-delay-ms <n>',
      'wait before epoch 0 (time to open the host sides)',
      integerIn(0, 600_000),
      0,
    )
    .option('--no-truth', 'do not write DIR/<id>/truth.jsonl')
    .option('--no-labels', 'do not write DIR/<id>/labels.jsonl')
    .option(
      '--latency-ms <n>',
      'ELM327 response time per command (default: 30, 3 with --adapter stn)',
      integerIn(0, 5000),
    )
    .option('--baud <n>', 'serial line rate for --pty (also times ELM327 replies)', integerIn(300, 4_000_000))
    .option('--talker <id>', 'NMEA talker: GP or GN', talkerOption)
    .option('--sentences <list>', 'NMEA sentences per epoch: RMC,VTG,GGA,GSA,GSV or all', sentenceList)
    .option('--faults <list>', 'random ELM327 error answers, e.g. "NO DATA=0.01"', faultRates);
  addVehicleModelOptions(addAdapterProfileOption(cmd))
    .addHelpText('after', HELP_AFTER)
    .action((opts: FleetCliOptions) => runFleet(opts));
}
