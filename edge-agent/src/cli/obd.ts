/**
 * `fleet-agent obd ...`: the technician's OBD-II commands, straight on the adapter's port.
 *
 *   obd info --port PATH [--baud N] [--json]          adapter, request mode, voltage, protocol, VIN, PIDs
 *   obd read PID... --port PATH [--watch] [--json]    current values (hex `0C` or names like `rpm`)
 *   obd dtc --port PATH [--clear --yes] [--json]      stored / pending / permanent codes; clear
 *
 * Human tables on stdout by default; `--json` prints one JSON document (one per line with
 * --watch). Failures print one line on stderr with the error code and exit with status 2.
 * The agent daemon must not hold the port meanwhile (the port is opened exclusively).
 */
import { createLogger, type Logger } from '@fleet/shared/log';
import { type Command, Option } from 'commander';
import { AgentError, AgentErrorCode, isAgentError, isVehicleSilent } from '../errors.ts';
import { BAUD_RATES } from '../obd/elm327/connection.ts';
import { selectFuelRateSource } from '../obd/fuel-rate.ts';
import { ObdSession } from '../obd/obd-session.ts';
import { findPid, formatPidValue, MODE01, type Mode01Pid, type PidValue } from '../obd/pids.ts';
import type { DtcKind, TroubleCode } from '../obd/services/dtc.ts';
import type { ByteStream } from '../transport/byte-stream.ts';
import { openByteStream } from '../transport/open.ts';

export interface ObdCliIo {
  /** One line of stdout. */
  out(line: string): void;
  /** One line of stderr. */
  err(line: string): void;
  /** Opens the adapter's port; default: a serial device or tcp://host:port. */
  open?: (port: string, baudRate: number) => Promise<ByteStream>;
  log?: Logger;
  /** Ends `--watch`; default: SIGINT / SIGTERM. */
  signal?: AbortSignal;
}

export interface PortOptions {
  port: string;
  /** [1200...4000000]; default: detect (38400, 9600, 230400, 115200, 57600, 19200). */
  baud?: string;
  json?: boolean;
}

export interface ReadOptions extends PortOptions {
  watch?: boolean;
  /** [0...600000] ms between --watch cycles, default 1000. */
  interval?: string;
}

export interface DtcOptions extends PortOptions {
  clear?: boolean;
  yes?: boolean;
}

const hex2 = (n: number) => n.toString(16).toUpperCase().padStart(2, '0');

function defaultIo(): ObdCliIo {
  return {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
  };
}

function cliLogger(io: ObdCliIo): Logger {
  if (io.log) return io.log;
  const log = createLogger('obd-cli');
  // The technician reads stdout; JSON logs only when asked for with LOG_LEVEL.
  if (!process.env.LOG_LEVEL) log.level = 'warn';
  return log;
}

function parseBaud(baud: string | undefined): number | undefined {
  if (baud === undefined) return undefined;
  const n = Number(baud);
  if (!Number.isInteger(n) || n < 1200 || n > 4_000_000) {
    throw new AgentError(
      AgentErrorCode.ConfigInvalid,
      `--baud ${baud}: expected a baud rate in [1200...4000000]`,
    );
  }
  return n;
}

async function openSession(options: PortOptions, io: ObdCliIo): Promise<ObdSession> {
  const baud = parseBaud(options.baud);
  const open = io.open ?? ((port: string, rate: number) => openByteStream(port, rate));
  // A socket or pty has no baud rate; a real UART is probed at each usual rate.
  const baudRates = baud ? [baud] : options.port.startsWith('tcp://') ? [38_400] : BAUD_RATES;
  return ObdSession.open({ open: (rate) => open(options.port, rate), baudRates, log: cliLogger(io) });
}

/** Opens, finds the vehicle, runs `body`, closes; any failure becomes one stderr line and exit 2. */
async function withVehicle(
  options: PortOptions,
  io: ObdCliIo,
  body: (session: ObdSession) => Promise<number>,
): Promise<number> {
  let session: ObdSession | undefined;
  try {
    session = await openSession(options, io);
    await session.connectVehicle();
    return await body(session);
  } catch (err) {
    io.err(errorLine(err));
    return 2;
  } finally {
    await session?.close();
  }
}

