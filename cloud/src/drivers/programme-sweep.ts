/**
 * The drivers' programme job, on the cloud's sweep timer (like fuel/reconcile-sweep.ts): every
 * `FLEET_DRIVER_PROGRAMME_SWEEP_MS` it finalizes the challenges whose grace period is over (each
 * exactly once: challenges.ts finalizeChallenge) and queues each participant's result as a push,
 * at most hourly awards badges, and queues the drivers' low-range and service-due pushes.
 *
 * The finding query runs as the owner across tenants (a system job), every row naming its
 * tenant; each challenge and each tenant's badges are then handled inside inTenant(), in a
 * transaction of their own, so one failure holds up nothing else and is retried next time.
 */
import type { Logger } from '@fleet/shared/log';
import type pg from 'pg';
import { inTenant } from '../db/tenant.ts';
import { Periodic } from '../periodic.ts';
import { awardBadges } from './badges/award.ts';
import { finalizeChallenge, getChallenge } from './challenges/challenges.ts';
import { type DriverPushResult, queueChallengeResults, sweepDriverPushes } from './push/driver-push.ts';

export const BADGE_SWEEP_EVERY_MS = 3_600_000;

export interface ProgrammeSweepResult {
  finalized: number;
  badges: number;
  failed: number;
}

/** One sweep; `badges`: also award badges this time. */
export async function sweepDriverProgramme(
  pool: pg.Pool,
  log: Logger,
  opts: { badges: boolean } = { badges: true },
): Promise<ProgrammeSweepResult> {
  const result: ProgrammeSweepResult = { finalized: 0, badges: 0, failed: 0 };
  const { rows: due } = await pool.query<{ id: number; tenant_id: string }>(
    `SELECT id, tenant_id FROM challenges
      WHERE finalized_at IS NULL AND ends_at + make_interval(mins => grace_minutes) <= now()
      ORDER BY ends_at, id`,
  );
  for (const c of due) {
    try {
      const done = await inTenant(pool, c.tenant_id, async (db) => {
        const standings = await finalizeChallenge(db, { tenantId: c.tenant_id, challengeId: c.id });
        if (!standings) return null;
        // Each participant's result goes out with the freeze, in its transaction: once.
        const challenge = (await getChallenge(db, c.id))!;
        const pushes = await queueChallengeResults(db, c.tenant_id, challenge, standings);
        return { standings, pushes };
      });
      if (done) {
        result.finalized++;
        log.info(
          { tenant: c.tenant_id, challenge: c.id, participants: done.standings.length, pushes: done.pushes },
          'challenge finalized',
        );
      }
    } catch (err) {
      result.failed++;
      log.warn(
        { tenant: c.tenant_id, challenge: c.id, err: (err as Error).message },
        'challenge finalization failed',
      );
    }
  }
  if (opts.badges) {
    const { rows: tenants } = await pool.query<{ tenant_id: string }>(
      `SELECT DISTINCT tenant_id FROM users WHERE role = 'driver'`,
    );
    for (const t of tenants) {
      try {
        result.badges += await inTenant(pool, t.tenant_id, (db) =>
          awardBadges(db, { tenantId: t.tenant_id, now: Date.now() }),
        );
      } catch (err) {
        result.failed++;
        log.warn({ tenant: t.tenant_id, err: (err as Error).message }, 'badge awards failed');
      }
    }
  }
  return result;
}

/**
 * Runs sweepDriverProgramme and then the drivers' low-range and service-due pushes
 * (push/driver-push.ts) every `intervalMs` in the cloud process; 0 = off.
 */
export class DriverProgrammeSweeper extends Periodic<ProgrammeSweepResult & { pushes: DriverPushResult }> {
  constructor(pool: pg.Pool, intervalMs: number, log: Logger) {
    let lastBadges = 0;
    let badges = false;
    super({
      intervalMs,
      name: 'drivers programme sweep',
      log,
      pass: async () => {
        badges = Date.now() - lastBadges >= BADGE_SWEEP_EVERY_MS;
        const programme = await sweepDriverProgramme(pool, log, { badges });
        return { ...programme, pushes: await sweepDriverPushes(pool, log) };
      },
      onDone: (r) => {
        if (badges) lastBadges = Date.now();
        const p = r.pushes;
        if (r.finalized + r.badges + r.failed + p.queued + p.lowRangeOpened + p.lowRangeClosed + p.failed > 0)
          log.info(r, 'drivers programme sweep');
      },
    });
  }
}
