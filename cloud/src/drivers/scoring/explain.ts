/**
 * Why a score is what it is (issue 19 §2): per metric the points it cost (from the stored day)
 * and the events behind them, each with its time, place, the speed trace around it (raw
 * telemetry, ±TRACE_S) and its dispute, if any. Events under review are listed but marked as not
 * counted, so the driver sees what their dispute did.
 */
import type pg from 'pg';
import type { Metric } from './score.ts';
import { CREDITED_SQL, PERIODS_SQL } from './score-inputs.ts';

export const TRACE_S = 60;
/** Per metric, the newest events shown (the count is always complete). */
export const EVENTS_PER_METRIC = 50;

const METRIC_OF_TYPE: Record<string, Metric> = {
  harsh_accel: 'harsh_accel',
  harsh_brake: 'harsh_brake',
  harsh_corner: 'harsh_corner',
  speeding: 'speeding',
  long_idle: 'idling',
};

export interface ExplainedEvent {
  vehicleId: string;
  eventId: number;
  type: string;
  start: number;
  end: number;
  lat: number | null;
  lon: number | null;
  details: Record<string, unknown>;
  /** Left out of the score: under review or accepted. */
  counted: boolean;
  dispute: { id: number; status: 'pending' | 'accepted' | 'rejected' } | null;
  speedTrace: { ts: number; speedKmh: number | null }[];
}

/** The events credited to a driver in [from, to), grouped by metric, newest first. */
export async function explainedEvents(
  db: pg.ClientBase,
  q: { tenantId: string; userId: string; from: Date; to: Date },
): Promise<{ metric: Metric; total: number; events: ExplainedEvent[] }[]> {
  const { rows } = await db.query<{
    vehicle_id: string;
    event_id: string;
    type: string;
    start_ms: number;
    end_ms: number;
    lat: number | null;
    lon: number | null;
    details: Record<string, unknown>;
    dispute_id: string | null;
    dispute_status: 'pending' | 'accepted' | 'rejected' | null;
    n: number;
    trace: { ts: number; v: number | null }[] | null;
  }>(
    `WITH p AS (${PERIODS_SQL} AND a.user_id = $4),
     ev AS (
       SELECT ev.*, row_number() OVER (PARTITION BY ev.type ORDER BY ev.start_ts DESC) AS rn,
              count(*) OVER (PARTITION BY ev.type)::int AS n
         FROM p JOIN vehicle_events ev ON ${CREDITED_SQL}
        WHERE ev.type IN ('harsh_accel', 'harsh_brake', 'harsh_corner', 'speeding', 'long_idle'))
     SELECT ev.vehicle_id, ev.event_id, ev.type,
            extract(epoch FROM ev.start_ts) * 1000 AS start_ms, extract(epoch FROM ev.end_ts) * 1000 AS end_ms,
            ev.lat, ev.lon, ev.details, ev.n, d.id AS dispute_id, d.status AS dispute_status,
            (SELECT json_agg(json_build_object('ts', extract(epoch FROM t.ts) * 1000, 'v', t.speed_kmh) ORDER BY t.ts)
               FROM telemetry t
              WHERE t.vehicle_id = ev.vehicle_id AND t.tenant_id = $1
                AND t.ts BETWEEN ev.start_ts - make_interval(secs => $5) AND ev.end_ts + make_interval(secs => $5)
            ) AS trace
       FROM ev
       LEFT JOIN LATERAL (
         SELECT d.id, d.status FROM event_disputes d
          WHERE d.tenant_id = ev.tenant_id AND d.vehicle_id = ev.vehicle_id AND d.event_id = ev.event_id
          ORDER BY d.created_at DESC, d.id DESC LIMIT 1) d ON true
      WHERE ev.rn <= $6
      ORDER BY ev.type, ev.start_ts DESC`,
    [q.tenantId, q.from, q.to, q.userId, TRACE_S, EVENTS_PER_METRIC],
  );
  const byMetric = new Map<Metric, { metric: Metric; total: number; events: ExplainedEvent[] }>();
  for (const r of rows) {
    const metric = METRIC_OF_TYPE[r.type]!;
    let m = byMetric.get(metric);
    if (!m) {
      m = { metric, total: 0, events: [] };
      byMetric.set(metric, m);
    }
    m.total += m.events.length === 0 || m.events.at(-1)!.type !== r.type ? r.n : 0;
    m.events.push({
      vehicleId: r.vehicle_id,
      eventId: Number(r.event_id),
      type: r.type,
      start: Number(r.start_ms),
      end: Number(r.end_ms),
      lat: r.lat,
      lon: r.lon,
      details: r.details,
      counted: r.dispute_status === null || r.dispute_status === 'rejected',
      dispute: r.dispute_id === null ? null : { id: Number(r.dispute_id), status: r.dispute_status! },
      speedTrace: (r.trace ?? []).map((t) => ({ ts: Number(t.ts), speedKmh: t.v })),
    });
  }
  return [...byMetric.values()];
}