/** One line a technician can act on; the code tells support which subsystem failed. */
export function errorLine(err: unknown): string {
  if (isAgentError(err)) {
    let message = err.message;
    if (isVehicleSilent(err) && err.code !== AgentErrorCode.ObdNoVehicle) {
      message = `no vehicle answers (${message}): ignition off or engine not running?`;
    }
    return `fleet-agent obd: ${message} [E${err.code}]`;
  }
  return `fleet-agent obd: ${(err as Error).message ?? String(err)}`;
}

/** Plain text columns, widths from the content. */
export function formatTable(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

// ---- obd info ---------------------------------------------------------------------------------

export async function obdInfo(options: PortOptions, io: ObdCliIo = defaultIo()): Promise<number> {
  return withVehicle(options, io, async (session) => {
    const voltage = await session.readVoltage();
    const support = await session.discoverSupportedPids();
    const requestMode = await session.detectRequestMode();
    const vin = await session.readVin();
    const calibrationIds = await session.readCalibrationIds();
    const supported = session.supportedPids();
    let fuelType: PidValue | null = null;
    if (supported.has(0x51)) fuelType = (await session.readPids([0x51]).catch(() => []))[0]?.value ?? null;
    const fuelRateSource = selectFuelRateSource(supported);
    const identity = session.identity;
    const protocol = session.protocol!;
    const supportedPids = Object.fromEntries(
      [...support].map(([ecu, pids]) => [ecu, [...pids].sort((a, b) => a - b).map(hex2)]),
    );
    if (options.json) {
      io.out(
        JSON.stringify({
          port: options.port,
          baudRate: session.connection.baudRate,
          adapter: identity,
          requestMode,
          voltage,
          protocol: { number: protocol.number, name: protocol.name, auto: session.protocolAuto },
          vin,
          calibrationIds,
          fuelType,
          fuelRateSource,
          supportedPids,
        }),
      );
      return 0;
    }
    const fuelTypeText =
      fuelType && typeof fuelType === 'object'
        ? String(fuelType.name)
        : supported.has(0x51)
          ? 'unknown'
          : 'not reported';
    const rows: string[][] = [
      [
        'Adapter',
        `${identity.description}${identity.stn ? ` (${identity.stn})` : ''} at ${session.connection.baudRate} baud`,
      ],
      ['Device', identity.device ?? '-'],
      [
        'Multi-PID',
        `${requestMode.multiPid ? 'yes, up to 6 PIDs per request' : 'no, one PID per request'} (${requestMode.multiPidEvidence})`,
      ],
      ['Reply count', `${requestMode.replyCount ? 'yes' : 'no'} (${requestMode.replyCountEvidence})`],
      ['Voltage', voltage === null ? '-' : `${voltage.toFixed(1)} V`],
      ['Protocol', `${protocol.name}${session.protocolAuto ? ' (auto)' : ''}`],
      [
        'VIN',
        vin
          ? `${vin.vin} (${vin.valid ? (vin.checkDigitValid === null ? 'valid; no check digit outside North America' : vin.checkDigitValid ? 'check digit ok' : 'CHECK DIGIT WRONG') : vin.problems.join('; ')})`
          : 'not reported',
      ],
      [
        'Calibration',
        calibrationIds.flatMap((c) => c.ids.map((id) => `${c.ecu}: ${id}`)).join(', ') || 'not reported',
      ],
      ['Fuel type', fuelTypeText],
      [
        'Fuel rate',
        fuelRateSource ? FUEL_SOURCE_TEXT[fuelRateSource] : 'not computable (no 5E, MAF or MAP/IAT/RPM)',
      ],
    ];
    for (const line of formatTable(['Item', 'Value'], rows).slice(1)) io.out(line);
    io.out('');
    io.out('Supported PIDs');
    for (const [ecu, pids] of Object.entries(supportedPids)) {
      const data = pids.filter((p) => Number.parseInt(p, 16) % 0x20 !== 0);
      io.out(`  ECU ${ecu || '(headers off)'}: ${data.length} PIDs: ${data.join(' ')}`);
    }
    return 0;
  });
}

const FUEL_SOURCE_TEXT = {
  'fuel-rate-pid': 'PID 5E engine fuel rate',
  maf: 'from PID 10 mass air flow',
  'speed-density': 'speed-density from PIDs 0B, 0F, 0C',
} as const;

// ---- obd read ---------------------------------------------------------------------------------

interface ReadingJson {
  pid: string;
  key: string;
  name: string;
  ecu: string;
  value: PidValue;
  unit: string;
}

export async function obdRead(
  specs: string[],
  options: ReadOptions,
  io: ObdCliIo = defaultIo(),
): Promise<number> {
  const defs: Mode01Pid[] = [];
  for (const spec of specs) {
    const def = findPid(spec);
    if (!def) {
      io.err(
        errorLine(
          new AgentError(
            AgentErrorCode.ObdUnsupported,
            `unknown PID "${spec}": use hex (0C, 010C) or a name (rpm, speed, fuelLevel)`,
          ),
        ),
      );
      return 2;
    }
    defs.push(def);
  }
  const interval = Number(options.interval ?? 1000);
  if (!Number.isFinite(interval) || interval < 0 || interval > 600_000) {
    io.err(
      errorLine(
        new AgentError(
          AgentErrorCode.ConfigInvalid,
          `--interval ${options.interval}: expected [0...600000] ms`,
        ),
      ),
    );
    return 2;
  }
  return withVehicle(options, io, async (session) => {
    await session.discoverSupportedPids();
    await session.detectRequestMode();
    const supported = session.supportedPids();
    // Support PIDs (00, 20, ...) are always askable; the rest only when an ECU announced them.
    const wanted = defs.filter((d) => d.pid % 0x20 === 0 || supported.has(d.pid));
    const unsupported = defs.filter((d) => !wanted.includes(d)).map((d) => hex2(d.pid));
    const watch = options.watch === true;
    const { signal, dispose } = stopSignal(io);
    try {
      do {
        const ts = Date.now();
        let readings: ReadingJson[] = [];
        let silent: unknown;
        try {
          readings = (await session.readPids(wanted.map((d) => d.pid))).map((r) => {
            const def = MODE01.get(r.pid)!;
            return {
              pid: hex2(r.pid),
              key: def.key,
              name: def.name,
              ecu: r.ecu,
              value: r.value,
              unit: def.unit,
            };
          });
        } catch (err) {
          if (!watch || !isVehicleSilent(err)) throw err;
          silent = err;
        }
        if (options.json) {
          io.out(
            JSON.stringify({ ts, readings, unsupported, ...(silent ? { error: errorLine(silent) } : {}) }),
          );
        } else if (watch) {
          const time = new Date(ts).toISOString().slice(11, 23);
          io.out(
            silent
              ? `${time}  no answer (ignition off?)`
              : `${time}  ${readings.map((r) => `${r.key}=${formatPidValue(MODE01.get(Number.parseInt(r.pid, 16))!, r.value)}`).join('  ')}`,
          );
        } else {
          const rows = readings.map((r) => [
            r.pid,
            r.name,
            formatPidValue(MODE01.get(Number.parseInt(r.pid, 16))!, r.value),
            r.ecu,
          ]);
          for (const pid of unsupported)
            rows.push([pid, MODE01.get(Number.parseInt(pid, 16))!.name, 'not supported by the vehicle', '']);
          for (const d of wanted) {
            if (!readings.some((r) => r.pid === hex2(d.pid)))
              rows.push([hex2(d.pid), d.name, 'no answer', '']);
          }
          for (const line of formatTable(['PID', 'Name', 'Value', 'ECU'], rows)) io.out(line);
        }
        if (watch && !signal.aborted) await sleep(interval, signal);
      } while (watch && !signal.aborted);
      return 0;
    } finally {
      dispose();
    }
  });
}

function stopSignal(io: ObdCliIo): { signal: AbortSignal; dispose: () => void } {
  if (io.signal) return { signal: io.signal, dispose: () => {} };
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    },
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

// ---- obd dtc ----------------------------------------------------------------------------------

const KINDS: DtcKind[] = ['stored', 'pending', 'permanent'];

export async function obdDtc(options: DtcOptions, io: ObdCliIo = defaultIo()): Promise<number> {
  if (options.clear && !options.yes) {
    io.err(
      errorLine(
        new AgentError(
          AgentErrorCode.ObdConfirmationRequired,
          'refusing to clear trouble codes without --yes: clearing (service 04) also erases freeze frames and ' +
            'resets every emission readiness monitor, so the vehicle fails an inspection until they have all run again',
        ),
      ),
    );
    return 2;
  }
  return withVehicle(options, io, async (session) => {
    const codes: TroubleCode[] = [];
    const services: Record<string, boolean> = {};
    for (const kind of KINDS) {
      const result = await session.readTroubleCodes(kind);
      services[kind] = result.supported;
      codes.push(...result.codes);
    }
    if (options.clear) {
      const ecus = await session.clearTroubleCodes(true);
      if (options.json) {
        io.out(JSON.stringify({ cleared: true, ecus, monitorsReset: true, before: codes }));
      } else {
        io.out(
          `Cleared ${codes.length} trouble code(s) on ECU ${ecus.join(', ') || '?'}; freeze frames erased and readiness monitors reset.`,
        );
      }
      return 0;
    }
    if (options.json) {
      io.out(JSON.stringify({ codes, services }));
      return 0;
    }
    if (codes.length === 0) io.out('No trouble codes.');
    else {
      const rows = codes.map((c) => [c.code, c.kind, c.ecu, c.description]);
      for (const line of formatTable(['Code', 'Kind', 'ECU', 'Description'], rows)) io.out(line);
    }
    const unsupported = KINDS.filter((k) => !services[k]);
    if (unsupported.length > 0) io.out(`(${unsupported.join(', ')} codes not supported by this vehicle)`);
    return 0;
  });
}

// ---- commander wiring -------------------------------------------------------------------------

function portOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--port <path>', 'ELM327 adapter: serial device or tcp://host:port')
        .env('FLEET_OBD_PORT')
        .makeOptionMandatory(),
    )
    .addOption(new Option('--baud <n>', 'baud rate [1200...4000000] (default: detect)').env('FLEET_OBD_BAUD'))
    .option('--json', 'machine-readable output');
}

