/**
 * The daily rescore (issue 19 §1: a rolling window recomputed daily). Every
 * `FLEET_SCORE_SWEEP_MS` (default hourly) each tenant with drivers gets today's scores, and
 * yesterday's once more (the day's last events and late backfills land after midnight), each
 * tenant in its own inTenant() transaction; `fleet-cloud drivers rescore` does the same by hand.
 * Rescoring a day replaces its rows, so running it again is harmless.
 */
import type { Logger } from '@fleet/shared/log';
import type pg from 'pg';
import { inTenant } from '../../db/tenant.ts';
import { Periodic } from '../../periodic.ts';
import { addDays, dayOf, rescoreDay } from './rescore.ts';

export interface RescoreResult {
  tenants: number;
  days: string[];
  drivers: number;
  scored: number;
}

/** Rescores `days` for `tenants` (default: every tenant with a driver). */
export async function rescoreTenants(
  pool: pg.Pool,
  days: readonly string[],
  tenants?: readonly string[],
): Promise<RescoreResult> {
  // A system job: the owner lists the tenants; each one's scoring runs as the tenant.
  const ids =
    tenants ??
    (
      await pool.query<{ tenant_id: string }>(`SELECT DISTINCT tenant_id FROM users WHERE role = 'driver'`)
    ).rows.map((r) => r.tenant_id);
  const result: RescoreResult = { tenants: ids.length, days: [...days], drivers: 0, scored: 0 };
  for (const tenantId of ids)
    for (const day of days) {
      const scores = await inTenant(pool, tenantId, (c) => rescoreDay(c, tenantId, day));
      result.drivers += scores.length;
      result.scored += scores.filter((s) => s.score !== null).length;
    }
  return result;
}

export class ScoreSweeper extends Periodic<Awaited<ReturnType<typeof rescoreTenants>>> {
  constructor(pool: pg.Pool, intervalMs: number, log: Logger) {
    super({
      intervalMs,
      name: 'driver rescore',
      log,
      pass: () => {
        const today = dayOf(Date.now());
        return rescoreTenants(pool, [addDays(today, -1), today]);
      },
      onDone: (r) => {
        if (r.tenants > 0) log.info(r, 'driver scores recomputed');
      },
    });
  }
}
