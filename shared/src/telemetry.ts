import { z } from 'zod';
import { ID_PATTERN } from './ids.ts';
import {
  BINARY_FORMAT_VERSION,
  BINARY_MAGIC_0,
  DROP_COUNTER_NAMES,
  decodeBinaryBatch,
  encodeBinaryBatch,
} from './telemetry-codec.ts';

/**
 * One telemetry sample: a GPS epoch joined with the latest OBD-II readings.
 * Ranges are the physical ranges of the SAE J1979 PIDs the values come from, so a value outside
 * them is a decoding bug or a forged payload, never a real reading.
 */
export const TelemetrySample = z.object({
  /** Per-vehicle sequence, strictly increasing, assigned by the agent's store: the idempotency key. */
  seq: z.number().int().nonnegative(),
  /** Epoch milliseconds; GPS time when the receiver has a fix (a Pi has no real-time clock). */
  ts: z.number().int().min(946_684_800_000).max(4_102_444_800_000), // [2000-01-01...2100-01-01)
  lat: z.number().min(-90).max(90).nullable(),
  lon: z.number().min(-180).max(180).nullable(),
  /** PID 0D, km/h [0...255]; GPS speed when OBD has none. */
  speedKmh: z.number().min(0).max(400).nullable(),
  /** PID 0C, rpm [0...16383.75]. */
  rpm: z.number().min(0).max(16_383.75).nullable(),
  /** PID 2F, % of tank capacity [0...100]. */
  fuelLevelPct: z.number().min(0).max(100).nullable(),
  /** PID 05, degrees C [-40...215]. */
  coolantC: z.number().min(-40).max(215).nullable(),
  /**
   * PID A6, km [0...429,496,729.5] (0.1 km steps); absent or null where the vehicle has none.
   * Optional, like the next one, so agents from before issue 17 stay valid.
   */
  odometerKm: z.number().min(0).max(429_496_729.5).nullable().optional(),
  /**
   * The agent's GPS odometer: jitter-filtered GPS distance since its store was created, metres
   * (shared/src/gps-distance.ts). The difference between two samples is the distance between them.
   */
  gpsDistanceM: z.number().min(0).max(1e12).nullable().optional(),
});
export type TelemetrySample = z.infer<typeof TelemetrySample>;

/** JSON payload (`{"v":1,...}`), still decoded for agents not yet updated. */
export const TELEMETRY_PAYLOAD_VERSION = 1;
/** Binary columnar payload (telemetry-codec.ts); what current agents send. */
export const TELEMETRY_BINARY_VERSION = BINARY_FORMAT_VERSION;
/** [1...5000] samples per batch: larger batches are split by the agent, refused by the ingest. */
export const MAX_SAMPLES_PER_BATCH = 5000;
/** Hard cap on a payload's size before it is even parsed. */
export const MAX_PAYLOAD_BYTES = 2 * 1024 * 1024;

export { DROP_COUNTER_NAMES };

const counter = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/**
 * Samples the agent evicted from its disk budget, cumulative since its database was created
 * (so the newest batch's figures are the truth; take the max, never sum). Oldest raw samples go
 * first, already-synced before unsynced; rollups and events last.
 */
export const DropCounters = z.object(
  Object.fromEntries(DROP_COUNTER_NAMES.map((name) => [name, counter])) as Record<
    (typeof DROP_COUNTER_NAMES)[number],
    typeof counter
  >,
);
export type DropCounters = z.infer<typeof DropCounters>;

/**
 * Payload of `{base}/v1/{tenant}/{vehicle}/telemetry`. `v` is the wire format the batch came in
 * (1 JSON, 2 binary); the fields after `samples` are optional so v1 agents stay valid.
 */
export const TelemetryBatch = z.object({
  v: z.union([z.literal(TELEMETRY_PAYLOAD_VERSION), z.literal(TELEMETRY_BINARY_VERSION)]),
  vehicleId: z.string().regex(ID_PATTERN),
  samples: z.array(TelemetrySample).min(1).max(MAX_SAMPLES_PER_BATCH),
  /**
   * True for backfill after an outage (Sparkplug's `is_historical`): recorded while the link was
   * down, sent oldest first; it must never move "latest" backwards (the ingest's ts rule holds).
   */
  historical: z.boolean().optional(),
  /** Per-vehicle batch number, strictly increasing across restarts (gaps = batches never acked). */
  batchSeq: counter.optional(),
  dropped: DropCounters.optional(),
});
export type TelemetryBatch = z.infer<typeof TelemetryBatch>;