/** Adds `obd info|read|dtc` to the agent's command line. */
export function registerObdCommands(program: Command, io?: ObdCliIo): Command {
  const run = async (action: (io: ObdCliIo) => Promise<number>) => {
    const code = await action(io ?? defaultIo());
    if (code !== 0) process.exitCode = code;
  };
  const obd = program
    .command('obd')
    .description('Talk to the vehicle through the ELM327 adapter (technician tools).');
  portOptions(obd.command('info'))
    .description(
      'Adapter identity, request mode (multi-PID, reply count) and voltage, protocol, VIN, calibration IDs, supported PIDs per ECU.',
    )
    .action((o: PortOptions) => run((cliIo) => obdInfo(o, cliIo)));
  portOptions(obd.command('read'))
    .description('Read service 01 PIDs: hex (0C, 010C) or names (rpm, speed, fuelLevel, coolant ...).')
    .argument('<pid...>', 'PIDs to read')
    .option('--watch', 'repeat until Ctrl-C (with --json: one JSON document per line)')
    .option('--interval <ms>', 'ms between --watch cycles [0...600000]', '1000')
    .action((pids: string[], o: ReadOptions) => run((cliIo) => obdRead(pids, o, cliIo)));
  portOptions(obd.command('dtc'))
    .description('Stored, pending and permanent trouble codes; --clear --yes clears them (resets monitors).')
    .option('--clear', 'clear the codes (service 04): also resets the emission readiness monitors')
    .option('--yes', 'confirm --clear')
    .action((o: DtcOptions) => run((cliIo) => obdDtc(o, cliIo)));
  return obd;
}
