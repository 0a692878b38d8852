/**
 * The periodic half of reconciliation on arrival (issue 17 §1). Purchases and drivers' logs are
 * judged when they arrive (webhook-inbox.ts, csv-import.ts, `refuels.log`), but the vehicle's
 * detected refuel often comes later: an agent offline in a yard backfills a day of events, so a
 * purchase judged `unmatched` (no data yet) or `no_tank_rise` must be judged again when the refuel
 * lands. Every `FLEET_FUEL_RECONCILE_SWEEP_MS` this finds, per tenant, the refuel events received
 * since the last sweep and the purchases and logs still without a verdict (a reconciliation that
 * failed after its purchase was stored), and reconciles the span around them as the tenant.
 *
 * The finding query runs as the owner across tenants (a system job, like the inbox drain), every
 * row naming its tenant; the reconciliation itself runs inside inTenant().
 */
import type { Logger } from '@fleet/shared/log';
import type pg from 'pg';
import { Periodic } from '../periodic.ts';
import { periodAround, reconcileTenant } from './reconcile.ts';

/** Pending purchases and logs older than this are left to `fleet-cloud fuel reconcile`. */
export const SWEEP_LOOKBACK_DAYS = 31;
/**
 * received_at is the inserting transaction's start: an event committed just after the previous
 * sweep read now() may carry an earlier stamp, so each sweep looks this far behind its watermark
 * (re-reconciling a span is idempotent).
 */
const WATERMARK_OVERLAP_S = 60;

export interface FuelSweepResult {
  tenants: number;
  matched: number;
  flagged: number;
  unmatched: number;
}

/**
 * One sweep. `since`: the watermark the previous sweep returned (null: the first sweep of this
 * process, which looks back `SWEEP_LOOKBACK_DAYS`). Returns the next watermark.
 */
export async function sweepFuelReconciliation(
  pool: pg.Pool,
  since: Date | null,
  log: Logger,
): Promise<{ result: FuelSweepResult; watermark: Date }> {
  const { rows } = await pool.query<{ tenant_id: string; first_ms: number; last_ms: number; now: Date }>(
    `WITH mark AS (
       SELECT coalesce($1::timestamptz - make_interval(secs => $3), now() - make_interval(days => $2)) AS since,
              now() - make_interval(days => $2) AS horizon
     ), spans AS (
       SELECT e.tenant_id, min(e.start_ts) AS first, max(e.end_ts) AS last
         FROM vehicle_events e, mark
        WHERE e.type = 'refuel' AND e.received_at > mark.since
        GROUP BY e.tenant_id
       UNION ALL
       SELECT t.tenant_id, min(t.ts), max(t.ts)
         FROM fuel_transactions t, mark
        WHERE t.ts > mark.horizon
          AND NOT EXISTS (SELECT 1 FROM fuel_reconciliations r WHERE r.transaction_id = t.id)
        GROUP BY t.tenant_id
       UNION ALL
       SELECT l.tenant_id, min(l.ts), max(l.ts)
         FROM refuel_logs l, mark
        WHERE l.ts > mark.horizon
          AND NOT EXISTS (SELECT 1 FROM fuel_reconciliations r WHERE r.refuel_log_id = l.id)
        GROUP BY l.tenant_id
     )
     SELECT tenant_id, extract(epoch FROM min(first)) * 1000 AS first_ms,
            extract(epoch FROM max(last)) * 1000 AS last_ms, now() AS now
       FROM spans GROUP BY tenant_id
     UNION ALL SELECT NULL, NULL, NULL, now()`,
    [since, SWEEP_LOOKBACK_DAYS, WATERMARK_OVERLAP_S],
  );
  const result: FuelSweepResult = { tenants: 0, matched: 0, flagged: 0, unmatched: 0 };
  for (const row of rows) {
    if (row.tenant_id === null) continue;
    try {
      const s = await reconcileTenant(
        pool,
        row.tenant_id,
        periodAround(Number(row.first_ms), Number(row.last_ms)),
      );
      result.tenants++;
      result.matched += s.matched;
      result.flagged += s.flagged;
      result.unmatched += s.unmatched;
    } catch (err) {
      // One tenant's failure must not hold up the others; its items are found again next time.
      log.warn(
        { tenant: row.tenant_id, err: (err as Error).message },
        'fuel reconciliation sweep failed for a tenant',
      );
    }
  }
  return { result, watermark: rows[rows.length - 1]!.now };
}

/** Runs `sweepFuelReconciliation` every `intervalMs` in the cloud process; 0 = off. */
export class FuelReconcileSweeper extends Periodic<Awaited<ReturnType<typeof sweepFuelReconciliation>>> {
  constructor(pool: pg.Pool, intervalMs: number, log: Logger) {
    let watermark: Date | null = null;
    super({
      intervalMs,
      name: 'fuel reconciliation sweep',
      log,
      pass: () => sweepFuelReconciliation(pool, watermark, log),
      onDone: ({ result, watermark: next }) => {
        watermark = next;
        if (result.tenants > 0) log.info(result, 'fuel reconciliation sweep');
      },
    });
  }
}
