/**
 * `fleet-agent gps`: a technician's look at the GPS input, through the same readers the agent
 * uses. One line per receiver epoch on stdout (`--json`: one JSON object per line: a GpsFix, or
 * a GpsNoFix with mode 1 while the receiver searches); JSON logs on stderr; a bad option, a
 * missing serial port or an unreachable gpsd is one line on stderr and exit code 2.
 *
 *   fleet-agent gps --nmea /dev/ttyAMA0 [--baud 9600] [--count 5] [--json]
 *   fleet-agent gps --gpsd 127.0.0.1:2947 [--count 5] [--json]
 */
import { createLogger, type Logger } from '@fleet/shared/log';
import { type Command, Option } from 'commander';
import { isAgentError } from '../errors.ts';
import { GpsdClient, parseGpsdAddress } from '../gps/gpsd-client.ts';
import type { GpsFix, GpsNoFix } from '../gps/nmea/rmc.ts';
import { NmeaReader } from '../gps/nmea-reader.ts';
import { openByteStream } from '../transport/open.ts';

/** Exit codes: 0 done, 1 unexpected failure, 2 usage or the GPS source cannot be opened. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export interface GpsCommandOptions {
  gpsd?: string;
  nmea?: string;
  /** [1200...4000000], default: 9600. */
  baud?: string;
  /** [1...1000000] fixes, default: until interrupted. */
  count?: string;
  json?: boolean;
}

/** Where the command writes; the process's stdout/stderr unless a test passes its own. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

class UsageError extends Error {}

function integerOption(name: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < min || n > max) {
    throw new UsageError(`--${name} expects an integer in [${min}...${max}], got "${text}"`);
  }
  return n;
}

const fixed = (v: number | null, digits: number, unit = '') =>
  v === null ? '-' : `${v.toFixed(digits)}${unit}`;

/** `2024-05-01T08:00:00.000Z  3D  48.1173000  11.5166667  41.5 km/h  84.4°  545.4 m  sats 8/12  hdop 0.9  ±17.1 m` */
export function formatFix(fix: GpsFix): string {
  return [
    new Date(fix.ts).toISOString(),
    `${fix.mode}D`,
    fix.lat.toFixed(7).padStart(11),
    fix.lon.toFixed(7).padStart(12),
    `${fixed(fix.speedKmh, 1)} km/h`.padStart(11),
    `${fixed(fix.courseDeg, 1)}°`.padStart(7),
    `${fixed(fix.altitudeM, 1)} m`.padStart(9),
    `sats ${fix.satellitesUsed ?? '-'}/${fix.satellitesVisible ?? '-'}`,
    `hdop ${fixed(fix.hdop, 1)}`,
    `±${fixed(fix.ephM, 1)} m`,
  ].join('  ');
}

export function formatNoFix(report: GpsNoFix): string {
  const when = report.ts === null ? '(no time yet)'.padEnd(24) : new Date(report.ts).toISOString();
  return `${when}  no fix  sats ${report.satellitesUsed ?? '-'}/${report.satellitesVisible ?? '-'}`;
}

function cliLogger(): Logger {
  const log = createLogger('gps-cli');
  // Readers log at info (port open, reconnects); a technician's terminal wants warnings only.
  return process.env.LOG_LEVEL ? log : log.child({}, { level: 'warn' });
}

/**
 * Runs the command; resolves with the exit code. Stops after `--count` fixes, when `signal`
 * aborts, or (NMEA) never on its own: the readers reopen a lost port like the agent does.
 */
