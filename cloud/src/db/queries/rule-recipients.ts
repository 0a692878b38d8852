import type pg from 'pg';
import type { RuleRecipients } from '../../alerts/rules/rule.ts';

/**
 * The active users a rule names: by id, by role, and the vehicle's driver. Filters by tenant
 * itself: the ingest runs as the owner, outside row-level security.
 */
export async function findRecipientUsers(
  db: pg.ClientBase,
  tenantId: string,
  r: RuleRecipients,
  vehicleId: string | null,
): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM users
      WHERE tenant_id = $1 AND deactivated_at IS NULL
        AND (id = ANY($2::text[]) OR role = ANY($3::text[])
             OR ($4 AND role = 'driver' AND vehicle_id IS NOT DISTINCT FROM $5))
      ORDER BY id`,
    [tenantId, r.userIds, r.roles, r.driver, vehicleId],
  );
  return rows.map((u) => u.id);
}

/** The tenant's webhook endpoints (a rule with the webhook channel posts to each). */
export async function findTenantWebhooks(db: pg.ClientBase, tenantId: string): Promise<number[]> {
  const { rows } = await db.query<{ id: number }>(
    'SELECT id FROM notification_webhooks WHERE tenant_id = $1 ORDER BY id',
    [tenantId],
  );
  return rows.map((w) => w.id);
}
