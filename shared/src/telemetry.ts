import { z } from 'zod';
import { ID_PATTERN } from './topics.ts';

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
});
export type TelemetrySample = z.infer<typeof TelemetrySample>;

export const TELEMETRY_PAYLOAD_VERSION = 1;
/** [1...5000] samples per batch: larger batches are split by the agent, refused by the ingest. */
export const MAX_SAMPLES_PER_BATCH = 5000;
/** Hard cap on a payload's size before it is even parsed. */
export const MAX_PAYLOAD_BYTES = 2 * 1024 * 1024;

/** Payload of `{base}/v1/{tenant}/{vehicle}/telemetry`. */
export const TelemetryBatch = z.object({
  v: z.literal(TELEMETRY_PAYLOAD_VERSION),
  vehicleId: z.string().regex(ID_PATTERN),
  samples: z.array(TelemetrySample).min(1).max(MAX_SAMPLES_PER_BATCH),
});
export type TelemetryBatch = z.infer<typeof TelemetryBatch>;

export type PayloadResult = { ok: true; batch: TelemetryBatch } | { ok: false; reason: string };

/** Decode and validate a telemetry payload; never throws, always says why a payload is refused. */
export function decodeTelemetryBatch(payload: Uint8Array): PayloadResult {
  if (payload.byteLength > MAX_PAYLOAD_BYTES) {
    return { ok: false, reason: `oversized: ${payload.byteLength} bytes > ${MAX_PAYLOAD_BYTES}` };
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
  const parsed = TelemetryBatch.safeParse(json);
  if (!parsed.success) {
    return { ok: false, reason: `schema: ${z.prettifyError(parsed.error).replaceAll('\n', '; ')}` };
  }
  return { ok: true, batch: parsed.data };
}

export function encodeTelemetryBatch(batch: TelemetryBatch): Buffer {
  return Buffer.from(JSON.stringify(batch));
}

/** Payload of `{base}/v1/{tenant}/{vehicle}/status`, retained; the offline form is the MQTT will. */
export const VehicleStatus = z.object({
  v: z.literal(1),
  state: z.enum(['online', 'offline']),
  ts: z.number().int(),
});
export type VehicleStatus = z.infer<typeof VehicleStatus>;
