/**
 *   occurrence (a stored vehicle event, a geofence entry/exit, a sweep's finding)
 *        ──decide(rule, occurrence, context)──> Fire | null
 *
 * Pure: the same decisions live (in the ingest's transaction, rule-alerts.ts) and in a preview
 * over stored history (preview.ts), so a preview says what the engine would really have done.
 * A fire names its episode: one open alert per (vehicle, rule, episode); an occurrence of an
 * episode that is already open raises that alert's count instead of opening another one (the
 * anchors' users complain of duplicate alerts: one per DTC read, one at each end of an overspeed).
 */
import { inCalendar, localTime } from './calendar.ts';
import { type AlertRule, type AlertSeverity, isRuleSource } from './rule.ts';

/** Something that happened to a vehicle that a rule may fire on. Times in epoch ms. */
export interface Occurrence {
  tenantId: string;
  vehicleId: string;
  /** A vehicle event type, `geofence_enter`/`geofence_exit`, or a sweep's `offline`/`low_fuel`. */
  kind: string;
  ts: number;
  end: number;
  lat: number | null;
  lon: number | null;
  volumeL: number | null;
  confidence: number | null;
  eventId: number | null;
  geofenceId: number | null;
  /** Alert title the built-in decisions give it (event-alerts.ts), when it has one. */
  title: string | null;
  details: Record<string, unknown>;
}

export interface DecideContext {
  /** The groups a vehicle belongs to (scope `groups`). */
  groupsOf(vehicleId: string): readonly string[];
  /** Harsh events of the vehicle in [from, to], this one included. */
  harshCount(vehicleId: string, from: number, to: number): number;
}

/** What a rule decided: an alert for an episode. */
export interface Fire {
  rule: AlertRule;
  tenantId: string;
  vehicleId: string;
  /** The alert's type (alerts.type): the source, in the alert inbox's words. */
  type: string;
  severity: AlertSeverity;
  title: string;
  episode: string;
  ts: number;
  lat: number | null;
  lon: number | null;
  geofenceId: number | null;
  details: Record<string, unknown>;
}

/** The alert type of each built-in source (what the inbox filters and labels by). */
const ALERT_TYPE_OF: Record<string, string> = {
  overspeed: 'speeding',
  harsh: 'harsh_driving',
};
export const alertTypeOf = (source: string) => ALERT_TYPE_OF[source] ?? source;

/** Which vehicle event types a source reads: a tenant rule for it replaces the built-in alert. */
export function sourceOfEvent(kind: string): string | null {
  if (kind.startsWith('harsh_')) return 'harsh';
  switch (kind) {
    case 'speeding':
      return 'overspeed';
    case 'ignition_on':
      return 'off_hours';
    case 'offline':
      return 'device_offline';
    case 'fuel_drain':
    case 'refuel':
    case 'fuel_leak':
    case 'long_idle':
    case 'dtc':
    case 'battery':
    case 'engine_anomaly':
    case 'geofence_enter':
    case 'geofence_exit':
    case 'low_fuel':
      return kind;
    default:
      // A registered source (maintenance's service_due...) raises occurrences of its own name.
      return isRuleSource(kind) ? kind : null;
  }
}

export function decide(rule: AlertRule, o: Occurrence, ctx: DecideContext): Fire | null {
  if (!rule.enabled || rule.tenantId !== o.tenantId) return null;
  if (sourceOfEvent(o.kind) !== rule.source) return null;
  if (!inScope(rule, o.vehicleId, ctx)) return null;
  if (rule.schedule && !inCalendar(o.ts, rule.schedule)) return null;
  const matched = match(rule, o, ctx);
  if (!matched) return null;
  return {
    rule,
    tenantId: o.tenantId,
    vehicleId: o.vehicleId,
    type: alertTypeOf(rule.source),
    severity: rule.severity,
    title: matched.title ?? o.title ?? rule.name,
    episode: matched.episode,
    ts: o.ts,
    lat: o.lat,
    lon: o.lon,
    geofenceId: o.geofenceId,
    details: {
      ...o.details,
      ruleName: rule.name,
      eventId: o.eventId,
      volumeL: o.volumeL,
      confidence: o.confidence,
      endTs: new Date(o.end).toISOString(),
    },
  };
}

