/**
 * Vehicle health beyond one event (issue 18 §2): a battery whose cranking dip keeps falling start
 * after start, and a cylinder that misfires above its limit.
 *
 *   battery start event ──> the vehicle's last starts (same transaction) ──> least-squares slope
 *   monitors event ──────> a cylinder's count this cycle over its limit (the ECU's own, mode 06)
 *
 * Both go the built-in alerts' way (store-vehicle-events.ts): one alert per event, skipped when a
 * tenant rule covers the event's source; a battery start the agent already found low keeps its
 * alert and gains the trend in its details. A misfire alerts once per episode (a read that finds
 * a cylinder over its limit the read before did not), and is an `engine_anomaly` alert (the engine
 * runs wrong; no alert type of its own, so rules and channels need nothing new).
 */
import type pg from 'pg';
import type { NewAlert } from '../db/queries/insert-alerts.ts';
import type { InsertedVehicleEvent } from '../db/queries/insert-vehicle-events.ts';
import { batteryStarts, healthEvents } from '../db/queries/vehicle-health.ts';

/** Starts the trend is fitted over. */
export const TREND_STARTS = 5;
/** A slope at or below this, V per start, is a falling dip... */
export const FALLING_V_PER_START = -0.1;
/**
 * ...when the fitted line also fell at least this much over the starts, V (not noise), and the
 * median step between consecutive starts is a fall of at least 0.05 V (cold affects one start).
 */
export const FALLING_TOTAL_V = 0.4;

export interface BatteryTrend {
  starts: number;
  /** V per start (least squares over the cranking dips), null with fewer than 3 starts. */
  slopeVPerStart: number | null;
  lastCrankV: number | null;
  falling: boolean;
}

/** The trend of the cranking dips, oldest first. */
export function batteryTrend(crankV: readonly number[]): BatteryTrend {
  const ys = crankV.slice(-TREND_STARTS);
  const n = ys.length;
  const lastCrankV = ys.at(-1) ?? null;
  if (n < 3) return { starts: n, slopeVPerStart: null, lastCrankV, falling: false };
  const meanX = (n - 1) / 2;
  const meanY = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  ys.forEach((y, x) => {
    sxy += (x - meanX) * (y - meanY);
    sxx += (x - meanX) ** 2;
  });
  const slope = sxy / sxx;
  // Most starts lower than the one before: a decline, not one cold morning's start pulling the fit.
  const steps = ys.slice(1).map((y, i) => y - ys[i]!);
  const medianStep = [...steps].sort((a, b) => a - b)[Math.floor((steps.length - 1) / 2)]!;
  const falling = slope <= FALLING_V_PER_START && -slope * (n - 1) >= FALLING_TOTAL_V && medianStep <= -0.05;
  return { starts: n, slopeVPerStart: Math.round(slope * 1000) / 1000, lastCrankV, falling };
}

export interface MisfireCylinder {
  cylinder: number;
  count: number | null;
  average: number | null;
  limit: number | null;
}

/** Cylinders whose count this cycle is over their limit. */
export function misfiring(details: Record<string, unknown>): MisfireCylinder[] {
  const list = Array.isArray(details.misfire) ? (details.misfire as MisfireCylinder[]) : [];
  return list.filter(
    (c) => typeof c?.count === 'number' && typeof c.limit === 'number' && c.limit > 0 && c.count > c.limit,
  );
}

const alertOf = (
  e: InsertedVehicleEvent,
  type: NewAlert['type'],
  title: string,
  details: Record<string, unknown>,
): NewAlert => ({
  tenantId: e.tenantId,
  vehicleId: e.vehicleId,
  type,
  severity: 'warning',
  title,
  ts: e.start,
  lat: e.lat,
  lon: e.lon,
  eventId: e.eventId,
  geofenceId: null,
  details: { ...e.details, ...details, endTs: new Date(e.end).toISOString(), driverId: e.driverId },
});

/**
 * The health alerts of the events just stored, given the built-in alerts already decided for
 * them (`builtIn`, which this may enrich with the battery trend). Runs in the caller's
 * transaction, under its tenant.
 */
export async function vehicleHealthAlerts(
  db: pg.ClientBase,
  stored: readonly InsertedVehicleEvent[],
  builtIn: NewAlert[],
): Promise<NewAlert[]> {
  const out: NewAlert[] = [];
  for (const e of stored) {
    if (e.type === 'battery' && e.details.phase === 'start' && typeof e.details.crankV === 'number') {
      const starts = await batteryStarts(db, e.tenantId, e.vehicleId, e.start + 1, TREND_STARTS);
      const trend = batteryTrend(starts.flatMap((s) => (s.crankV === null ? [] : [s.crankV])));
      const existing = builtIn.find((a) => a.eventId === e.eventId && a.vehicleId === e.vehicleId);
      if (existing) existing.details = { ...existing.details, trend };
      else if (trend.falling) {
        out.push(
          alertOf(
            e,
            'battery',
            `Battery weakening: cranking dip falling ${Math.abs(trend.slopeVPerStart!).toFixed(2)} V per start (${trend.lastCrankV!.toFixed(1)} V last)`,
            { trend },
          ),
        );
      }
    }
    if (e.type === 'monitors') {
      const bad = misfiring(e.details);
      // One alert per episode: not again while the read before already had these cylinders over.
      const [before] = bad.length
        ? await healthEvents(db, {
            tenantId: e.tenantId,
            vehicleId: e.vehicleId,
            type: 'monitors',
            from: 0,
            to: e.start,
            limit: 1,
          })
        : [];
      const already = new Set(before ? misfiring(before.details).map((c) => c.cylinder) : []);
      if (bad.some((c) => !already.has(c.cylinder))) {
        const what = bad
          .map((c) => `cylinder ${c.cylinder} (${c.count} counts, limit ${c.limit})`)
          .join(', ');
        out.push(alertOf(e, 'engine_anomaly', `Misfire: ${what}`, { misfiring: bad }));
      }
    }
  }
  return out;
}