export type PayloadResult = { ok: true; batch: TelemetryBatch } | { ok: false; reason: string };

/**
 * Decode and validate a telemetry payload, JSON v1 (first byte `{`) or binary v2 (first byte
 * 0xFB); never throws, always says why a payload is refused.
 */
export function decodeTelemetryBatch(payload: Uint8Array): PayloadResult {
  if (payload.byteLength > MAX_PAYLOAD_BYTES) {
    return { ok: false, reason: `oversized: ${payload.byteLength} bytes > ${MAX_PAYLOAD_BYTES}` };
  }
  if (payload[0] === BINARY_MAGIC_0) {
    const decoded = decodeBinaryBatch(payload, MAX_SAMPLES_PER_BATCH);
    if (!decoded.ok) return decoded;
    const batch = { v: TELEMETRY_BINARY_VERSION, ...decoded.batch } as TelemetryBatch;
    // The live path decodes one small batch per message: the schema's parse cost more than the
    // rest of the decode. A batch the plain check passes is one the schema passes; anything it
    // doubts goes through the schema, which gives the reason.
    return binaryBatchValid(batch) ? { ok: true, batch } : validate(batch);
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch (err) {
    return { ok: false, reason: `malformed: ${(err as Error).message}` };
  }
  if (json && typeof json === 'object' && 'v' in json && json.v !== TELEMETRY_PAYLOAD_VERSION) {
    return { ok: false, reason: `unsupported payload version ${String(json.v)}` };
  }
  return validate(json);
}

const inRange = (x: number, min: number, max: number) => x >= min && x <= max; // false for NaN
const nullableIn = (x: number | null | undefined, min: number, max: number) =>
  x === null || (x !== undefined && inRange(x, min, max));
const optionalIn = (x: number | null | undefined, min: number, max: number) =>
  x === undefined || nullableIn(x, min, max);
const isCounter = (x: unknown) => Number.isSafeInteger(x) && (x as number) >= 0;

/**
 * What `TelemetryBatch` checks, for a batch the binary decoder produced (its shape is fixed:
 * numbers or null where the schema wants them), without building a parsed copy. Never more
 * lenient than the schema (telemetry.test.ts compares them); when false, ask the schema.
 */
function binaryBatchValid(b: TelemetryBatch): boolean {
  if (!ID_PATTERN.test(b.vehicleId)) return false;
  if (b.samples.length < 1 || b.samples.length > MAX_SAMPLES_PER_BATCH) return false;
  if (b.historical !== undefined && typeof b.historical !== 'boolean') return false;
  if (b.batchSeq !== undefined && !isCounter(b.batchSeq)) return false;
  if (b.dropped !== undefined && !DROP_COUNTER_NAMES.every((k) => isCounter(b.dropped![k]))) return false;
  for (const s of b.samples) {
    if (
      !isCounter(s.seq) ||
      !Number.isSafeInteger(s.ts) ||
      !inRange(s.ts, 946_684_800_000, 4_102_444_800_000)
    )
      return false;
    if (
      !nullableIn(s.lat, -90, 90) ||
      !nullableIn(s.lon, -180, 180) ||
      !nullableIn(s.speedKmh, 0, 400) ||
      !nullableIn(s.rpm, 0, 16_383.75) ||
      !nullableIn(s.fuelLevelPct, 0, 100) ||
      !nullableIn(s.coolantC, -40, 215) ||
      !optionalIn(s.odometerKm, 0, 429_496_729.5) ||
      !optionalIn(s.gpsDistanceM, 0, 1e12)
    )
      return false;
  }
  return true;
}

function validate(value: unknown): PayloadResult {
  const parsed = TelemetryBatch.safeParse(value);
  if (!parsed.success) {
    return { ok: false, reason: `schema: ${z.prettifyError(parsed.error).replaceAll('\n', '; ')}` };
  }
  return { ok: true, batch: parsed.data };
}

/** `v: 1` encodes JSON, `v: 2` the binary columnar form (see telemetry-codec.ts for the layout). */
export function encodeTelemetryBatch(batch: TelemetryBatch): Buffer {
  if (batch.v === TELEMETRY_BINARY_VERSION) {
    const bin = encodeBinaryBatch(batch);
    return Buffer.from(bin.buffer, bin.byteOffset, bin.byteLength);
  }
  return Buffer.from(JSON.stringify(batch));
}

/**
 * A VIN as an ECU sends it: 17 printable ASCII characters. Deliberately looser than the register's
 * ISO 3779 check: a VIN with an I, O or Q still has to reach the cloud to be flagged as a mismatch.
 */
export const REPORTED_VIN = /^[\x20-\x7e]{17}$/;

/** Version of `VehicleStatus.health`; a cloud ignores a health block of a version it does not know. */
export const AGENT_HEALTH_VERSION = 1;

/**
 * How the agent is doing, for the fleet's health panel (`fleet-agent db stats` / `sync status`
 * in one block). Added to the status message in a backward-compatible way: the envelope stays
 * `v: 1`, old agents send no `health` and stay valid, and an old cloud's schema drops the key.
 */
export const AgentHealth = z.object({
  v: z.literal(AGENT_HEALTH_VERSION),
  /** When these figures were taken (agent clock, epoch ms): only a newer report replaces one. */
  at: z.number().int(),
  agentVersion: z.string().min(1).max(64),
  /** Where sample times come from: GPS, the system clock (checked against GPS), or neither yet. */
  clockSource: z.enum(['gps', 'system', 'unsynced']),
  /** The store's size on disk against its budget (`--disk-budget`). */
  diskUsedBytes: counter,
  diskBudgetBytes: counter,
  /** Rows evicted under the disk budget since the store was created. */
  evicted: DropCounters,
  unsentSamples: counter,
  /** Age of the oldest sample not yet acknowledged by the cloud (ms); null: nothing waiting. */
  syncLagMs: counter.nullable(),
  /** The active engine model (`engine-anomaly@<version>`) or null. */
  modelVersion: z.string().max(100).nullable(),
  /**
   * The VIN the vehicle answered to service 09 PID 02 when the agent last found it; null: none
   * read (no vehicle answered yet, or it does not support 09 02). The cloud compares it with the
   * registered VIN, so an adapter moved to another vehicle is noticed. Optional within v1: agents
   * before it send none; one that is not 17 printable characters is dropped alone, never the block.
   */
  vin: z.string().regex(REPORTED_VIN).nullable().optional().catch(undefined),
  /**
   * Remote commands refused since the store was created, by reason (unsigned, forged, expired,
   * replayed, other-vehicle): a rising `forged` is someone at the broker. Optional within v1.
   */
  commandsRefused: z.record(z.string(), counter).optional().catch(undefined),
});
export type AgentHealth = z.infer<typeof AgentHealth>;

/** Payload of `{base}/v1/{tenant}/{vehicle}/status`, retained; the offline form is the MQTT will. */
export const VehicleStatus = z.object({
  v: z.literal(1),
  state: z.enum(['online', 'offline']),
  ts: z.number().int(),
  /**
   * Online only, from agents that report it (republished every minute). A block that does not
   * validate (a newer version) is dropped, never the status: the vehicle's online state matters more.
   */
  health: AgentHealth.optional().catch(undefined),
});
export type VehicleStatus = z.infer<typeof VehicleStatus>;

/**
 * Payload of `{base}/v1/{tenant}/{vehicle}/ack`, cloud -> agent, published by the ingest after the
 * transaction holding the batch committed (or after it refused the batch for good). `stored`:
 * samples first..last are in the database (new or already there: a redelivery is acked again);
 * the agent moves its cursor over them. `refused`: the batch went to the dead letters with
 * `reason`; the agent keeps the samples and backs off (an unregistered vehicle is provisioned
 * later; nothing is thrown away on the vehicle because of a cloud-side problem).
 */
export const TelemetryAck = z.object({
  v: z.literal(1),
  batchSeq: counter,
  status: z.enum(['stored', 'refused']),
  first: counter,
  last: counter,
  reason: z.string().max(500).optional(),
});
export type TelemetryAck = z.infer<typeof TelemetryAck>;