function inScope(rule: AlertRule, vehicleId: string, ctx: DecideContext): boolean {
  const s = rule.scope;
  if (s.kind === 'all') return true;
  if (s.kind === 'vehicles') return s.ids.includes(vehicleId);
  const groups = ctx.groupsOf(vehicleId);
  return s.ids.some((g) => groups.includes(g));
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
/** One alert per occurrence that is itself an episode (a drain, one overspeed, one idle). */
const perEvent = (o: Occurrence) => (o.eventId !== null ? `event:${o.eventId}` : `at:${o.ts}`);

/** The source's condition; the episode the occurrence belongs to, and a title when the rule words it. */
function match(
  rule: AlertRule,
  o: Occurrence,
  ctx: DecideContext,
): { episode: string; title?: string } | null {
  const c = rule.condition;
  switch (rule.source) {
    case 'fuel_drain':
    case 'refuel':
    case 'fuel_leak': {
      if (c.minConfidence !== undefined && (o.confidence ?? 0) < c.minConfidence) return null;
      if (c.minLitres !== undefined && (o.volumeL ?? 0) < c.minLitres) return null;
      return { episode: perEvent(o) };
    }
    case 'overspeed': {
      // The agent reports one speeding event per episode (start to end): one alert for it.
      const max = num(o.details.maxSpeedKmh);
      if (max === null || max <= (c.thresholdKmh ?? 0)) return null;
      if (c.minDurationS !== undefined && (o.end - o.ts) / 1000 < c.minDurationS) return null;
      return {
        episode: perEvent(o),
        title: `Speeding: ${Math.round(max)} km/h (limit ${c.thresholdKmh} km/h)`,
      };
    }
    case 'long_idle': {
      const s = num(o.details.durationS) ?? (o.end - o.ts) / 1000;
      if (s < (c.minutes ?? 0) * 60) return null;
      return { episode: perEvent(o) };
    }
    case 'off_hours': {
      if (!c.workingHours || inCalendar(o.ts, c.workingHours)) return null;
      // One alert per vehicle and local day: the next start that evening raises its count.
      const { timeZone } = c.workingHours;
      const day = new Intl.DateTimeFormat('en-CA', { timeZone, dateStyle: 'short' }).format(o.ts);
      const { minutes } = localTime(o.ts, timeZone);
      const hhmm = `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
      return { episode: `off_hours:${day}`, title: `Used outside working hours: started ${hhmm}` };
    }
    case 'harsh': {
      const windowMs = (c.windowMin ?? 60) * 60_000;
      const n = ctx.harshCount(o.vehicleId, o.ts - windowMs, o.ts);
      if (n < (c.count ?? 1)) return null;
      return { episode: 'harsh', title: `Harsh driving: ${n} events in ${c.windowMin} min` };
    }
    case 'dtc': {
      const code = typeof o.details.code === 'string' ? o.details.code : null;
      if (code === null || (c.codes?.length && !c.codes.includes(code))) return null;
      return { episode: `dtc:${code}` };
    }
    case 'battery':
      return o.details.low === true ? { episode: 'battery' } : null;
    case 'engine_anomaly':
      return { episode: perEvent(o) };
    case 'geofence_enter':
    case 'geofence_exit':
      if (c.geofenceIds?.length && (o.geofenceId === null || !c.geofenceIds.includes(o.geofenceId)))
        return null;
      return { episode: `${o.kind}:${o.geofenceId}:${o.ts}` };
    case 'device_offline': {
      const minutes = num(o.details.minutesOffline) ?? 0;
      if (minutes < (c.minutes ?? 0)) return null;
      return { episode: 'offline', title: `Device offline for ${Math.round(minutes)} min` };
    }
    case 'low_fuel': {
      const pct = num(o.details.levelPct);
      if (pct === null || pct >= (c.belowPct ?? 0)) return null;
      return { episode: 'low_fuel', title: `Low fuel: ${pct.toFixed(0)} %` };
    }
    default:
      // A registered source (maintenance...) decides itself; its occurrences carry the episode.
      return typeof o.details.episode === 'string' ? { episode: o.details.episode } : null;
  }
}
