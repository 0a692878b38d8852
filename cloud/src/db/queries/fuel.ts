import { type CalibrationPoint, litresAtLevel } from '@fleet/shared';
import type pg from 'pg';

export const RECONCILIATION_STATUSES = ['matched', 'flagged', 'unmatched', 'pending'] as const;
export type ReconciliationStatus = (typeof RECONCILIATION_STATUSES)[number];

export interface FuelTransaction {
  id: number;
  vehicleId: string | null;
  source: string;
  ts: number;
  litres: number;
  amount: number | null;
  currency: string | null;
  fuelType: string | null;
  station: string | null;
  cardId: string | null;
  driverId: string | null;
  /** pending: not reconciled yet. */
  status: ReconciliationStatus;
  flags: string[];
  reasons: string[];
}

/** Purchases newest first with their reconciliation verdict (H4's fuel_reconciliations), after the cursor. */
export async function listFuelTransactions(
  db: pg.PoolClient,
  q: {
    tenantId: string;
    vehicleId: string | null;
    statuses: ReconciliationStatus[] | null;
    fuelType: string | null;
    from: number | null;
    to: number | null;
    limit: number;
    after: { ts: number; id: number } | null;
  },
): Promise<FuelTransaction[]> {
  const { rows } = await db.query<{
    id: number;
    vehicle_id: string | null;
    source: string;
    ts: Date;
    litres: number;
    amount: string | null;
    currency: string | null;
    fuel_type: string | null;
    station: string | null;
    card_id: string | null;
    driver_id: string | null;
    status: ReconciliationStatus;
    flags: string[];
    reasons: string[];
  }>(
    `SELECT t.id, t.vehicle_id, t.source, t.ts, t.litres, t.amount, t.currency, t.fuel_type, t.station,
            t.card_id, coalesce(assigned_driver(t.vehicle_id, t.ts), t.driver_id) AS driver_id,
            coalesce(r.status, 'pending') AS status,
            coalesce(r.flags, '{}') AS flags, coalesce(r.reasons, '{}') AS reasons
       FROM fuel_transactions t
       LEFT JOIN fuel_reconciliations r ON r.transaction_id = t.id
      WHERE t.tenant_id = $1 AND ($2::text IS NULL OR t.vehicle_id = $2)
        AND ($3::text[] IS NULL OR coalesce(r.status, 'pending') = ANY ($3))
        AND ($4::text IS NULL OR t.fuel_type = $4)
        AND ($5::float8 IS NULL OR t.ts >= to_timestamp($5 / 1000.0))
        AND ($6::float8 IS NULL OR t.ts < to_timestamp($6 / 1000.0))
        AND ($7::float8 IS NULL OR (t.ts, t.id) < (to_timestamp($7 / 1000.0), $8::bigint))
      ORDER BY t.ts DESC, t.id DESC LIMIT $9`,
    [
      q.tenantId,
      q.vehicleId,
      q.statuses,
      q.fuelType,
      q.from,
      q.to,
      q.after?.ts ?? null,
      q.after?.id ?? null,
      q.limit,
    ],
  );
  return rows.map((r) => ({
    id: r.id,
    vehicleId: r.vehicle_id,
    source: r.source,
    ts: r.ts.getTime(),
    litres: r.litres,
    amount: r.amount === null ? null : Number(r.amount),
    currency: r.currency,
    fuelType: r.fuel_type,
    station: r.station,
    cardId: r.card_id,
    driverId: r.driver_id,
    status: r.status,
    flags: r.flags,
    reasons: r.reasons,
  }));
}

export interface DriverRefuel {
  id: number;
  vehicleId: string;
  userId: string;
  ts: number;
  litres: number;
  amount: number | null;
  currency: string | null;
  fuelType: string;
  station: string | null;
  /** pending: not reconciled yet. */
  status: ReconciliationStatus;
  flags: string[];
  reasons: string[];
  /** The receipt photo the driver attached (migration 000031), served at GET /receipts/<id>. */
  receipt: { sha256: string; sizeBytes: number } | null;
}

/** Drivers' logged refuels newest first with their reconciliation verdict, after the cursor. */
export async function listDriverRefuels(
  db: pg.PoolClient,
  q: {
    tenantId: string;
    vehicleId: string | null;
    statuses: ReconciliationStatus[] | null;
    limit: number;
    after: { ts: number; id: number } | null;
  },
): Promise<DriverRefuel[]> {
  const { rows } = await db.query<{
    id: number;
    vehicle_id: string;
    user_id: string;
    ts: Date;
    litres: number;
    amount: string | null;
    currency: string | null;
    fuel_type: string;
    station: string | null;
    status: ReconciliationStatus;
    flags: string[];
    reasons: string[];
    receipt_sha256: string | null;
    receipt_size: number | null;
  }>(
    `SELECT l.id::int AS id, l.vehicle_id, l.user_id, l.ts, l.litres, l.amount, l.currency, l.fuel_type, l.station,
            coalesce(r.status, 'pending') AS status,
            coalesce(r.flags, '{}') AS flags, coalesce(r.reasons, '{}') AS reasons,
            rr.sha256 AS receipt_sha256, rr.size_bytes AS receipt_size
       FROM refuel_logs l
       LEFT JOIN fuel_reconciliations r ON r.refuel_log_id = l.id
       LEFT JOIN refuel_receipts rr ON rr.refuel_log_id = l.id
      WHERE l.tenant_id = $1 AND ($2::text IS NULL OR l.vehicle_id = $2)
        AND ($3::text[] IS NULL OR coalesce(r.status, 'pending') = ANY ($3))
        AND ($4::float8 IS NULL OR (l.ts, l.id) < (to_timestamp($4 / 1000.0), $5::bigint))
      ORDER BY l.ts DESC, l.id DESC LIMIT $6`,
    [q.tenantId, q.vehicleId, q.statuses, q.after?.ts ?? null, q.after?.id ?? null, q.limit],
  );
  return rows.map((r) => ({
    id: r.id,
    vehicleId: r.vehicle_id,
    userId: r.user_id,
    ts: r.ts.getTime(),
    litres: r.litres,
    amount: r.amount === null ? null : Number(r.amount),
    currency: r.currency,
    fuelType: r.fuel_type,
    station: r.station,
    status: r.status,
    flags: r.flags,
    reasons: r.reasons,
    receipt: r.receipt_sha256 === null ? null : { sha256: r.receipt_sha256, sizeBytes: r.receipt_size ?? 0 },
  }));
}

