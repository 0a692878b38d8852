import { type CalibrationPoint, litresAtLevel } from '@fleet/shared';
import type pg from 'pg';
import type { DriverLog, Purchase, Refuel, Verdict } from '../../fuel/reconciliation.ts';

/**
 * What the reconciliation reads for one tenant and period, in three statements. Tank levels come
 * from the minute rollups (telemetry_minute.fuel_min, % of the tank): the lowest reading in the
 * window before a purchase or a refuel is the level before it (a refuel only raises the level).
 */
export async function loadReconciliationInputs(
  db: pg.PoolClient,
  tenantId: string,
  fromMs: number,
  toMs: number,
  windowMs: number,
): Promise<{
  purchases: Purchase[];
  refuels: Refuel[];
  tanks: Map<string, number | null>;
  driverLogs: DriverLog[];
}> {
  const w = windowMs / 1000;
  const { rows: p } = await db.query<{
    id: string;
    vehicle_id: string | null;
    ts: number;
    litres: number;
    lat: number | null;
    lon: number | null;
    card_id: string | null;
    readings: number;
    level_before_pct: number | null;
  }>(
    `SELECT t.id, t.vehicle_id, extract(epoch FROM t.ts) * 1000 AS ts, t.litres, t.lat, t.lon, t.card_id,
            (SELECT count(*)::int FROM telemetry_minute m
              WHERE m.vehicle_id = t.vehicle_id AND m.tenant_id = t.tenant_id AND m.fuel_min IS NOT NULL
                AND m.minute BETWEEN t.ts - make_interval(secs => $4) AND t.ts + make_interval(secs => $4)) AS readings,
            (SELECT min(m.fuel_min) FROM telemetry_minute m
              WHERE m.vehicle_id = t.vehicle_id AND m.tenant_id = t.tenant_id
                AND m.minute BETWEEN t.ts - make_interval(secs => $4) AND t.ts) AS level_before_pct
       FROM fuel_transactions t
      WHERE t.tenant_id = $1 AND t.ts >= to_timestamp($2 / 1000.0) AND t.ts < to_timestamp($3 / 1000.0)
      ORDER BY t.ts, t.id`,
    [tenantId, fromMs, toMs, w],
  );
  const { rows: r } = await db.query<{
    vehicle_id: string;
    event_id: string;
    start_ms: number;
    end_ms: number;
    volume_l: number | null;
    lat: number | null;
    lon: number | null;
    level_before_l: number | null;
    level_before_pct: number | null;
  }>(
    `SELECT e.vehicle_id, e.event_id, extract(epoch FROM e.start_ts) * 1000 AS start_ms,
            extract(epoch FROM e.end_ts) * 1000 AS end_ms, e.volume_l, e.lat, e.lon,
            CASE WHEN jsonb_typeof(e.details -> 'levelBeforeL') = 'number'
                 THEN (e.details ->> 'levelBeforeL')::float8 END AS level_before_l,
            (SELECT min(m.fuel_min) FROM telemetry_minute m
              WHERE m.vehicle_id = e.vehicle_id AND m.tenant_id = e.tenant_id
                AND m.minute BETWEEN e.start_ts - interval '10 minutes' AND e.start_ts) AS level_before_pct
       FROM vehicle_events e
      WHERE e.tenant_id = $1 AND e.type = 'refuel'
        AND e.end_ts >= to_timestamp($2 / 1000.0) - make_interval(secs => $4)
        AND e.start_ts < to_timestamp($3 / 1000.0) + make_interval(secs => $4)
      ORDER BY e.start_ts, e.vehicle_id, e.event_id`,
    [tenantId, fromMs, toMs, w],
  );
  // The drivers' logged refuels (refuel_logs): litres and time only, judged like purchases.
  const { rows: d } = await db.query<{
    id: string;
    vehicle_id: string;
    ts: number;
    litres: number;
    readings: number;
  }>(
    `SELECT l.id, l.vehicle_id, extract(epoch FROM l.ts) * 1000 AS ts, l.litres,
            (SELECT count(*)::int FROM telemetry_minute m
              WHERE m.vehicle_id = l.vehicle_id AND m.tenant_id = l.tenant_id AND m.fuel_min IS NOT NULL
                AND m.minute BETWEEN l.ts - make_interval(secs => $4) AND l.ts + make_interval(secs => $4)) AS readings
       FROM refuel_logs l
      WHERE l.tenant_id = $1 AND l.ts >= to_timestamp($2 / 1000.0) AND l.ts < to_timestamp($3 / 1000.0)
      ORDER BY l.ts, l.id`,
    [tenantId, fromMs, toMs, w],
  );
  const { rows: v } = await db.query<{
    id: string;
    tank_litres: number | null;
    tank_calibration: CalibrationPoint[] | null;
  }>('SELECT id, tank_litres, tank_calibration FROM vehicles WHERE tenant_id = $1', [tenantId]);
  // Capacity for the free-volume check; levels in litres through the vehicle's calibration table
  // when it has one (shared/src/tank-calibration.ts), the same function as every fuel figure.
  const tanks = new Map(
    v.map((x) => [
      x.id,
      x.tank_litres ??
        (x.tank_calibration ? x.tank_calibration[x.tank_calibration.length - 1]!.litres : null),
    ]),
  );
  const tankOf = new Map(
    v.map((x) => [x.id, { tankLitres: x.tank_litres, calibration: x.tank_calibration }]),
  );
  const litres = (vehicleId: string | null, pct: number | null) => {
    const tank = vehicleId ? tankOf.get(vehicleId) : undefined;
    return pct === null || !tank ? null : litresAtLevel(pct, tank);
  };
  return {
    tanks,
    driverLogs: d.map((x) => ({
      id: Number(x.id),
      vehicleId: x.vehicle_id,
      ts: Number(x.ts),
      litres: x.litres,
      readingsAround: x.readings,
    })),
    purchases: p.map((x) => ({
      id: Number(x.id),
      vehicleId: x.vehicle_id,
      ts: Number(x.ts),
      litres: x.litres,
      lat: x.lat,
      lon: x.lon,
      cardId: x.card_id,
      readingsAround: x.readings,
      levelBeforeL: litres(x.vehicle_id, x.level_before_pct),
    })),
    refuels: r.map((x) => ({
      vehicleId: x.vehicle_id,
      eventId: Number(x.event_id),
      start: Number(x.start_ms),
      end: Number(x.end_ms),
      volumeL: x.volume_l,
      lat: x.lat,
      lon: x.lon,
      levelBeforeL: x.level_before_l ?? litres(x.vehicle_id, x.level_before_pct),
    })),
  };
}

