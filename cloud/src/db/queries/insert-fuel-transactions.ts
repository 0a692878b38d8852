import type pg from 'pg';
import type { FuelCardTransaction } from '../../fuel/transaction.ts';

export type FuelTransactionSource = 'webhook' | 'csv' | 'manual';

export interface FuelTransactionRow {
  tx: FuelCardTransaction;
  /** What the provider sent, kept for disputes (the CSV row as an object, the webhook item). */
  raw: unknown;
}

/**
 * Idempotent on (tenant, source, external id): a file imported twice or a webhook delivered twice
 * stores one row. Returns the external ids that were new. Runs inside the tenant's transaction
 * (inTenant: RLS checks the tenant of every row).
 */
export async function insertFuelTransactions(
  db: pg.PoolClient,
  tenantId: string,
  source: FuelTransactionSource,
  rows: readonly FuelTransactionRow[],
): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const col = <T>(f: (t: FuelCardTransaction) => T | undefined) => rows.map((r) => f(r.tx) ?? null);
  const { rows: inserted } = await db.query<{ external_id: string }>(
    `INSERT INTO fuel_transactions (tenant_id, source, external_id, ts, litres, amount, currency, fuel_type,
                                    station, lat, lon, card_id, vehicle_id, driver_id, odometer_km, raw)
     SELECT $1, $2, x, to_timestamp(ts / 1000.0), l, a, c, f, s, lat, lon, card, v, d, o, r
       FROM unnest($3::text[], $4::float8[], $5::float8[], $6::numeric[], $7::text[], $8::text[], $9::text[],
                   $10::float8[], $11::float8[], $12::text[], $13::text[], $14::text[], $15::float8[], $16::jsonb[])
            AS t(x, ts, l, a, c, f, s, lat, lon, card, v, d, o, r)
     ON CONFLICT (tenant_id, source, external_id) DO NOTHING
     RETURNING external_id`,
    [
      tenantId,
      source,
      col((t) => t.externalId),
      col((t) => t.ts),
      col((t) => t.litres),
      col((t) => t.amount),
      col((t) => t.currency),
      col((t) => t.fuelType),
      col((t) => t.station),
      col((t) => t.lat),
      col((t) => t.lon),
      col((t) => t.cardId),
      col((t) => t.vehicleId),
      col((t) => t.driverId),
      col((t) => t.odometerKm),
      rows.map((r) => JSON.stringify(r.raw ?? {})),
    ],
  );
  return new Set(inserted.map((r) => r.external_id));
}

/** Which of these vehicle ids belong to the tenant (explicit filter: also right outside RLS). */
export async function knownVehicles(
  db: pg.PoolClient,
  tenantId: string,
  vehicleIds: readonly string[],
): Promise<Set<string>> {
  if (vehicleIds.length === 0) return new Set();
  const { rows } = await db.query<{ id: string }>(
    'SELECT id FROM vehicles WHERE tenant_id = $1 AND id = ANY($2::text[])',
    [tenantId, [...new Set(vehicleIds)]],
  );
  return new Set(rows.map((r) => r.id));
}
