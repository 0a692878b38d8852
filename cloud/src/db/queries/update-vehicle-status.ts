import type pg from 'pg';

/** Status messages are retained and may be redelivered out of order: only a newer one counts. */
export async function updateVehicleStatus(
  db: pg.Pool | pg.PoolClient,
  vehicleId: string,
  online: boolean,
  ts: number,
) {
  await db.query(
    `UPDATE vehicles SET online = $2, status_at = to_timestamp($3 / 1000.0)
      WHERE id = $1 AND (status_at IS NULL OR status_at <= to_timestamp($3 / 1000.0))`,
    [vehicleId, online, ts],
  );
}
