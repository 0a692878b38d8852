import { z } from 'zod';

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
  /** A diagnostic trouble code appeared: `details.code`. */
  'dtc',
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
