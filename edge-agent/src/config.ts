import { DEFAULT_BASE_TOPIC, ID_PATTERN } from '@fleet/shared';
import { z } from 'zod';
import { AgentError, AgentErrorCode } from './errors.ts';

/** Agent settings. Every field: range and default inline; CLI flags override FLEET_* variables. */
export const AgentConfig = z.object({
  tenantId: z.string().regex(ID_PATTERN),
  vehicleId: z.string().regex(ID_PATTERN),
  /** ELM327 adapter: serial device path or tcp://HOST:PORT. */
  obdPort: z.string().min(1),
  /** [1200...4000000] baud, default 38400. */
  obdBaud: z.coerce.number().int().min(1200).max(4_000_000).default(38_400),
  /** Raw NMEA GPS: serial device path or tcp://HOST:PORT. */
  gpsNmeaPort: z.string().min(1),
  /** [1200...4000000] baud, default 9600 (most GPS receivers' factory rate). */
  gpsBaud: z.coerce.number().int().min(1200).max(4_000_000).default(9600),
  /** SQLite file, default ./data/agent.db. */
  dbPath: z.string().default('data/agent.db'),
  mqttUrl: z.string().url(),
  mqttUsername: z.string().optional(),
  mqttPassword: z.string().optional(),
  baseTopic: z.string().default(DEFAULT_BASE_TOPIC),
  /** [1...5000] samples per MQTT batch, default 500. */
  batchSize: z.coerce.number().int().min(1).max(5000).default(500),
  /** [50...600000] ms between flushes, default 1000. */
  flushIntervalMs: z.coerce.number().int().min(50).max(600_000).default(1000),
  /** [0...60000] ms random extra per flush, default 200. */
  flushJitterMs: z.coerce.number().int().min(0).max(60_000).default(200),
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
  return parsed.data;
}