/**
 * Replaces the tenant's verdicts for the period with these (delete, then insert), under an
 * advisory lock per tenant so two runs never interleave. Returns the number of rows written.
 */
export async function replaceFuelReconciliations(
  db: pg.PoolClient,
  tenantId: string,
  fromMs: number,
  toMs: number,
  verdicts: readonly Verdict[],
): Promise<number> {
  await db.query(`SELECT pg_advisory_xact_lock(727274009, hashtext($1))`, [tenantId]);
  await db.query(
    `DELETE FROM fuel_reconciliations
      WHERE tenant_id = $1 AND ts >= to_timestamp($2 / 1000.0) AND ts < to_timestamp($3 / 1000.0)`,
    [tenantId, fromMs, toMs],
  );
  if (verdicts.length === 0) return 0;
  const col = <T>(f: (v: Verdict) => T) => verdicts.map(f);
  const { rowCount } = await db.query(
    `INSERT INTO fuel_reconciliations (tenant_id, transaction_id, vehicle_id, event_vehicle_id, event_id, status,
                                       flags, reasons, ts, purchased_l, tank_rise_l, free_volume_l,
                                       time_offset_s, distance_m, refuel_log_id)
     SELECT $1, tx, v, ev, eid, st,
            ARRAY(SELECT jsonb_array_elements_text(fl)), ARRAY(SELECT jsonb_array_elements_text(re)),
            to_timestamp(ts / 1000.0), pl, rl, fv, tos, dm, lid
       FROM unnest($2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::jsonb[], $8::jsonb[],
                   $9::float8[], $10::float8[], $11::float8[], $12::float8[], $13::float8[], $14::float8[],
                   $15::bigint[])
            AS x(tx, v, ev, eid, st, fl, re, ts, pl, rl, fv, tos, dm, lid)`,
    [
      tenantId,
      col((v) => v.transactionId),
      col((v) => v.vehicleId),
      col((v) => v.event?.vehicleId ?? null),
      col((v) => v.event?.eventId ?? null),
      col((v) => v.status),
      col((v) => JSON.stringify(v.flags)),
      col((v) => JSON.stringify(v.reasons)),
      col((v) => v.ts),
      col((v) => v.purchasedL),
      col((v) => v.tankRiseL),
      col((v) => v.freeVolumeL),
      col((v) => v.timeOffsetS),
      col((v) => v.distanceM),
      col((v) => v.refuelLogId ?? null),
    ],
  );
  return rowCount ?? 0;
}
