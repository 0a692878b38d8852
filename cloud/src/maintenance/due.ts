/**
 * When each vehicle's service is due, and when it will be:
 *
 *   program (km | engine h | months/days) ─┐
 *   last service (vehicle_services) or the program's start ─┼─▶ per dimension: remaining, due date
 *   usage since then + average over 30 days (telemetry_minute) ─┘        └─▶ the first one wins
 *
 * Usage comes from the minute rollups the ingest writes with every sample (telemetry_minute):
 * distance is the minute's mean speed over one minute (km/h ÷ 60), engine hours are the minutes
 * with the engine turning (rpm > 0). So a vehicle without an odometer PID still has a distance,
 * and the figures are the same ones the dashboard's history shows. The forecast divides what is
 * left by the vehicle's average use per day over the last 30 days: drive more, it comes sooner.
 */
import type pg from 'pg';

const DAY_MS = 86_400_000;
/** The window the average daily use is taken over. */
export const USAGE_WINDOW_DAYS = 30;

export type DueStatus = 'ok' | 'due_soon' | 'overdue';
export type DueDimension = 'distance' | 'hours' | 'calendar';

export interface ProgramRow {
  id: number;
  name: string;
  intervalKm: number | null;
  intervalHours: number | null;
  intervalMonths: number | null;
  intervalDays: number | null;
  soonKm: number;
  soonHours: number;
  soonDays: number;
}

export interface ServiceState {
  /** Epoch ms of the last service (or the program's start when never serviced under it). */
  since: number;
  serviced: boolean;
  odometerKm: number | null;
  engineHours: number | null;
  /** Used since then. */
  kmSince: number;
  hoursSince: number;
  /** Average per day over the last USAGE_WINDOW_DAYS days. */
  kmPerDay: number;
  hoursPerDay: number;
}

export interface DueDecision {
  status: DueStatus;
  /** The dimension that comes first (the forecast's). */
  dueBy: DueDimension | null;
  /** Epoch ms: the forecast due date (the earliest of the dimensions); null: no use, no calendar. */
  forecastDueAt: number | null;
  remainingKm: number | null;
  remainingHours: number | null;
  /** Epoch ms the calendar interval ends. */
  calendarDueAt: number | null;
  /** The odometer / hour meter reading it is due at, when the last service's is known. */
  dueOdometerKm: number | null;
  dueEngineHours: number | null;
}

/** `months` calendar months after `ts`, in UTC (31 Jan + 1 month = 28/29 Feb, not 3 March). */
export function addMonths(ts: number, months: number): number {
  const d = new Date(ts);
  const day = d.getUTCDate();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() + months);
  const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
  d.setUTCDate(Math.min(day, last));
  return d.getTime();
}

