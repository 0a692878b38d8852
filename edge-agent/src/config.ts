import { DEFAULT_BASE_TOPIC, ID_PATTERN } from '@fleet/shared';
import { z } from 'zod';
import { AgentError, AgentErrorCode } from './errors.ts';
import { parseGpsdAddress } from './gps/gpsd-client.ts';

/** Agent settings. Every field: range and default inline; CLI flags override FLEET_* variables. */
export const AgentConfig = z.object({
  tenantId: z.string().regex(ID_PATTERN),
  vehicleId: z.string().regex(ID_PATTERN),
  /** ELM327 adapter: serial device path or tcp://HOST:PORT. */
  obdPort: z.string().min(1),
  /** [1200...4000000] baud, default 38400. */
  obdBaud: z.coerce.number().int().min(1200).max(4_000_000).default(38_400),
  /** GPS, one of two (parseAgentConfig insists): a raw NMEA receiver, serial path or tcp://HOST:PORT ... */
  gpsNmeaPort: z.string().min(1).optional(),
  /** ... or a gpsd that owns the receiver: HOST[:PORT], port default 2947. */
  gpsdAddress: z
    .string()
    .refine((v) => isGpsdAddress(v), { message: 'expected HOST:PORT (port default 2947)' })
    .optional(),
  /** [1200...4000000] baud, default 9600 (most GPS receivers' factory rate); NMEA only. */
  gpsBaud: z.coerce.number().int().min(1200).max(4_000_000).default(9600),
  /** (0...10000] L fuel tank capacity for the fuel detectors (detectors/pipeline.ts), default 60. */
  tankLitres: z.coerce.number().positive().max(10_000).default(60),
  /** [1...300] km/h: speeding events above it (+10 km/h for 15 s); none when unset. */
  speedLimitKmh: z.coerce.number().min(1).max(300).optional(),
  /** [10...86400] s between trouble-code reads while the engine runs, default 300; a MIL change reads at once. */
  dtcPeriodSec: z.coerce.number().int().min(10).max(86_400).default(300),
  /** [1...86400] s between service 06 (on-board monitor) reads while the engine runs, default 600. */
  monitorPeriodSec: z.coerce.number().int().min(1).max(86_400).default(600),
  /**
   * [100...60000] ms between probes of a silent vehicle and reconnects, default 2000: how soon a
   * key-on is seen, so how much of the crank the back-to-back ATRV reads catch.
   */
  obdRetryMs: z.coerce.number().int().min(100).max(60_000).default(2000),
  /** SQLite file, default ./data/agent.db. */
  dbPath: z.string().default('data/agent.db'),
  mqttUrl: z.string().url(),
  /** FLEET_MQTT_URLS: the brokers of a cluster to fail over between (broker-link.ts); mqttUrl alone when unset. */
  mqttUrls: z
    .array(z.string().regex(/^mqtts?:\/\/[^/]+$/, 'expected mqtt://HOST:PORT or mqtts://HOST:PORT'))
    .min(1)
    .optional(),
  mqttUsername: z.string().optional(),
  mqttPassword: z.string().optional(),
  baseTopic: z.string().default(DEFAULT_BASE_TOPIC),
  /** PEM files for mqtts:// : CA to trust, client certificate and key (per-vehicle certificates). */
  mqttCaFile: z.string().min(1).optional(),
  mqttCertFile: z.string().min(1).optional(),
  mqttKeyFile: z.string().min(1).optional(),
  /** The model publisher's Ed25519 public key (PEM); without it no model is received or run. */
  modelPublicKeyFile: z.string().min(1).optional(),
  /** The cloud's remote-command Ed25519 public key (PEM); without it only `ping` is answered. */
  commandPublicKeyFile: z.string().min(1).optional(),
  /** MQTT protocol: 'auto' (5, falling back to 3.1.1 if the broker refuses it), '5' or '4'; default auto. */
  mqttProtocol: z.enum(['auto', '5', '4']).default('auto'),
  /** [0...4294967295] s the broker keeps the session while the vehicle is offline (MQTT 5), default 7 days. */
  sessionExpirySec: z.coerce
    .number()
    .int()
    .min(0)
    .max(4_294_967_295)
    .default(7 * 24 * 3600),
  // Telegraf's output settings (metric_batch_size, metric_buffer_limit, flush_interval, flush_jitter).
  /** [1...5000] samples per MQTT batch, default 500. */
  metricBatchSize: z.coerce.number().int().min(1).max(5000).default(500),
  /** [1000...1000000000] unsent samples kept at most; beyond it the oldest are dropped and counted, default 50,000,000. */
  metricBufferLimit: z.coerce.number().int().min(1000).max(1_000_000_000).default(50_000_000),
  /** [50...600000] ms between flushes, default 1000. */
  flushIntervalMs: z.coerce.number().int().min(50).max(600_000).default(1000),
  /** [0...60000] ms random extra per flush, default 200. */
  flushJitterMs: z.coerce.number().int().min(0).max(60_000).default(200),
  /** [1...64] backfill batches in flight next to the live one after an outage, default 4. */
  backfillInflight: z.coerce.number().int().min(1).max(64).default(4),
  /** What moves the sync cursor: the ingest's ack after COMMIT (default) or only the broker's PUBACK. */
  ackFrom: z.enum(['cloud', 'broker']).default('cloud'),
  /** [100...600000] ms to wait for the cloud's ack before resending a batch, default 30 s. */
  ackTimeoutMs: z.coerce.number().int().min(100).max(600_000).default(30_000),
  /** [5...1200] s MQTT keepalive; a silent dead link is noticed after 1.5x this, default 30. */
  keepaliveSec: z.coerce.number().int().min(5).max(1200).default(30),
  /**
   * [1 MiB...1 TiB] bytes of SQLite pages the agent may use, default 4 GiB: a quarter of a 16 GB
   * SD card (OS, logs, WAL and wear levelling need the rest). Over it, the oldest raw samples go
   * first (synced before unsynced), then rollups, then events; every row is counted.
   */
  diskBudgetBytes: z.coerce
    .number()
    .int()
    .min(1024 ** 2)
    .max(1024 ** 4)
    .default(4 * 1024 ** 3),
});
export type AgentConfig = z.infer<typeof AgentConfig>;

export function parseAgentConfig(input: Record<string, unknown>): AgentConfig {
  const parsed = AgentConfig.safeParse(input);
  if (!parsed.success) {
    throw new AgentError(
      AgentErrorCode.ConfigInvalid,
      `invalid agent settings: ${z.prettifyError(parsed.error)}`,
    );
  }
  const { gpsNmeaPort, gpsdAddress } = parsed.data;
  if ((gpsNmeaPort === undefined) === (gpsdAddress === undefined)) {
    throw new AgentError(
      AgentErrorCode.ConfigInvalid,
      'invalid agent settings: set exactly one GPS source: an NMEA port (gpsNmeaPort, --gps-nmea) ' +
        'or a gpsd address (gpsdAddress, --gpsd)',
    );
  }
  return parsed.data;
}

function isGpsdAddress(text: string): boolean {
  try {
    parseGpsdAddress(text);
    return true;
  } catch {
    return false;
  }
}
