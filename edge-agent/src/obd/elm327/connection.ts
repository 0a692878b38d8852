/**
 *   open(baud) --> ByteStream --> Elm327Adapter --probe ATI--> right baud? --ATZ, ATE0 ATL0 ATS0 ATH1-->
 *   identity (ATI, STI, AT@1) --> Elm327Connection (adapter ready; the vehicle is ObdSession's job)
 *
 * Start-up per the ELM327 data sheet ("Talking to the ELM327", "AT Commands"): find the baud
 * rate the chip talks at (only meaningful on a real UART: a pty or TCP socket has none), reset it
 * with ATZ (0.5-1 s), then echo off, linefeeds off, spaces off (shorter answers), headers on
 * (to tell ECUs apart by CAN id).
 */
import type { Logger } from '@fleet/shared/log';
import { AgentError, AgentErrorCode, isAgentError, isTransportError } from '../../errors.ts';
import type { ByteStream } from '../../transport/byte-stream.ts';
import { Elm327Adapter, type Elm327AdapterOptions } from './adapter.ts';
import { isIdentityBanner } from './answers.ts';

/** The order to try: the ELM327 factory rate, the old default, then the fast settings (PP 0C). */
export const BAUD_RATES: readonly number[] = [38_400, 9600, 230_400, 115_200, 57_600, 19_200];

export interface AdapterIdentity {
  /** ATI answer, e.g. `ELM327 v1.5` (STN chips answer an ELM327 compatible line too). */
  description: string;
  chip: 'ELM327' | 'STN' | 'unknown';
  /** Firmware version from ATI (`1.5`), null when the answer has none. */
  version: string | null;
  /** STI answer on STN11xx/STN21xx chips (`STN1110 v4.0.1`), null on ELM327s and clones. */
  stn: string | null;
  /** AT@1 device description, null when not answered. */
  device: string | null;
  /** Reply-count suffix (`010C1`) available: ELM327 v1.3+ and every STN. */
  replyCount: boolean;
}

export interface Elm327ConnectionOptions {
  /** Opens the port at a baud rate (ignored by ptys and sockets). */
  open: (baudRate: number) => Promise<ByteStream>;
  /** Baud rates to try in order; one entry means no detection. Default: [38400]. */
  baudRates?: readonly number[];
  log: Logger;
  /** [500...10000] ms for ATZ, default 2500 (data sheet: about 0.5-1 s; slow clones more). */
  resetTimeoutMs?: number;
  /** [50...5000] ms per baud-rate probe, default 400. */
  probeTimeoutMs?: number;
  adapter?: Elm327AdapterOptions;
}

/** `ELM327 v1.5` -> 1.5 >= 1.3: the reply-count digit is understood (data sheet, v1.3 changes). */
export function parseIdentity(ati: string, stn: string | null, device: string | null): AdapterIdentity {
  const m = /v(\d+)\.(\d+)/i.exec(ati);
  const version = m ? `${m[1]}.${m[2]}` : null;
  const chip = stn ? 'STN' : /ELM327/i.test(ati) ? 'ELM327' : 'unknown';
  const numeric = m ? Number(m[1]) + Number(m[2]) / 10 : 0;
  return { description: ati, chip, version, stn, device, replyCount: chip === 'STN' || numeric >= 1.3 };
}

export class Elm327Connection {
  private constructor(
    readonly stream: ByteStream,
    readonly adapter: Elm327Adapter,
    readonly baudRate: number,
    readonly identity: AdapterIdentity,
  ) {}