/** Pure: the decision for one (vehicle, program) at `now`. */
export function decideDue(p: ProgramRow, s: ServiceState, now: number): DueDecision {
  const candidates: { by: DueDimension; at: number }[] = [];
  let overdue = false;
  let soon = false;

  let remainingKm: number | null = null;
  if (p.intervalKm !== null) {
    remainingKm = p.intervalKm - s.kmSince;
    if (remainingKm <= 0) overdue = true;
    else if (remainingKm <= p.soonKm) soon = true;
    if (remainingKm <= 0) candidates.push({ by: 'distance', at: now });
    else if (s.kmPerDay > 0)
      candidates.push({ by: 'distance', at: now + (remainingKm / s.kmPerDay) * DAY_MS });
  }
  let remainingHours: number | null = null;
  if (p.intervalHours !== null) {
    remainingHours = p.intervalHours - s.hoursSince;
    if (remainingHours <= 0) overdue = true;
    else if (remainingHours <= p.soonHours) soon = true;
    if (remainingHours <= 0) candidates.push({ by: 'hours', at: now });
    else if (s.hoursPerDay > 0)
      candidates.push({ by: 'hours', at: now + (remainingHours / s.hoursPerDay) * DAY_MS });
  }
  let calendarDueAt: number | null = null;
  const calendar = [
    p.intervalMonths !== null ? addMonths(s.since, p.intervalMonths) : null,
    p.intervalDays !== null ? s.since + p.intervalDays * DAY_MS : null,
  ].filter((x): x is number => x !== null);
  if (calendar.length > 0) {
    calendarDueAt = Math.min(...calendar);
    candidates.push({ by: 'calendar', at: calendarDueAt });
    if (calendarDueAt <= now) overdue = true;
  }
  const first = candidates.reduce<{ by: DueDimension; at: number } | null>(
    (a, c) => (a === null || c.at < a.at ? c : a),
    null,
  );
  // Due soon also when the forecast (any dimension) falls within the day margin.
  if (!overdue && first !== null && first.at - now <= p.soonDays * DAY_MS) soon = true;
  return {
    status: overdue ? 'overdue' : soon ? 'due_soon' : 'ok',
    dueBy: first?.by ?? null,
    forecastDueAt: first ? Math.max(first.at, now) : null,
    remainingKm: remainingKm === null ? null : round1(remainingKm),
    remainingHours: remainingHours === null ? null : round1(remainingHours),
    calendarDueAt,
    dueOdometerKm:
      p.intervalKm !== null && s.odometerKm !== null ? round1(s.odometerKm + p.intervalKm) : null,
    dueEngineHours:
      p.intervalHours !== null && s.engineHours !== null ? round1(s.engineHours + p.intervalHours) : null,
  };
}

const round1 = (x: number) => Math.round(x * 10) / 10;

export interface DueItem extends DueDecision {
  vehicleId: string;
  plate: string | null;
  programId: number;
  programName: string;
  lastServiceAt: number | null;
  since: number;
  kmSince: number;
  hoursSince: number;
  kmPerDay: number;
  hoursPerDay: number;
  /** A live work order for this service (source 'service'), if one is open. */
  workOrderId: number | null;
}

/** The work orders' source_ref of a due service: one live order per (vehicle, program). */
export const serviceSourceRef = (programId: number) => `program:${programId}`;

/**
 * Every (vehicle, program) of the tenant with its decision, most urgent first. Runs as the tenant
 * (API) or as the owner (the alert sweep): both filter on the tenant explicitly.
 */
