import type pg from 'pg';

/**
 * A vehicle's health as its agent reported it (issue 18 §2), read from `vehicle_events`: trouble
 * codes with their freeze frames (`dtc`), the battery at each start (`battery` phase 'start'),
 * the on-board monitor results (`monitors`). Newest last; at most `limit` rows, the newest ones.
 */
export interface HealthEventRow {
  eventId: number;
  ts: number;
  details: Record<string, unknown>;
}

export async function healthEvents(
  db: pg.ClientBase,
  q: {
    tenantId: string;
    vehicleId: string;
    type: 'dtc' | 'battery' | 'monitors';
    from: number;
    to: number;
    limit: number;
  },
): Promise<HealthEventRow[]> {
  const { rows } = await db.query<{ event_id: string; ts: number; details: Record<string, unknown> }>(
    `SELECT event_id, extract(epoch FROM start_ts) * 1000 AS ts, details
       FROM (SELECT event_id, start_ts, details
               FROM vehicle_events
              WHERE tenant_id = $1 AND vehicle_id = $2 AND type = $3
                AND start_ts >= to_timestamp($4 / 1000.0) AND start_ts < to_timestamp($5 / 1000.0)
                AND ($3 <> 'battery' OR details ->> 'phase' = 'start')
              ORDER BY start_ts DESC, event_id DESC
              LIMIT $6) newest
      ORDER BY start_ts, event_id`,
    [q.tenantId, q.vehicleId, q.type, q.from, q.to, q.limit],
  );
  return rows.map((r) => ({ eventId: Number(r.event_id), ts: Math.round(Number(r.ts)), details: r.details }));
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export interface BatteryStart {
  ts: number;
  restingV: number | null;
  crankV: number | null;
  lowestV: number | null;
  runningV: number | null;
  low: boolean;
}

export const batteryStartOf = (r: HealthEventRow): BatteryStart => ({
  ts: r.ts,
  restingV: num(r.details.restingV),
  crankV: num(r.details.crankV),
  lowestV: num(r.details.lowestV),
  runningV: num(r.details.runningV),
  low: r.details.low === true,
});

/** The last `limit` engine starts before `before` (epoch ms), oldest first: the trend's input. */
export async function batteryStarts(
  db: pg.ClientBase,
  tenantId: string,
  vehicleId: string,
  before: number,
  limit: number,
): Promise<BatteryStart[]> {
  const rows = await healthEvents(db, { tenantId, vehicleId, type: 'battery', from: 0, to: before, limit });
  return rows.map(batteryStartOf);
}
