import type pg from 'pg';

/** A tenant with users (password hashes are placeholders: these users never sign in here). */
export async function seedNotifyTenant(
  pool: pg.Pool,
  tenantId: string,
  users: { id: string; email: string; role?: string }[],
): Promise<void> {
  await pool.query('INSERT INTO tenants (id, name) VALUES ($1, $1) ON CONFLICT DO NOTHING', [tenantId]);
  for (const u of users)
    await pool.query(
      `INSERT INTO users (id, tenant_id, email, name, role, password_hash) VALUES ($1, $2, $3, $1, $4, 'x')`,
      [u.id, tenantId, u.email, u.role ?? 'fleet_manager'],
    );
}
