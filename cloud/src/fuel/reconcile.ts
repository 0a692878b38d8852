/**
 * Reconciles a tenant's fuel-card purchases with its vehicles' detected refuels in the database:
 * load (db/queries/fuel-reconciliation.ts) -> judge (reconciliation.ts, pure) -> replace the
 * stored verdicts, in one transaction as the tenant.
 */
import type pg from 'pg';
import { loadReconciliationInputs, replaceFuelReconciliations } from '../db/queries/fuel-reconciliation.ts';
import { inTenant } from '../db/tenant.ts';
import { type ReconcileOptions, reconcileFuel, type Verdict } from './reconciliation.ts';

export interface ReconcileSummary {
  matched: number;
  flagged: number;
  unmatched: number;
  refuelsWithoutPurchase: number;
  verdicts: Verdict[];
}

/**
 * Reconciles one tenant's purchases of [from, to) (default: all) and stores the verdicts, in one
 * transaction as that tenant (row-level security). What the API and `fleet-cloud fuel reconcile`
 * call.
 */
export async function reconcileTenant(
  pool: pg.Pool,
  tenantId: string,
  period: { from?: Date; to?: Date } = {},
  opts: ReconcileOptions = {},
): Promise<ReconcileSummary> {
  const fromMs = period.from?.getTime() ?? Date.UTC(2000, 0, 1);
  const toMs = period.to?.getTime() ?? Date.UTC(2100, 0, 1);
  const windowMs = (opts.timeWindowMin ?? 30) * 60_000;
  return inTenant(pool, tenantId, async (c) => {
    const input = await loadReconciliationInputs(c, tenantId, fromMs, toMs, windowMs);
    const verdicts = reconcileFuel(input, opts, { fromMs, toMs });
    await replaceFuelReconciliations(c, tenantId, fromMs, toMs, verdicts);
    return {
      matched: verdicts.filter((v) => v.status === 'matched').length,
      flagged: verdicts.filter((v) => v.status === 'flagged').length,
      unmatched: verdicts.filter((v) => v.status === 'unmatched').length,
      refuelsWithoutPurchase: verdicts.filter((v) => v.transactionId === null).length,
      verdicts,
    };
  });
}
