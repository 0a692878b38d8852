/**
 * Awards badges once each: the drivers' stats over the last BADGE_WINDOW_DAYS (the same numbers the
 * driver app shows, db/queries/driver-scores.ts) judged by the dataset's thresholds; a badge not yet
 * held is inserted into driver_badges (primary key user + badge: once, whatever runs twice) and its
 * points are credited in the same transaction.
 */
import type pg from 'pg';
import { driverStats } from '../../db/queries/driver-scores.ts';
import { appendPoints } from '../points/ledger.ts';
import { BADGE_DATASET, type BadgeDataset, badgesEarned } from './dataset.ts';

export const BADGE_WINDOW_DAYS = 30;

export interface HeldBadge {
  badgeId: string;
  title: string;
  datasetVersion: number;
  awardedAt: string;
}

/** Inside inTenant(): returns how many badges were newly awarded. */
export async function awardBadges(
  db: pg.PoolClient,
  q: { tenantId: string; now: number; dataset?: BadgeDataset },
): Promise<number> {
  const dataset = q.dataset ?? BADGE_DATASET;
  const stats = await driverStats(db, {
    tenantId: q.tenantId,
    userId: null,
    from: q.now - BADGE_WINDOW_DAYS * 86_400_000,
    to: q.now,
    limit: 100_000,
    after: null,
  });
  let awarded = 0;
  for (const s of stats) {
    for (const badgeId of badgesEarned(s, dataset)) {
      const def = dataset.badges.find((b) => b.id === badgeId)!;
      const { rowCount } = await db.query(
        `INSERT INTO driver_badges (tenant_id, user_id, badge_id, dataset_version, evidence)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, badge_id) DO NOTHING`,
        [
          q.tenantId,
          s.userId,
          badgeId,
          dataset.version,
          JSON.stringify({
            km: s.km,
            harshEvents: s.harshEvents,
            speedingEvents: s.speedingEvents,
            idleMinutes: s.idleMinutes,
            score: s.score,
            windowDays: BADGE_WINDOW_DAYS,
          }),
        ],
      );
      if (rowCount === 0) continue;
      awarded++;
      if (def.points > 0)
        await appendPoints(db, {
          tenantId: q.tenantId,
          userId: s.userId,
          delta: def.points,
          reason: 'badge',
          ref: `badge:${badgeId}`,
          note: def.title,
          idemKey: `badge:${s.userId}:${badgeId}`,
          actor: 'system',
        });
    }
  }
  return awarded;
}

export async function heldBadges(db: pg.PoolClient, userId: string): Promise<HeldBadge[]> {
  const { rows } = await db.query<{ badge_id: string; dataset_version: number; awarded_at: string }>(
    `SELECT badge_id, dataset_version,
            to_char(awarded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS awarded_at
       FROM driver_badges WHERE user_id = $1 ORDER BY awarded_at, badge_id`,
    [userId],
  );
  return rows.map((r) => ({
    badgeId: r.badge_id,
    title: BADGE_DATASET.badges.find((b) => b.id === r.badge_id)?.title ?? r.badge_id,
    datasetVersion: r.dataset_version,
    awardedAt: r.awarded_at,
  }));
}
