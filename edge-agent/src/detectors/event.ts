import type { DetectedEvent, ResolvedDetectorConfig } from './detector.ts';

export const round = (v: number, d: number): number => Math.round(v * 10 ** d) / 10 ** d;

/** A driving-behaviour event: the vehicle's driver attached, confidence clamped to [0, 1]. */
export function drivingEvent(
  cfg: ResolvedDetectorConfig,
  type: DetectedEvent['type'],
  start: number,
  end: number,
  lat: number | null,
  lon: number | null,
  confidence: number,
  details: Record<string, unknown>,
): DetectedEvent {
  return {
    type,
    start,
    end,
    lat,
    lon,
    driverId: cfg.driverId,
    confidence: round(Math.min(1, Math.max(0, confidence)), 3),
    modelVersion: null,
    details,
  };
}
