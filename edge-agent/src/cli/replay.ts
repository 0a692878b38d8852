/**
 * `fleet-agent replay FILE... [--format auto|csv|torque|carobd] [--tank-liters N] [--speed-limit N] [--json]`:
 * runs recorded drive logs through exactly the detectors the agent runs on the vehicle, so a
 * technician or analyst can re-check a disputed alarm.
 *
 * Each file is its own drive: its own pipeline, as an agent that started with it would have. The
 * format is told by the header unless given; gzip-compressed files are read as they are.
 *
 * Output per file: one event per line on stdout (JSON with --json, a table otherwise), in the
 * order the pipeline emitted them, then the consumption summary: with --json as a
 * `{"summary": {...}}` line on stdout (so one stream holds everything a script needs), otherwise
 * as text on stderr. Bad rows are counted (and the first few shown on stderr); they never stop
 * the replay. Exit 0 on success, 2 on an unreadable file or a log with no usable row.
 */
import { readFileSync, statSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { VehicleEvent } from '@fleet/shared';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { createDetectorPipeline, type DetectorConfig } from '../detectors/index.ts';
import { AgentError, AgentErrorCode } from '../errors.ts';
import { parseCarObdCsv } from '../fuel/carobd-log.ts';
import { summarizeConsumption } from '../fuel/consumption.ts';
import { type DriveLogParse, parseDriveLogCsv } from '../fuel/drive-log.ts';
import { parseTorqueCsv } from '../fuel/torque-log.ts';

export interface ReplayIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

const consoleIo: ReplayIo = { out: (l) => console.log(l), err: (l) => console.error(l) };

export interface ReplayOptions {
  format: LogFormat | 'auto';
  tankLiters: number;
  speedLimit?: number;
  idleThreshold?: number;
  drainInMotion?: boolean;
  calibration?: string;
  json?: boolean;
  /** Where a log without a wall clock (carOBD) starts, epoch ms (default: the file's modification time). */
  start?: number;
}

function positive(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number`);
    return n;
  };
}

function isoTime(v: string): number {
  const ms = Date.parse(v);
  if (!Number.isFinite(ms))
    throw new InvalidArgumentError('--start must be an ISO time, e.g. 2024-05-01T08:00:00Z');
  return ms;
}

/** "0:0,50:38,100:80" -> [[0,0],[50,38],[100,80]] (reading %, litres). */
export function parseCalibration(text: string): [number, number][] {
  const pairs = text.split(',').map((p) => p.split(':').map(Number));
  if (pairs.length < 2 || pairs.some((p) => p.length !== 2 || !p.every(Number.isFinite))) {
    throw new InvalidArgumentError('calibration must be pct:litres pairs, e.g. 0:0,50:38,100:80');
  }
  return pairs as [number, number][];
}

export type LogFormat = 'csv' | 'torque' | 'carobd';

/** The format a log's header line names: carOBD's PID columns, Torque Pro's clock columns, else ours. */
export function detectLogFormat(header: string): LogFormat {
  if (/ENGINE_RUN_TI[NM]E\b/i.test(header)) return 'carobd';
  if (/(^|,)\s*(GPS Time|Device Time)\s*(,|$)/.test(header)) return 'torque';
  return 'csv';
}

function readLog(
  file: string,
  format: ReplayOptions['format'],
  start: number | undefined,
): { format: LogFormat; parsed: DriveLogParse } {
  let text: string;
  try {
    const bytes = readFileSync(file);
    text = (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString('utf8');
  } catch (cause) {
    throw new AgentError(AgentErrorCode.LogNotFound, `cannot read ${file}: ${(cause as Error).message}`, {
      cause,
    });
  }
  const f = format === 'auto' ? detectLogFormat(text.split('\n', 1)[0]!) : format;
  if (f !== 'carobd')
    return { format: f, parsed: f === 'torque' ? parseTorqueCsv(text) : parseDriveLogCsv(text) };
  // No wall clock in the log: its events still need real times (the event contract wants them
  // after 2000), and the file's modification time is when the logger wrote it, near enough.
  return { format: f, parsed: parseCarObdCsv(text, { startMs: start ?? statSync(file).mtimeMs }) };
}

const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

function eventLine(e: VehicleEvent): string {
  const vol = e.volumeL === undefined ? '' : `${e.volumeL.toFixed(2)} L`;
  const where = e.lat === null || e.lon === null ? '-' : `${e.lat.toFixed(5)},${e.lon.toFixed(5)}`;
  return `${String(e.id).padStart(4)}  ${e.type.padEnd(13)} ${iso(e.start)}  ${iso(e.end)}  ${vol.padStart(9)}  ${e.confidence.toFixed(2)}  ${where}`;
}

export function replay(file: string, o: ReplayOptions, io: ReplayIo = consoleIo): number {
  const { format, parsed } = readLog(file, o.format, o.start);
  if (parsed.samples.length === 0) {
    const why = parsed.errors[0] ? `line ${parsed.errors[0].line}: ${parsed.errors[0].reason}` : 'no rows';
    throw new AgentError(
      AgentErrorCode.LogMalformed,
      `${file} is not a readable ${format} drive log (${parsed.errors.length} bad rows; ${why})`,
    );
  }
  if (parsed.errors.length) {
    io.err(`${parsed.errors.length} bad rows skipped (${parsed.samples.length} read):`);
    for (const e of parsed.errors.slice(0, 5)) io.err(`  line ${e.line}: ${e.reason}`);
  }
  const config: DetectorConfig = {
    tankLitres: o.tankLiters,
    ...(o.calibration ? { calibration: parseCalibration(o.calibration) } : {}),
    ...(o.speedLimit !== undefined ? { speedLimitKmh: o.speedLimit } : {}),
    ...(o.idleThreshold !== undefined ? { idleThresholdS: o.idleThreshold } : {}),
    ...(o.drainInMotion ? { detectDrainInMotion: true } : {}),
  };
  const pipeline = createDetectorPipeline(config);
  const print = (events: VehicleEvent[]): void => {
    for (const e of events) io.out(o.json ? JSON.stringify(e) : eventLine(e));
  };
  if (!o.json)
    io.out('  id  type          start                 end                      volume  conf  position');
  for (const s of parsed.samples) print(pipeline.push(s));
  print(pipeline.flush());
  const summary = {
    file,
    format,
    ...summarizeConsumption(parsed.samples, config),
    badRows: parsed.errors.length,
    outOfOrder: pipeline.stats.outOfOrder,
  };
  if (o.json) io.out(JSON.stringify({ summary }));
  else {
    const f = (v: number | null, unit: string): string => (v === null ? 'n/a' : `${v} ${unit}`);
    io.err(
      `Consumption: ${f(summary.litresUsed, 'L')} (${summary.litresSource}) over ${summary.distanceKm} km (${summary.distanceSource}), ` +
        `${f(summary.lPer100Km, 'L/100 km')}, ${f(summary.mpgUs, 'MPG (US)')}, idle ${f(summary.idleLph, 'L/h')} ` +
        `over ${summary.idleHours} h; refuels ${summary.refuelL} L, drains ${summary.drainL} L; ` +
        `${summary.samples} samples, ${summary.badRows} bad rows`,
    );
  }
  return 0;
}

export function registerReplayCommand(program: Command, io: ReplayIo = consoleIo): void {
  program
    .command('replay')
    .description(
      'Run a recorded drive log through the on-vehicle detectors (refuel, drain, leak, idle, harsh, speeding).',
    )
    .argument('<files...>', 'drive logs: the CSV log format (see README), Torque Pro exports, carOBD logs')
    .addOption(
      new Option('--format <format>', 'log format (auto: told by the header)')
        .choices(['auto', 'csv', 'torque', 'carobd'])
        .default('auto'),
    )
    .addOption(
      new Option('--tank-liters <n>', 'tank capacity in litres')
        .argParser(positive('--tank-liters'))
        .default(60),
    )
    .option('--calibration <pairs>', 'non-linear tank: reading%:litres pairs, e.g. 0:0,50:38,100:80')
    .addOption(
      new Option('--speed-limit <kmh>', 'speeding rule (none without it)').argParser(
        positive('--speed-limit'),
      ),
    )
    .addOption(
      new Option('--idle-threshold <s>', 'idling longer than this is long_idle (default 300)').argParser(
        positive('--idle-threshold'),
      ),
    )
    .addOption(
      new Option(
        '--start <time>',
        "a log without a wall clock (carOBD) starts at this ISO time (default: the file's mtime)",
      ).argParser(isoTime),
    )
    .option('--drain-in-motion', 'judge drains while driving too (off by default: slosh)')
    .option('--json', 'one JSON event per line, then a final {"summary": ...} line')
    .addHelpText(
      'after',
      `
Each file is replayed on its own (a fresh pipeline), gzip-compressed or not. Output per file:
events on stdout in the order the pipeline emitted them (as on the vehicle); the consumption
summary goes to stderr, or with --json as a stdout line {"summary": {...}} after the file's events.
Bad rows are skipped and counted. Exit 2 when a file is missing or has no readable row.

Examples:
  fleet-agent replay day.csv --tank-liters 80 --speed-limit 50 --json
  fleet-agent replay trackLog.csv --format torque --tank-liters 50
  fleet-agent replay carobd-dev/*.csv.gz --tank-liters 45 --json`,
    )
    .action((files: string[], o: ReplayOptions) => {
      for (const file of files) process.exitCode = replay(file, o, io);
    });
}
