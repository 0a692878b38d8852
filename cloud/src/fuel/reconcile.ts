/**
 * Reconciles a tenant's fuel-card purchases and drivers' logged refuels with its vehicles'
 * detected refuels in the database: load (db/queries/fuel-reconciliation.ts) -> judge
 * (reconciliation.ts, pure) -> replace the stored verdicts, in one transaction as the tenant.
 *
 * Runs when a purchase or a driver's log arrives (webhook inbox, CSV import, `refuels.log`), for
 * the span around it, and again from `FuelReconcileSweeper` (reconcile-sweep.ts) when a detected
 * refuel arrives late; `fleet-cloud fuel reconcile` reruns any period.
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
  return inTenant(pool, tenantId, (c) => reconcileInTransaction(c, tenantId, period, opts));
}

/**
 * `reconcileTenant` inside a transaction the caller already holds as the tenant (inTenant), so a
 * stored purchase or driver's log and its verdict commit together.
 */
export async function reconcileInTransaction(
  c: pg.PoolClient,
  tenantId: string,
  period: { from?: Date; to?: Date } = {},
  opts: ReconcileOptions = {},
): Promise<ReconcileSummary> {
  const fromMs = period.from?.getTime() ?? Date.UTC(2000, 0, 1);
  const toMs = period.to?.getTime() ?? Date.UTC(2100, 0, 1);
  const windowMs = (opts.timeWindowMin ?? 30) * 60_000;
  // Purchases and logs just outside the period are loaded too (they get no verdict): they may
  // claim a refuel inside it, which must then not be reported as a refuel without a purchase.
  const input = await loadReconciliationInputs(
    c,
    tenantId,
    fromMs - 2 * windowMs,
    toMs + 2 * windowMs,
    windowMs,
  );
  const verdicts = reconcileFuel(input, opts, { fromMs, toMs });
  await replaceFuelReconciliations(c, tenantId, fromMs, toMs, verdicts);
  return {
    matched: verdicts.filter((v) => v.status === 'matched').length,
    flagged: verdicts.filter((v) => v.status === 'flagged').length,
    unmatched: verdicts.filter((v) => v.status === 'unmatched').length,
    refuelsWithoutPurchase: verdicts.filter((v) => v.transactionId === null && !v.refuelLogId).length,
    verdicts,
  };
}

/**
 * The period to reconcile when items of [firstMs, lastMs] arrive: wide enough that every verdict
 * a new item can change (its own, the refuels it may take, the purchases and logs competing for
 * those) is recomputed, with the default window's margins.
 */
export function periodAround(
  firstMs: number,
  lastMs: number,
  opts: ReconcileOptions = {},
): { from: Date; to: Date } {
  const windowMs = (opts.timeWindowMin ?? 30) * 60_000;
  return { from: new Date(firstMs - 4 * windowMs), to: new Date(lastMs + 4 * windowMs + 1) };
}