  /**
   * Finds the adapter (trying each baud rate when several are given), resets and configures it.
   * Transport errors (no such port, busy) are thrown as they are; an adapter that answers at no
   * rate is ObdAdapterNotFound.
   */
  static async open(options: Elm327ConnectionOptions): Promise<Elm327Connection> {
    const bauds = options.baudRates && options.baudRates.length > 0 ? options.baudRates : [38_400];
    const log = options.log;
    let name = '';
    let lastError: unknown;
    for (const baud of bauds) {
      const stream = await options.open(baud);
      name = stream.name;
      const adapter = new Elm327Adapter(stream, log, options.adapter);
      try {
        if (bauds.length > 1 && !(await answersAt(adapter, options.probeTimeoutMs ?? 400))) {
          log.debug({ port: name, baud }, 'no ELM327 at this baud rate');
          await stream.close();
          continue;
        }
        const identity = await initialise(adapter, options.resetTimeoutMs ?? 2500);
        log.info(
          { port: name, baud, adapter: identity.description, stn: identity.stn },
          'ELM327 initialised',
        );
        return new Elm327Connection(stream, adapter, baud, identity);
      } catch (err) {
        await stream.close().catch(() => {});
        if (isTransportError(err)) throw err;
        lastError = err;
        log.debug({ port: name, baud, err: (err as Error).message }, 'adapter initialisation failed');
      }
    }
    throw new AgentError(
      AgentErrorCode.ObdAdapterNotFound,
      `no ELM327 adapter answers on ${name} (tried ${bauds.join(', ')} baud): is it powered and is this its port?`,
      { cause: lastError },
    );
  }

  /** ATRV: the supply voltage at the OBD socket; below ~6 V the adapter is not on a vehicle. */
  async readVoltage(): Promise<number | null> {
    try {
      const [line = ''] = await this.adapter.send('ATRV');
      const m = /(\d+(?:\.\d+)?)\s*V?$/i.exec(line);
      return m ? Number(m[1]) : null;
    } catch (err) {
      if (isAgentError(err, AgentErrorCode.ObdUnknownCommand)) return null;
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.stream.close().catch(() => {});
  }
}

/**
 * A probe at one baud rate: any readable answer to ATI (its identity, or `?` when leftover
 * characters preceded it) means the chip understood us. At a wrong rate the bytes read are
 * garbage or nothing.
 */
async function answersAt(adapter: Elm327Adapter, timeoutMs: number): Promise<boolean> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const lines = await adapter.send('ATI', { timeoutMs, retries: 0 });
      if (lines.some(isIdentityBanner)) return true;
    } catch (err) {
      if (isTransportError(err)) throw err;
      if (isAgentError(err, AgentErrorCode.ObdUnknownCommand)) return true;
      if (isAgentError(err, AgentErrorCode.ObdTimeout)) return false;
    }
  }
  return false;
}

/** Optional settings: old clones answer `?` to some of them, which costs nothing but a log line. */
const SETTINGS = [
  'ATE0', // echo off
  'ATL0', // no linefeed after CR
  'ATS0', // no spaces between bytes: a third shorter answers (ELM327 v1.3+)
  'ATH1', // headers on: each line says which ECU answered
  'ATAT1', // adaptive timing (the default, set explicitly after a clone's odd ATD)
];

async function initialise(adapter: Elm327Adapter, resetTimeoutMs: number): Promise<AdapterIdentity> {
  // A freshly powered adapter may miss the first reset: ask a few times.
  let banner = '';
  for (let attempt = 1; ; attempt++) {
    try {
      const lines = await adapter.send('ATZ', { timeoutMs: resetTimeoutMs });
      banner = lines.find(isIdentityBanner) ?? lines.at(-1) ?? '';
      break;
    } catch (err) {
      if (attempt >= 3 || !isAgentError(err, AgentErrorCode.ObdTimeout)) throw err;
    }
  }
  for (const cmd of SETTINGS) {
    try {
      await adapter.send(cmd);
    } catch (err) {
      if (!isAgentError(err, AgentErrorCode.ObdUnknownCommand)) throw err;
    }
  }
  const optional = async (cmd: string): Promise<string | null> => {
    try {
      const lines = await adapter.send(cmd);
      return lines.join(' ') || null;
    } catch (err) {
      if (isAgentError(err, AgentErrorCode.ObdUnknownCommand) || isAgentError(err, AgentErrorCode.ObdTimeout))
        return null;
      throw err;
    }
  };
  const ati = (await optional('ATI')) ?? banner;
  // STN chips (OBDLink) answer STI; an ELM327 answers `?`.
  const stn = await optional('STI');
  const device = await optional('AT@1');
  return parseIdentity(ati, stn && /STN/i.test(stn) ? stn : null, device);
}
