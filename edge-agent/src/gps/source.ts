/**
 * The agent's GPS input, whichever transport the configuration names: a raw NMEA receiver the
 * agent reads itself (`gpsNmeaPort`) or a gpsd that owns the receiver (`gpsdAddress`). Both give
 * the same GpsFix, one per receiver epoch.
 */
import type { Logger } from '@fleet/shared/log';
import type { AgentConfig } from '../config.ts';
import { openByteStream } from '../transport/open.ts';
import { GpsdClient, type GpsdClientStats, parseGpsdAddress } from './gpsd-client.ts';
import type { GpsFix } from './nmea/rmc.ts';
import { NmeaReader, type NmeaReaderStats } from './nmea-reader.ts';

export interface GpsSource {
  readonly stats: NmeaReaderStats | GpsdClientStats;
  /** Reads until stop(), reopening or reconnecting after failures. */
  run(): Promise<void>;
  stop(): Promise<void>;
}

export function createGpsSource(
  config: Pick<AgentConfig, 'gpsNmeaPort' | 'gpsdAddress' | 'gpsBaud'>,
  onFix: (fix: GpsFix) => void,
  log: Logger,
): NmeaReader | GpsdClient {
  if (config.gpsdAddress !== undefined) {
    return new GpsdClient(parseGpsdAddress(config.gpsdAddress), onFix, log);
  }
  const port = config.gpsNmeaPort;
  if (port === undefined) throw new Error('no GPS source configured (gpsNmeaPort or gpsdAddress)');
  return new NmeaReader(() => openByteStream(port, config.gpsBaud), onFix, log);
}