export async function listDue(
  db: Pick<pg.ClientBase, 'query'>,
  tenantId: string,
  now: number,
  filter: { vehicleId?: string; programId?: number } = {},
): Promise<DueItem[]> {
  const { rows } = await db.query<{
    vehicle_id: string;
    plate: string | null;
    program_id: number;
    name: string;
    interval_km: string | null;
    interval_hours: string | null;
    interval_months: number | null;
    interval_days: number | null;
    soon_km: string;
    soon_hours: string;
    soon_days: number;
    since: Date;
    serviced: boolean;
    odometer_km: string | null;
    engine_hours: string | null;
    km_since: number;
    hours_since: number;
    km_window: number;
    hours_window: number;
    work_order_id: number | null;
  }>(
    `WITH pairs AS (
       SELECT DISTINCT ON (p.id, v.id) p.*, v.id AS vehicle_id, v.plate
         FROM service_programs p
         JOIN service_program_targets t ON t.program_id = p.id
         JOIN vehicles v ON v.tenant_id = p.tenant_id AND (v.id = t.vehicle_id OR v.group_id = t.group_id)
        WHERE p.tenant_id = $1 AND p.archived_at IS NULL AND v.retired_at IS NULL
          AND ($3::text IS NULL OR v.id = $3) AND ($4::bigint IS NULL OR p.id = $4)
     ), based AS (
       SELECT pr.*, coalesce(s.done_at, pr.starts_at) AS since, s.done_at IS NOT NULL AS serviced,
              s.odometer_km, s.engine_hours
         FROM pairs pr
         LEFT JOIN vehicle_services s
           ON s.tenant_id = pr.tenant_id AND s.vehicle_id = pr.vehicle_id AND s.program_id = pr.id
     )
     SELECT b.vehicle_id, b.plate, b.id AS program_id, b.name, b.interval_km, b.interval_hours,
            b.interval_months, b.interval_days, b.soon_km, b.soon_hours, b.soon_days,
            b.since, b.serviced, b.odometer_km, b.engine_hours,
            u.km_since, u.hours_since, w.km_window, w.hours_window,
            (SELECT o.id FROM work_orders o
              WHERE o.tenant_id = b.tenant_id AND o.vehicle_id = b.vehicle_id AND o.source_kind = 'service'
                AND o.source_ref = 'program:' || b.id AND o.status NOT IN ('done', 'cancelled')
              LIMIT 1) AS work_order_id
       FROM based b
       CROSS JOIN LATERAL (
         SELECT coalesce(sum(m.speed_avg), 0) / 60.0 AS km_since,
                count(*) FILTER (WHERE m.rpm_max > 0) / 60.0 AS hours_since
           FROM telemetry_minute m
          WHERE m.tenant_id = b.tenant_id AND m.vehicle_id = b.vehicle_id
            AND m.minute >= b.since AND m.minute < $2) u
       CROSS JOIN LATERAL (
         SELECT coalesce(sum(m.speed_avg), 0) / 60.0 AS km_window,
                count(*) FILTER (WHERE m.rpm_max > 0) / 60.0 AS hours_window
           FROM telemetry_minute m
          WHERE m.tenant_id = b.tenant_id AND m.vehicle_id = b.vehicle_id
            AND m.minute >= $2::timestamptz - make_interval(days => $5) AND m.minute < $2) w`,
    [tenantId, new Date(now), filter.vehicleId ?? null, filter.programId ?? null, USAGE_WINDOW_DAYS],
  );
  const items = rows.map((r): DueItem => {
    const num = (x: string | null) => (x === null ? null : Number(x));
    const program: ProgramRow = {
      id: Number(r.program_id),
      name: r.name,
      intervalKm: num(r.interval_km),
      intervalHours: num(r.interval_hours),
      intervalMonths: r.interval_months,
      intervalDays: r.interval_days,
      soonKm: Number(r.soon_km),
      soonHours: Number(r.soon_hours),
      soonDays: r.soon_days,
    };
    const state: ServiceState = {
      since: r.since.getTime(),
      serviced: r.serviced,
      odometerKm: num(r.odometer_km),
      engineHours: num(r.engine_hours),
      kmSince: Number(r.km_since),
      hoursSince: Number(r.hours_since),
      kmPerDay: Number(r.km_window) / USAGE_WINDOW_DAYS,
      hoursPerDay: Number(r.hours_window) / USAGE_WINDOW_DAYS,
    };
    return {
      ...decideDue(program, state, now),
      vehicleId: r.vehicle_id,
      plate: r.plate,
      programId: program.id,
      programName: program.name,
      lastServiceAt: r.serviced ? state.since : null,
      since: state.since,
      kmSince: round1(state.kmSince),
      hoursSince: round1(state.hoursSince),
      kmPerDay: round1(state.kmPerDay),
      hoursPerDay: Math.round(state.hoursPerDay * 100) / 100,
      workOrderId: r.work_order_id === null ? null : Number(r.work_order_id),
    };
  });
  const rank: Record<DueStatus, number> = { overdue: 0, due_soon: 1, ok: 2 };
  return items.sort(
    (a, b) =>
      rank[a.status] - rank[b.status] ||
      (a.forecastDueAt ?? Number.POSITIVE_INFINITY) - (b.forecastDueAt ?? Number.POSITIVE_INFINITY) ||
      a.vehicleId.localeCompare(b.vehicleId),
  );
}
