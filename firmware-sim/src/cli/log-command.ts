import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { runFastForward } from '../csv-log/fast-forward.ts';
import {
  CSV_BASE_COLUMNS,
  CSV_EXTRA_COLUMNS,
  type CsvExtraColumn,
  parseExtraColumns,
} from '../csv-log/format.ts';
import {
  addVehicleModelOptions,
  integerIn,
  isoTime,
  numberIn,
  type VehicleModelCliOptions,
  vehicleId,
} from './options.ts';

interface LogCliOptions extends VehicleModelCliOptions {
  id: string;
  hours: number;
  hz: number;
  out: string;
  labels?: string;
  columns?: CsvExtraColumn[];
}

/** A fixed default start, so the same seed gives the same file on any day. */
const DEFAULT_START = '2024-05-01T06:00:00Z';

const HELP_AFTER = `
Fast-forward: no real time, no ports. The scenario runs for --hours of simulated time and the
CSV gets what a logger polling OBD and reading NMEA would have recorded:

  header: ${CSV_BASE_COLUMNS.join(',')}[,${CSV_EXTRA_COLUMNS.join(',')}]
  ts is ISO 8601 UTC (2024-05-01T06:00:00.000Z); values at PID resolution (speed integer km/h,
  rpm 0.25, fuel level 100/255 %, fuel rate 0.05 L/h, MAF 0.01 g/s); empty cells when there is
  no value (ignition off, adapter unplugged, an injected error answer, no GPS fix, PID not
  supported); ignition 1/0. Optional columns with --columns (all, or a list).

--labels FILE gets the ground truth: a meta line (tank calibration, thresholds, ...), then one
JSON line per labelled event, sorted by start. See README.md, "Labels".

Examples:
  firmware-sim log --scenario mixed --seed 1 --hours 24 --out day.csv --labels day.jsonl
  firmware-sim log --scenario fuel-theft --seed 7 --hours 168 --hz 0.1 --out week.csv \\
    --labels week.jsonl --columns all --tank-shape cylinder --pids 0C,0D,2F,10
`;

function columnList(text: string): CsvExtraColumn[] {
  try {
    return parseExtraColumns(text);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

function runLog(opts: LogCliOptions): void {
  const startTimeMs = Math.floor((opts.startTime ?? Date.parse(DEFAULT_START)) / 1000) * 1000;
  const result = runFastForward({
    id: opts.id,
    seed: opts.seed ?? 1,
    startTimeMs,
    hours: opts.hours,
    hz: opts.hz,
    out: opts.out,
    ...(opts.labels !== undefined ? { labelsOut: opts.labels } : {}),
    ...(opts.columns ? { extraColumns: opts.columns } : {}),
    ...(opts.scenario ? { scenario: opts.scenario } : {}),
    ...(opts.route ? { route: opts.route } : {}),
    ...(opts.tankLitres !== undefined ? { tankLitres: opts.tankLitres } : {}),
    ...(opts.tankShape ? { tankShape: opts.tankShape } : {}),
    ...(opts.initialFuelPct !== undefined ? { initialFuelPct: opts.initialFuelPct } : {}),
    ...(opts.speedProfile ? { speedProfile: opts.speedProfile } : {}),
    ...(opts.sender ? { sender: opts.sender } : {}),
    ...(opts.dtc ? { dtcs: opts.dtc } : {}),
    ...(opts.pids ? { pids: opts.pids } : {}),
    ...(opts.protocol ? { protocol: opts.protocol } : {}),
    ...(opts.adapter ? { adapter: opts.adapter } : {}),
  });
  const summary = {
    out: opts.out,
    labels: opts.labels ?? null,
    rows: result.rows,
    labelCount: result.labels,
    simulatedHours: result.simulatedS / 3600,
    elapsedMs: Math.round(result.elapsedMs),
    rowsPerSecond: Math.round((result.rows / Math.max(1, result.elapsedMs)) * 1000),
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

export function addLogCommand(program: Command): void {
  const cmd = program
    .command('log')
    .description('Fast-forward a scenario and write a labelled CSV log (no real time, no ports)')
    .requiredOption('--hours <h>', 'simulated duration in hours', numberIn(1 / 3600, 24 * 366))
    .requiredOption('--out <file.csv>', 'CSV log to write (overwritten)')
    .option('--labels <file.jsonl>', 'labels to write (overwritten): a meta line, then one line per event')
    .option('--seed <n>', 'seed of route, driving, noise and scenario draws', integerIn(0, 2 ** 32 - 1), 1)
    .option('--id <id>', 'vehicle id in the labels', vehicleId, 'log-1')
    .option(
      '--hz <n>',
      'rows per simulated second, (0...10]; 0.1 = one row every 10 s',
      numberIn(1e-6, 10),
      1,
    )
    .option('--start-time <iso>', `time of the first row (default: ${DEFAULT_START})`, isoTime)
    .option('--columns <list>', `optional columns: ${CSV_EXTRA_COLUMNS.join(',')} or all`, columnList);
  addVehicleModelOptions(cmd)
    .addHelpText('after', HELP_AFTER)
    .action((opts: LogCliOptions) => runLog(opts));
}
