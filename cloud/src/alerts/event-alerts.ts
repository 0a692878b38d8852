/**
 * Which vehicle events need a person's attention, and how the alert reads.
 *
 *   vehicle event (as stored) ──alertForEvent──> alert | null
 *
 * One alert per event: the caller passes only the events its INSERT really stored, and
 * UNIQUE (tenant_id, vehicle_id, event_id) on alerts holds whatever happens. Refuels and harsh
 * driving are scored (driver-scores), not alerted. Alert rules (thresholds, quiet hours) will
 * decide here, per tenant.
 */

import type { AlertSeverity, AlertType, NewAlert } from '../db/queries/insert-alerts.ts';
import type { InsertedVehicleEvent, StoredVehicleEvent } from '../db/queries/insert-vehicle-events.ts';
import type { Occurrence } from './rules/engine.ts';

type EventAlertType = Extract<AlertType, StoredVehicleEvent['type']>;

const SEVERITY: Record<EventAlertType, AlertSeverity> = {
  fuel_drain: 'critical',
  fuel_leak: 'warning',
  engine_anomaly: 'warning',
  dtc: 'warning',
  battery: 'warning',
  speeding: 'warning',
  long_idle: 'info',
};

const isAlerting = (type: StoredVehicleEvent['type']): type is EventAlertType =>
  Object.hasOwn(SEVERITY, type);

/** The alert an event raises, or null for events that are recorded only. */
export function alertForEvent(e: InsertedVehicleEvent): NewAlert | null {
  if (!isAlerting(e.type)) return null;
  // Every start reports the battery; only a check the agent found low needs anyone.
  if (e.type === 'battery' && e.details.low !== true) return null;
  return {
    tenantId: e.tenantId,
    vehicleId: e.vehicleId,
    type: e.type,
    severity: SEVERITY[e.type],
    title: titleOf(e.type, e),
    ts: e.start,
    lat: e.lat,
    lon: e.lon,
    eventId: e.eventId,
    geofenceId: null,
    // The event's own fields win over same-named keys in its free-form details.
    details: {
      ...e.details,
      confidence: e.confidence,
      volumeL: e.volumeL,
      endTs: new Date(e.end).toISOString(),
      driverId: e.driverId,
    },
  };
}

/** A stored event as the rules engine sees it (rules/engine.ts). */
export function occurrenceOf(e: InsertedVehicleEvent): Occurrence {
  return {
    tenantId: e.tenantId,
    vehicleId: e.vehicleId,
    kind: e.type,
    ts: e.start,
    end: e.end,
    lat: e.lat,
    lon: e.lon,
    volumeL: e.volumeL,
    confidence: e.confidence,
    eventId: e.eventId,
    geofenceId: null,
    title: isAlerting(e.type) ? titleOf(e.type, e) : null,
    details: { ...e.details, driverId: e.driverId },
  };
}

function titleOf(type: EventAlertType, e: StoredVehicleEvent): string {
  switch (type) {
    case 'fuel_drain':
      return `Fuel drain${suffix(e.volumeL, (l) => `: ${litres(l)} L lost`)}`;
    case 'fuel_leak':
      return `Slow fuel leak${suffix(e.volumeL, (l) => `: ${litres(l)} L lost`)}`;
    case 'engine_anomaly':
      return 'Engine anomaly';
    case 'dtc':
      // "Trouble code P0171 System Too Lean (Bank 1)": the agent sends the SAE J2012 text.
      return `Trouble code${suffix(text(e.details.code), (code) => ` ${code}`)}${suffix(
        text(e.details.description),
        (d) => ` ${d}`,
      )}`;
    case 'battery':
      return batteryTitle(e.details);
    case 'speeding':
      return `Speeding${suffix(text(e.details.maxSpeedKmh), (kmh) => `: ${kmh} km/h`)}`;
    case 'long_idle':
      return `Long idle${suffix(number(e.details.durationS), (s) => `: ${roundHalfAway(s / 60)} min`)}`;
  }
}

/** What the agent found low (diagnostics-watch.ts): at rest while parked, or at an engine start. */
function batteryTitle(d: Record<string, unknown>): string {
  const volts = (v: unknown, what: string) => suffix(number(v), (x) => `${x.toFixed(1)} V ${what}`);
  if (d.phase === 'resting') {
    const parked = volts(d.restingV, 'parked');
    return parked ? `Low battery: ${parked}` : 'Low battery';
  }
  const reasons = Array.isArray(d.reasons) ? d.reasons : [];
  const parts = [
    reasons.includes('resting') ? volts(d.restingV, 'before the start') : '',
    reasons.includes('cranking') ? volts(d.lowestV, 'while starting') : '',
    reasons.includes('charging') ? volts(d.runningV, 'running (not charging)') : '',
  ].filter((p) => p !== '');
  return `Weak battery at start${parts.length > 0 ? `: ${parts.join(', ')}` : ''}`;
}

const suffix = <T>(value: T | null, format: (v: T) => string) => (value === null ? '' : format(value));

/**
 * One decimal, half away from zero, from the stored `real` at its six significant digits: the
 * figures people saw in alert titles since migration 000010 (round(volume_l::numeric, 1)).
 */
const ONE_DECIMAL = new Intl.NumberFormat('en-US', {
  minimumFractionDigits: 1,
  maximumFractionDigits: 1,
  useGrouping: false,
  roundingMode: 'halfExpand',
});
const litres = (l: number) => ONE_DECIMAL.format(l.toPrecision(6) as Intl.StringNumericLiteral);

/** As numeric round(): half away from zero (Math.round goes up at -0.5). */
const roundHalfAway = (x: number) => Math.sign(x) * Math.round(Math.abs(x));

/** A detail as text: a string as it is, anything else as its JSON. */
function text(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** A numeric detail (a number, or a string holding one); anything else is left out of the title. */
function number(v: unknown): number | null {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
  return Number.isFinite(n) ? n : null;
}