export interface Consumption {
  km: number;
  /** Sum of the hourly mean fuel level's falls (rises are refuels), in percent of the tank. */
  usedPct: number;
  tankLitres: number | null;
  /** The falls in litres (through the calibration table when the vehicle has one), minus what drain/leak events say was lost; null without a tank size. */
  consumedL: number | null;
  lostL: number;
  refuelledL: number;
  purchasedL: number;
  /** consumedL per 100 km; null without a tank size or under 1 km. */
  litresPer100Km: number | null;
}

/**
 * A vehicle's consumption over [from, to): distance and fuel level from the rollups (hourly means,
 * so sloshing in the tank does not count as use), losses and refuels from its events, purchases
 * from the fuel-card transactions.
 */
export async function vehicleConsumption(
  db: pg.PoolClient,
  q: { tenantId: string; vehicleId: string; from: number; to: number },
): Promise<Consumption> {
  const { rows } = await db.query<{
    km: number;
    hourly_pct: number[];
    tank: number | null;
    calibration: CalibrationPoint[] | null;
    lost: number;
    refuelled: number;
    purchased: number;
  }>(
    `WITH m AS (
       SELECT minute, speed_avg, (fuel_min + fuel_max) / 2 AS fuel FROM telemetry_minute
        WHERE tenant_id = $1 AND vehicle_id = $2
          AND minute >= to_timestamp($3 / 1000.0) AND minute < to_timestamp($4 / 1000.0)),
     h AS (SELECT date_trunc('hour', minute) AS hour, avg(fuel) AS fuel FROM m WHERE fuel IS NOT NULL GROUP BY 1)
     SELECT coalesce((SELECT sum(speed_avg) / 60.0 FROM m), 0)::float8 AS km,
            coalesce((SELECT array_agg(fuel::float8 ORDER BY hour) FROM h), '{}') AS hourly_pct,
            (SELECT tank_litres FROM vehicles WHERE id = $2 AND tenant_id = $1)::float8 AS tank,
            (SELECT tank_calibration FROM vehicles WHERE id = $2 AND tenant_id = $1) AS calibration,
            coalesce((SELECT sum(volume_l) FROM vehicle_events
                       WHERE tenant_id = $1 AND vehicle_id = $2 AND type IN ('fuel_drain', 'fuel_leak')
                         AND start_ts >= to_timestamp($3 / 1000.0) AND start_ts < to_timestamp($4 / 1000.0)), 0)::float8 AS lost,
            coalesce((SELECT sum(volume_l) FROM vehicle_events
                       WHERE tenant_id = $1 AND vehicle_id = $2 AND type = 'refuel'
                         AND start_ts >= to_timestamp($3 / 1000.0) AND start_ts < to_timestamp($4 / 1000.0)), 0)::float8 AS refuelled,
            coalesce((SELECT sum(litres) FROM fuel_transactions
                       WHERE tenant_id = $1 AND vehicle_id = $2
                         AND ts >= to_timestamp($3 / 1000.0) AND ts < to_timestamp($4 / 1000.0)), 0)::float8 AS purchased`,
    [q.tenantId, q.vehicleId, q.from, q.to],
  );
  const r = rows[0]!;
  const round = (x: number) => Math.round(x * 10) / 10;
  // Falls of the hourly mean, in % and, through the vehicle's tank (calibration table or linear
  // capacity: shared/src/tank-calibration.ts), in litres: on a shaped tank the same % fall is
  // more or fewer litres depending on the level it happens at.
  const tank = { tankLitres: r.tank, calibration: r.calibration };
  let usedPct = 0;
  let usedL: number | null = litresAtLevel(0, tank) === null ? null : 0;
  for (let i = 1; i < r.hourly_pct.length; i++) {
    const before = r.hourly_pct[i - 1]!;
    const after = r.hourly_pct[i]!;
    if (after >= before) continue;
    usedPct += before - after;
    if (usedL !== null) usedL += litresAtLevel(before, tank)! - litresAtLevel(after, tank)!;
  }
  const consumedL = usedL === null ? null : Math.max(0, usedL - r.lost);
  return {
    km: round(r.km),
    usedPct: round(usedPct),
    tankLitres: r.tank ?? (r.calibration ? r.calibration[r.calibration.length - 1]!.litres : null),
    consumedL: consumedL === null ? null : round(consumedL),
    lostL: round(r.lost),
    refuelledL: round(r.refuelled),
    purchasedL: round(r.purchased),
    litresPer100Km: consumedL !== null && r.km >= 1 ? Math.round((consumedL / r.km) * 1000) / 10 : null,
  };
}
