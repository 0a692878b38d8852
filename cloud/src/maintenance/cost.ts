/**
 * A vehicle's cost over a period: fuel (the fuel-card purchases) plus maintenance (the parts and
 * labour of its work orders, dated by completion, or by opening while still open), per currency.
 * Sums are taken in the database's numeric and returned as decimal strings.
 *
 * `maintenanceCostByVehicle` is the join point for the cost reports (cloud/src/reports/cost):
 * one row per (vehicle, currency).
 */
import type pg from 'pg';

type Db = Pick<pg.ClientBase, 'query'>;

export interface MaintenanceCostRow {
  vehicleId: string;
  currency: string;
  parts: string;
  labour: string;
  total: string;
  workOrders: number;
}

/** Work orders not cancelled, dated by done_at (or opened_at while open) in [from, to). */
export async function maintenanceCostByVehicle(
  db: Db,
  tenantId: string,
  range: { from: number; to: number },
  vehicleId?: string,
): Promise<MaintenanceCostRow[]> {
  const { rows } = await db.query<{
    vehicle_id: string;
    currency: string;
    parts: string;
    labour: string;
    total: string;
    orders: number;
  }>(
    `SELECT o.vehicle_id, o.currency,
            coalesce(sum(l.amount) FILTER (WHERE l.kind = 'part'), 0)::numeric(14, 2)::text AS parts,
            coalesce(sum(l.amount) FILTER (WHERE l.kind = 'labour'), 0)::numeric(14, 2)::text AS labour,
            coalesce(sum(l.amount), 0)::numeric(14, 2)::text AS total,
            count(DISTINCT o.id)::int AS orders
       FROM work_orders o LEFT JOIN work_order_lines l ON l.work_order_id = o.id
      WHERE o.tenant_id = $1 AND o.status <> 'cancelled' AND ($4::text IS NULL OR o.vehicle_id = $4)
        AND coalesce(o.done_at, o.opened_at) >= $2 AND coalesce(o.done_at, o.opened_at) < $3
      GROUP BY o.vehicle_id, o.currency ORDER BY o.vehicle_id, o.currency`,
    [tenantId, new Date(range.from), new Date(range.to), vehicleId ?? null],
  );
  return rows.map((r) => ({
    vehicleId: r.vehicle_id,
    currency: r.currency,
    parts: r.parts,
    labour: r.labour,
    total: r.total,
    workOrders: r.orders,
  }));
}

export interface VehicleCost {
  vehicleId: string;
  /** Per currency: fuel, maintenance and their sum (decimal strings). */
  byCurrency: { currency: string; fuel: string; maintenance: string; total: string }[];
  /** Fuel purchases without an amount or currency (litres known, cost not). */
  fuelUnpriced: number;
}

/** Fuel + maintenance of one vehicle over [from, to). */
export async function vehicleCost(
  db: Db,
  tenantId: string,
  vehicleId: string,
  range: { from: number; to: number },
): Promise<VehicleCost> {
  const { rows } = await db.query<{ currency: string; fuel: string; maintenance: string; total: string }>(
    `WITH fuel AS (
       SELECT currency, sum(amount) AS amount FROM fuel_transactions
        WHERE tenant_id = $1 AND vehicle_id = $2 AND ts >= $3 AND ts < $4
          AND amount IS NOT NULL AND currency IS NOT NULL
        GROUP BY currency
     ), maint AS (
       SELECT o.currency, sum(l.amount) AS amount
         FROM work_orders o JOIN work_order_lines l ON l.work_order_id = o.id
        WHERE o.tenant_id = $1 AND o.vehicle_id = $2 AND o.status <> 'cancelled'
          AND coalesce(o.done_at, o.opened_at) >= $3 AND coalesce(o.done_at, o.opened_at) < $4
        GROUP BY o.currency
     )
     SELECT coalesce(f.currency, m.currency) AS currency,
            coalesce(f.amount, 0)::numeric(14, 2)::text AS fuel,
            coalesce(m.amount, 0)::numeric(14, 2)::text AS maintenance,
            (coalesce(f.amount, 0) + coalesce(m.amount, 0))::numeric(14, 2)::text AS total
       FROM fuel f FULL JOIN maint m ON m.currency = f.currency
      ORDER BY 1`,
    [tenantId, vehicleId, new Date(range.from), new Date(range.to)],
  );
  const { rows: unpriced } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM fuel_transactions
      WHERE tenant_id = $1 AND vehicle_id = $2 AND ts >= $3 AND ts < $4 AND (amount IS NULL OR currency IS NULL)`,
    [tenantId, vehicleId, new Date(range.from), new Date(range.to)],
  );
  return { vehicleId, byCurrency: rows, fuelUnpriced: unpriced[0]?.n ?? 0 };
}
