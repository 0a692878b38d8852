/**
 * The monthly fuel budgets (migration 000023): listed for a span of months, set or removed one
 * (scope, key, month) at a time. Who set it and when is kept on the row.
 */
import type pg from 'pg';
import type { BudgetScope } from './cost-vs-budget.ts';

export interface FuelBudget {
  scope: BudgetScope;
  /** '' for the fleet, a group id, a cost centre's name or a vehicle id. */
  scopeKey: string;
  /** YYYY-MM */
  month: string;
  amount: number;
  currency: string;
  updatedBy: string;
  updatedAt: number;
}

export async function listFuelBudgets(
  db: Pick<pg.PoolClient, 'query'>,
  q: { tenantId: string; fromMonth: string; toMonth: string },
): Promise<FuelBudget[]> {
  const { rows } = await db.query<{
    scope: BudgetScope;
    scope_key: string;
    month: string;
    amount: string;
    currency: string;
    updated_by: string;
    updated_at: Date;
  }>(
    `SELECT scope, scope_key, to_char(month, 'YYYY-MM') AS month, amount::text AS amount, currency, updated_by, updated_at
       FROM fuel_budgets
      WHERE tenant_id = $1 AND month >= ($2 || '-01')::date AND month <= ($3 || '-01')::date
      ORDER BY month, scope, scope_key`,
    [q.tenantId, q.fromMonth, q.toMonth],
  );
  return rows.map((r) => ({
    scope: r.scope,
    scopeKey: r.scope_key,
    month: r.month,
    amount: Number(r.amount),
    currency: r.currency,
    updatedBy: r.updated_by,
    updatedAt: r.updated_at.getTime(),
  }));
}

/** Sets (amount) or removes (null) one month's budget of one scope. */
export async function setFuelBudget(
  db: Pick<pg.PoolClient, 'query'>,
  b: {
    tenantId: string;
    scope: BudgetScope;
    scopeKey: string;
    month: string;
    amount: number | null;
    currency: string;
    userId: string;
  },
): Promise<void> {
  if (b.amount === null) {
    await db.query(
      `DELETE FROM fuel_budgets WHERE tenant_id = $1 AND scope = $2 AND scope_key = $3 AND month = ($4 || '-01')::date`,
      [b.tenantId, b.scope, b.scopeKey, b.month],
    );
    return;
  }
  await db.query(
    `INSERT INTO fuel_budgets (tenant_id, scope, scope_key, month, amount, currency, updated_by)
     VALUES ($1, $2, $3, ($4 || '-01')::date, $5, $6, $7)
     ON CONFLICT (tenant_id, scope, scope_key, month)
     DO UPDATE SET amount = EXCLUDED.amount, currency = EXCLUDED.currency,
                   updated_by = EXCLUDED.updated_by, updated_at = now()`,
    [b.tenantId, b.scope, b.scopeKey, b.month, b.amount.toFixed(2), b.currency, b.userId],
  );
}
