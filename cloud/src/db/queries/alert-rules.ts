import type pg from 'pg';
import { type AlertRule, type AlertRuleDefinition, AlertRuleInput } from '../../alerts/rules/rule.ts';

interface RuleRow {
  id: number;
  tenant_id: string;
  enabled: boolean;
  definition: unknown;
}

/**
 * A stored definition through the schema again: a rule written by an older version parses with
 * today's defaults, and one that no longer parses is skipped (logged by the caller), never run.
 */
function toRule(r: RuleRow): AlertRule | null {
  const parsed = AlertRuleInput.safeParse(r.definition);
  if (!parsed.success) return null;
  return { ...parsed.data, enabled: r.enabled, id: r.id, tenantId: r.tenant_id };
}

/** The enabled rules of these tenants (the ingest's lookup; it runs as the owner). */
export async function findEnabledRules(
  db: pg.ClientBase,
  tenantIds: readonly string[],
): Promise<AlertRule[]> {
  if (tenantIds.length === 0) return [];
  const { rows } = await db.query<RuleRow>(
    'SELECT id, tenant_id, enabled, definition FROM alert_rules WHERE tenant_id = ANY($1::text[]) AND enabled',
    [tenantIds],
  );
  return rows.flatMap((r) => toRule(r) ?? []);
}

/** Every rule of the tenant the caller's transaction runs as (row-level security). */
export async function listRules(db: pg.ClientBase): Promise<AlertRule[]> {
  const { rows } = await db.query<RuleRow>(
    'SELECT id, tenant_id, enabled, definition FROM alert_rules ORDER BY name, id',
  );
  return rows.flatMap((r) => toRule(r) ?? []);
}

export async function getRule(db: pg.ClientBase, id: number): Promise<AlertRule | null> {
  const { rows } = await db.query<RuleRow>(
    'SELECT id, tenant_id, enabled, definition FROM alert_rules WHERE id = $1',
    [id],
  );
  return rows[0] ? toRule(rows[0]) : null;
}

export async function insertRule(
  db: pg.ClientBase,
  tenantId: string,
  rule: AlertRuleDefinition,
  createdBy: string,
): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO alert_rules (tenant_id, name, source, enabled, definition, created_by)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
    [tenantId, rule.name, rule.source, rule.enabled, JSON.stringify(rule), createdBy],
  );
  return rows[0]!.id;
}

/** Returns false when no such rule is visible. */
export async function updateRule(db: pg.ClientBase, id: number, rule: AlertRuleDefinition): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE alert_rules SET name = $2, source = $3, enabled = $4, definition = $5, updated_at = now()
      WHERE id = $1`,
    [id, rule.name, rule.source, rule.enabled, JSON.stringify(rule)],
  );
  return (rowCount ?? 0) > 0;
}

export async function deleteRule(db: pg.ClientBase, id: number): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM alert_rules WHERE id = $1', [id]);
  return (rowCount ?? 0) > 0;
}
