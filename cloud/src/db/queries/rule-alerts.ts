import type pg from 'pg';
import type { Fire } from '../../alerts/rules/engine.ts';

/** A rule's alert after `raiseRuleAlerts`: opened now, or an open one whose count went up. */
export interface RaisedAlert {
  id: number;
  fire: Fire;
  opened: boolean;
  count: number;
}

/**
 * One open alert per (tenant, vehicle, rule, episode): the partial unique index decides, so two
 * ingest processes raising the same episode at once still make one alert with count 2. Runs in
 * the caller's transaction, as the owner. The fires are applied in order (a batch may raise one
 * episode twice).
 */
export async function raiseRuleAlerts(
  db: pg.ClientBase,
  fires: readonly Fire[],
  /** false: an open episode stays as it is (a sweep finding the same state again is not a repeat). */
  repeat = true,
): Promise<RaisedAlert[]> {
  const out: RaisedAlert[] = [];
  const onOpen = repeat
    ? `DO UPDATE SET count = alerts.count + 1,
                     last_seen_at = greatest(alerts.last_seen_at, EXCLUDED.last_seen_at),
                     cleared_at = NULL`
    : 'DO NOTHING';
  for (const f of fires) {
    const { rows } = await db.query<{ id: number; opened: boolean; count: number }>(
      `INSERT INTO alerts (tenant_id, vehicle_id, type, severity, title, ts, lat, lon, geofence_id, details,
                           rule_id, episode, last_seen_at)
       VALUES ($1, $2, $3, $4, $5, to_timestamp($6 / 1000.0), $7, $8, $9, $10, $11, $12, to_timestamp($6 / 1000.0))
       ON CONFLICT (tenant_id, vehicle_id, rule_id, episode) WHERE rule_id IS NOT NULL AND status <> 'resolved'
       ${onOpen}
       RETURNING id, (xmax = 0) AS opened, count`,
      [
        f.tenantId,
        f.vehicleId,
        f.type,
        f.severity,
        f.title,
        f.ts,
        f.lat,
        f.lon,
        f.geofenceId,
        JSON.stringify(f.details),
        f.rule.id,
        f.episode,
      ],
    );
    if (rows[0]) out.push({ id: rows[0].id, fire: f, opened: rows[0].opened, count: rows[0].count });
  }
  return out;
}

/** The condition of these episodes ended (back online, refuelled): their open alerts are cleared. */
export async function clearRuleEpisodes(
  db: pg.ClientBase,
  tenantId: string,
  vehicleId: string,
  episode: string,
  at: number,
): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE alerts SET cleared_at = to_timestamp($4 / 1000.0)
      WHERE tenant_id = $1 AND vehicle_id = $2 AND episode = $3 AND rule_id IS NOT NULL
        AND status <> 'resolved' AND cleared_at IS NULL`,
    [tenantId, vehicleId, episode, at],
  );
  return rowCount ?? 0;
}

/** An open (unacknowledged) rule alert whose rule escalates further than it has gone. */
export interface EscalationCandidate {
  id: number;
  tenantId: string;
  ruleId: number;
  level: number;
  openedAt: number;
  title: string;
  severity: string;
  vehicleId: string | null;
}

export async function findEscalationCandidates(
  db: pg.ClientBase,
  limit = 500,
): Promise<EscalationCandidate[]> {
  const { rows } = await db.query<{
    id: number;
    tenant_id: string;
    rule_id: number;
    escalation_level: number;
    created_at: Date;
    title: string;
    severity: string;
    vehicle_id: string | null;
  }>(
    `SELECT a.id, a.tenant_id, a.rule_id, a.escalation_level, a.created_at, a.title, a.severity, a.vehicle_id
       FROM alerts a JOIN alert_rules r ON r.id = a.rule_id
      WHERE a.status = 'open' AND a.rule_id IS NOT NULL
        AND jsonb_array_length(coalesce(r.definition -> 'escalation', '[]'::jsonb)) > a.escalation_level
      ORDER BY a.created_at LIMIT $1`,
    [limit],
  );
  return rows.map((r) => ({
    id: r.id,
    tenantId: r.tenant_id,
    ruleId: r.rule_id,
    level: r.escalation_level,
    openedAt: r.created_at.getTime(),
    title: r.title,
    severity: r.severity,
    vehicleId: r.vehicle_id,
  }));
}

/** Moves an alert one level up, only if it is still open at `level` (a concurrent ack wins). */
export async function escalateAlert(
  db: pg.ClientBase,
  id: number,
  level: number,
  at: number,
): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE alerts SET escalation_level = $2 + 1, escalated_at = to_timestamp($3 / 1000.0)
      WHERE id = $1 AND status = 'open' AND escalation_level = $2`,
    [id, level, at],
  );
  return (rowCount ?? 0) > 0;
}

/** What the sweep reads of each vehicle of these tenants: last heard of, and its tank level. */
export async function findVehicleStates(
  db: pg.ClientBase,
  tenantIds: readonly string[],
): Promise<
  {
    tenantId: string;
    vehicleId: string;
    lastSeen: number | null;
    fuelLevelPct: number | null;
    lat: number | null;
    lon: number | null;
  }[]
> {
  const { rows } = await db.query<{
    tenant_id: string;
    id: string;
    last_seen: Date | null;
    fuel_level_pct: number | null;
    lat: number | null;
    lon: number | null;
  }>(
    `SELECT v.tenant_id, v.id, l.received_at AS last_seen, l.fuel_level_pct, l.lat, l.lon
       FROM vehicles v LEFT JOIN vehicle_latest l ON l.vehicle_id = v.id
      WHERE v.tenant_id = ANY($1::text[])`,
    [tenantIds],
  );
  return rows.map((r) => ({
    tenantId: r.tenant_id,
    vehicleId: r.id,
    lastSeen: r.last_seen?.getTime() ?? null,
    fuelLevelPct: r.fuel_level_pct,
    lat: r.lat,
    lon: r.lon,
  }));
}

/** Tenants with an enabled rule of one of these sources. */
export async function findTenantsWithRules(db: pg.ClientBase, sources: readonly string[]): Promise<string[]> {
  const { rows } = await db.query<{ tenant_id: string }>(
    'SELECT DISTINCT tenant_id FROM alert_rules WHERE enabled AND source = ANY($1::text[])',
    [sources],
  );
  return rows.map((r) => r.tenant_id);
}
