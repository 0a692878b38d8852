import type pg from 'pg';

/** A vehicle of the tenant with its device, if it has had one (devices, migration 000014). */
export interface DeviceRow {
  vehicleId: string;
  /** 'none': never provisioned. */
  status: 'none' | 'active' | 'revoked';
  mqttUsername: string | null;
  provisionedAt: number | null;
  provisionedBy: string | null;
  rotatedAt: number | null;
  revokedAt: number | null;
}

interface Raw {
  vehicle_id: string;
  status: 'active' | 'revoked' | null;
  mqtt_username: string | null;
  provisioned_at: Date | null;
  provisioned_by: string | null;
  rotated_at: Date | null;
  revoked_at: Date | null;
}

const ms = (d: Date | null) => (d ? d.getTime() : null);

/** Every vehicle of the tenant (RLS) with its device, by vehicle id; `vehicleId` narrows it to one. */
export async function listDevices(
  db: pg.PoolClient,
  tenantId: string,
  vehicleId?: string,
): Promise<DeviceRow[]> {
  const { rows } = await db.query<Raw>(
    `SELECT v.id AS vehicle_id, d.status, d.mqtt_username, d.provisioned_at, d.provisioned_by,
            d.rotated_at, d.revoked_at
       FROM vehicles v LEFT JOIN devices d ON d.vehicle_id = v.id
      WHERE v.tenant_id = $1 AND ($2::text IS NULL OR v.id = $2)
      ORDER BY v.id`,
    [tenantId, vehicleId ?? null],
  );
  return rows.map((r) => ({
    vehicleId: r.vehicle_id,
    status: r.status ?? 'none',
    mqttUsername: r.mqtt_username,
    provisionedAt: ms(r.provisioned_at),
    provisionedBy: r.provisioned_by,
    rotatedAt: ms(r.rotated_at),
    revokedAt: ms(r.revoked_at),
  }));
}

/** A new active device or a fresh start after a revocation (same row: one device per vehicle). */
export async function upsertActiveDevice(
  db: pg.PoolClient,
  d: { tenantId: string; vehicleId: string; username: string; passwordHash: string; actor: string },
): Promise<void> {
  await db.query(
    `INSERT INTO devices (vehicle_id, tenant_id, mqtt_username, password_hash, status, provisioned_by)
     VALUES ($1, $2, $3, $4, 'active', $5)
     ON CONFLICT (vehicle_id) DO UPDATE
        SET mqtt_username = EXCLUDED.mqtt_username, password_hash = EXCLUDED.password_hash,
            status = 'active', provisioned_at = now(), provisioned_by = EXCLUDED.provisioned_by,
            rotated_at = NULL, revoked_at = NULL`,
    [d.vehicleId, d.tenantId, d.username, d.passwordHash, d.actor],
  );
}

export async function rotateDevicePassword(
  db: pg.PoolClient,
  vehicleId: string,
  passwordHash: string,
): Promise<void> {
  await db.query(`UPDATE devices SET password_hash = $2, rotated_at = now() WHERE vehicle_id = $1`, [
    vehicleId,
    passwordHash,
  ]);
}

export async function markDeviceRevoked(db: pg.PoolClient, vehicleId: string): Promise<void> {
  await db.query(`UPDATE devices SET status = 'revoked', revoked_at = now() WHERE vehicle_id = $1`, [
    vehicleId,
  ]);
}

/** The device of a vehicle, locked until the transaction ends (two admins rotating at once wait). */
export async function lockDevice(
  db: pg.PoolClient,
  vehicleId: string,
): Promise<{ status: 'active' | 'revoked'; username: string } | null> {
  const { rows } = await db.query<{ status: 'active' | 'revoked'; mqtt_username: string }>(
    'SELECT status, mqtt_username FROM devices WHERE vehicle_id = $1 FOR UPDATE',
    [vehicleId],
  );
  return rows[0] ? { status: rows[0].status, username: rows[0].mqtt_username } : null;
}
