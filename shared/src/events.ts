import { z } from 'zod';
import { ID_PATTERN } from './ids.ts';

/**
 * Events the vehicle's own detectors found (fuel, driving behaviour, engine), one contract for the
 * agent that emits them, the cloud that stores and reconciles them and the web app that shows them.
 *
 * An event is final when the agent stores it; `id` is assigned by the agent (its SQLite events
 * row id), so (vehicle, id) is the cloud's idempotency key, as (vehicle, seq) is for samples.
 */
export const VEHICLE_EVENT_TYPES = [
  /** Tank rose while stopped: `volumeL` added. */
  'refuel',
  /** Tank fell faster than the engine explains (theft/drain): `volumeL` lost. */
  'fuel_drain',
  /** Slow unexplained loss over hours: `volumeL` lost, `details.rateLph`. */
  'fuel_leak',
  /** Engine running, not moving, longer than the threshold: `details.durationS`, `details.fuelL`. */
  'long_idle',
  'harsh_brake',
  'harsh_accel',
  'harsh_corner',
  /** Above the configured limit: `details.limitKmh`, `details.maxSpeedKmh`. */
  'speeding',
  /** The engine model's reconstruction error over its threshold: `details.score`. */
  'engine_anomaly',
  /**
   * A diagnostic trouble code appeared: `details.code` (SAE J2012, e.g. P0171), `description`,
   * `kind` (stored: confirmed, MIL on; pending: seen once), `ecu`, `milOn`.
   */
  'dtc',
  /**
   * The 12 V battery at an engine start (`details.phase` 'start': `restingV` before it, `lowestV`
   * seen while it started, `runningV` charging after it) or low while parked ('resting':
   * `restingV` below `thresholdV` for minutes); `details.low` says whether it needs attention.
   */
  'battery',
  /** The engine ECU started answering (ignition on): `details.restingV` before it, when known. */
  'ignition_on',
  /** The engine ECU stopped answering (ignition off): `details.onForS`. */
  'ignition_off',
  /**
   * Service 06 on-board monitor results (added with vehicle health; older agents never send it):
   * `details.misfire` [{ cylinder, count (this driving cycle), average (10 cycles), limit }],
   * `details.catalyst` [{ bank, tid, value, min, max, passed }], `details.failed` (names).
   * A `dtc` event may also carry `freezeFrame` (service 02 frame 0 values by service 01 key),
   * `distanceMilOnKm` / `distanceSinceClearKm` (PIDs 21/31); a `battery` start `crankV` and
   * `crankSamples` (the back-to-back ATRV reads around the start). All optional: v stays 1.
   */
  'monitors',
  /**
   * The engine model's window scores summarised (predictive maintenance; older agents never send
   * it): one segment of one UTC day and one model version, sent at ignition off, at the day's end,
   * on a model swap. `details.day` (YYYY-MM-DD), `windows`, `anomalousWindows`, `mean`, `p95`,
   * `max`, `threshold`, `features` [{ feature, share }] (each input's share of the reconstruction
   * error, largest first), `reason`. Segments never overlap: the cloud adds a day's up.
   */
  'engine_scores',
] as const;
export type VehicleEventType = (typeof VEHICLE_EVENT_TYPES)[number];

const epochMs = z.number().int().min(946_684_800_000).max(4_102_444_800_000);

export const VehicleEvent = z.object({
  /** Agent-assigned, unique per vehicle, never reused. */
  id: z.number().int().positive(),
  type: z.enum(VEHICLE_EVENT_TYPES),
  /** Epoch ms of the first sample the event covers. */
  start: epochMs,
  /** Epoch ms of the last sample it covers (equal to start for an instant). */
  end: epochMs,
  /** Litres added (refuel) or lost (drain, leak); absent for other types. */
  volumeL: z.number().min(0).max(10_000).optional(),
  lat: z.number().min(-90).max(90).nullable(),
  lon: z.number().min(-180).max(180).nullable(),
  /** Who drove when it happened, when the agent knows. */
  driverId: z.string().max(64).nullable(),
  /** 0...1: how sure the detector is. */
  confidence: z.number().min(0).max(1),
  /** Version of the model artifact active when it was detected (null: rules only). */
  modelVersion: z.string().max(64).nullable(),
  /** Type-specific figures (thresholds, peak g, rates); small, JSON. */
  details: z.record(z.string(), z.unknown()),
});
export type VehicleEvent = z.infer<typeof VehicleEvent>;

/** [1...500] events per batch: an agent back from a week offline sends its backlog in a few. */
export const MAX_EVENTS_PER_BATCH = 500;
/** Hard cap on an events payload's size before it is even parsed. */
export const MAX_EVENT_PAYLOAD_BYTES = 1024 * 1024;
export const VEHICLE_EVENT_BATCH_VERSION = 1;

/**
 * Payload of `{base}/v1/{tenant}/{vehicle}/events`: JSON, not the telemetry's binary columns
 * (events are a few per hour and carry free-form `details`; bytes do not matter here, a readable
 * dead letter does). `batchSeq` counts per vehicle on the events lane, strictly increasing across
 * restarts; the cloud answers it on `events-ack` after COMMIT with `first`/`last` = the lowest and
 * highest event id of the batch.
 */
export const VehicleEventBatch = z
  .object({
    v: z.literal(VEHICLE_EVENT_BATCH_VERSION),
    vehicleId: z.string().regex(ID_PATTERN),
    batchSeq: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    events: z.array(VehicleEvent).min(1).max(MAX_EVENTS_PER_BATCH),
  })
  .superRefine((batch, ctx) => {
    batch.events.forEach((e, i) => {
      if (e.end < e.start) {
        ctx.addIssue({ code: 'custom', path: ['events', i, 'end'], message: 'end is before start' });
      }
    });
  });
export type VehicleEventBatch = z.infer<typeof VehicleEventBatch>;

/** The answer on `events-ack`: TelemetryAck's shape, `first`/`last` are event ids. */
export const VehicleEventAck = z.object({
  v: z.literal(1),
  batchSeq: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  status: z.enum(['stored', 'refused']),
  first: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  last: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  reason: z.string().max(500).optional(),
});
export type VehicleEventAck = z.infer<typeof VehicleEventAck>;

export type VehicleEventBatchResult = { ok: true; batch: VehicleEventBatch } | { ok: false; reason: string };

/** Decode and validate an events payload; never throws, always says why a payload is refused. */
export function decodeVehicleEventBatch(payload: Uint8Array): VehicleEventBatchResult {
  if (payload.byteLength > MAX_EVENT_PAYLOAD_BYTES) {
    return { ok: false, reason: `oversized: ${payload.byteLength} bytes > ${MAX_EVENT_PAYLOAD_BYTES}` };
  }
  let text: string;
  let json: unknown;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(payload);
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `malformed: ${(err as Error).message}` };
  }
  if (json && typeof json === 'object' && 'v' in json && json.v !== VEHICLE_EVENT_BATCH_VERSION) {
    return { ok: false, reason: `unsupported payload version ${String(json.v)}` };
  }
  // PostgreSQL text and jsonb cannot hold U+0000: refused here, or the insert would fail forever.
  if (text.includes('\\u0000')) return { ok: false, reason: 'schema: a string contains U+0000' };
  const parsed = VehicleEventBatch.safeParse(json);
  if (!parsed.success) {
    return { ok: false, reason: `schema: ${z.prettifyError(parsed.error).replaceAll('\n', '; ')}` };
  }
  return { ok: true, batch: parsed.data };
}