export async function runGpsCommand(
  opts: GpsCommandOptions,
  io: CliIo = processIo,
  signal?: AbortSignal,
): Promise<number> {
  let count: number | undefined;
  let baud: number;
  try {
    if ((opts.gpsd === undefined) === (opts.nmea === undefined)) {
      throw new UsageError('give exactly one GPS source: --gpsd HOST:PORT or --nmea PATH');
    }
    count = integerOption('count', opts.count, 1, 1_000_000);
    baud = integerOption('baud', opts.baud, 1200, 4_000_000) ?? 9600;
    if (opts.gpsd !== undefined) parseGpsdAddress(opts.gpsd);
  } catch (err) {
    io.err(`fleet-agent gps: ${(err as Error).message}`);
    return EXIT_USAGE;
  }

  const log = cliLogger();
  let fixes = 0;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const onFix = (fix: GpsFix) => {
    if (count !== undefined && fixes >= count) return;
    fixes++;
    io.out(opts.json ? JSON.stringify(fix) : formatFix(fix));
    if (count !== undefined && fixes >= count) finish();
  };
  const onNoFix = (report: GpsNoFix) => {
    if (count !== undefined && fixes >= count) return;
    io.out(opts.json ? JSON.stringify(report) : formatNoFix(report));
  };
  if (signal?.aborted) return EXIT_OK;
  signal?.addEventListener('abort', () => finish(), { once: true });

  let source: NmeaReader | GpsdClient;
  let running: Promise<void>;
  try {
    if (opts.nmea !== undefined) {
      const path = opts.nmea;
      // Open once here so a wrong path fails now, with exit 2, instead of retrying forever.
      let first: Awaited<ReturnType<typeof openByteStream>> | null = await openByteStream(path, baud);
      source = new NmeaReader(
        async () => {
          const stream = first ?? (await openByteStream(path, baud));
          first = null;
          return stream;
        },
        onFix,
        log,
        { onNoFix },
      );
      running = source.run();
    } else {
      let connected: () => void = () => {};
      const firstConnect = new Promise<void>((resolve) => {
        connected = resolve;
      });
      const client = new GpsdClient(
        { ...parseGpsdAddress(opts.gpsd!), failFirstConnect: true, onNoFix, onConnect: () => connected() },
        onFix,
        log,
      );
      source = client;
      running = client.run();
      // The first connection decides: unreachable -> exit 2; afterwards it reconnects.
      await Promise.race([running, firstConnect, finished]);
    }
  } catch (err) {
    const code = isAgentError(err) ? ` [E${err.code}]` : '';
    io.err(`fleet-agent gps: ${(err as Error).message}${code}`);
    return EXIT_USAGE;
  }

  try {
    await Promise.race([finished, running]);
    return EXIT_OK;
  } catch (err) {
    io.err(`fleet-agent gps: ${(err as Error).message}`);
    return EXIT_FAILURE;
  } finally {
    await source.stop();
  }
}

/** Adds `gps` to the agent's CLI; main.ts calls this once. */
export function registerGpsCommands(program: Command, io: CliIo = processIo): Command {
  program
    .command('gps')
    .description('Read the GPS (raw NMEA receiver or gpsd) and print one line per fix.')
    .addOption(new Option('--gpsd <host:port>', 'read from gpsd (port default 2947)'))
    .addOption(new Option('--nmea <path>', 'read a raw NMEA receiver: serial device or tcp://host:port'))
    .addOption(new Option('--baud <n>', 'serial baud rate for --nmea [1200...4000000]').default('9600'))
    .addOption(new Option('--count <n>', 'exit after N fixes [1...1000000] (default: until Ctrl-C)'))
    .option('--json', 'one JSON object per line (GpsFix, or mode 1 while searching)')
    .addHelpText(
      'after',
      '\nExit codes: 0 done, 1 unexpected failure, 2 bad option, missing port or unreachable gpsd.',
    )
    .action(async (opts: GpsCommandOptions) => {
      const controller = new AbortController();
      const interrupt = () => controller.abort();
      process.once('SIGINT', interrupt);
      process.once('SIGTERM', interrupt);
      try {
        process.exitCode = await runGpsCommand(opts, io, controller.signal);
      } finally {
        process.off('SIGINT', interrupt);
        process.off('SIGTERM', interrupt);
      }
    });
  return program;
}
