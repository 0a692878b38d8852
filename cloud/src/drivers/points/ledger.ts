/**
 * The points ledger (migration 000028): append-only, one row per change with its reason, and the
 * balance is the sum of a driver's rows. Never below zero, even with concurrent writers: the
 * ledger's BEFORE INSERT trigger locks the driver's points_accounts row (SELECT ... FOR UPDATE) and
 * only then reads the sum, so two debits of one driver queue on that row and the second sees the
 * first's committed row (READ COMMITTED takes a new snapshot per statement); one that would go
 * below zero is refused with check_violation, turned into PointsInsufficient here. A per-driver
 * row lock rather than SERIALIZABLE: nothing to retry, and drivers never wait on each other.
 *
 * Every entry is audited in the same transaction (audit_log's hash chain): the entry exists exactly
 * when its audit entry does. Call these inside inTenant() (the audit function checks the tenant).
 */
import type pg from 'pg';
import { appendAudit } from '../../db/queries/audit-log.ts';
import { CloudError, CloudErrorCode } from '../../errors.ts';
import { BADGE_DATASET, scoreBandPoints } from '../badges/dataset.ts';

export const POINTS_REASONS = [
  'challenge',
  'badge',
  'score_band',
  'redemption',
  'redemption_refund',
  'adjustment',
] as const;
export type PointsReason = (typeof POINTS_REASONS)[number];

export interface PointsEntryInput {
  tenantId: string;
  userId: string;
  /** Positive: a credit; negative: a debit. Never 0. */
  delta: number;
  reason: PointsReason;
  /** What it is for: "challenge:12", "badge:low-idle", "redemption:5". */
  ref: string | null;
  note?: string | null;
  /** The same key is paid once: a second append with it writes nothing and returns null. */
  idemKey: string;
  /** "user:<id>" or "system". */
  actor: string;
}

export interface PointsEntry {
  id: number;
  userId: string;
  delta: number;
  reason: PointsReason;
  ref: string | null;
  note: string | null;
  balanceAfter: number;
  createdBy: string;
  createdAt: string;
}

const COLUMNS = `id, user_id, delta, reason, ref, note, balance_after, created_by,
                 to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at`;

type Row = {
  id: number;
  user_id: string;
  delta: number;
  reason: PointsReason;
  ref: string | null;
  note: string | null;
  balance_after: number;
  created_by: string;
  created_at: string;
};
const entryOf = (r: Row): PointsEntry => ({
  id: r.id,
  userId: r.user_id,
  delta: r.delta,
  reason: r.reason,
  ref: r.ref,
  note: r.note,
  balanceAfter: r.balance_after,
  createdBy: r.created_by,
  createdAt: r.created_at,
});

/**
 * Appends one entry and its audit entry in the caller's transaction. Returns null when the
 * idempotency key was already paid. A debit the balance cannot pay throws PointsInsufficient (the
 * transaction is then aborted: the caller rolls back everything it did with it).
 */
export async function appendPoints(db: pg.PoolClient, e: PointsEntryInput): Promise<PointsEntry | null> {
  if (!Number.isInteger(e.delta) || e.delta === 0)
    throw new CloudError(CloudErrorCode.PointsInsufficient, `points must be a whole number other than 0`);
  let rows: Row[];
  try {
    ({ rows } = await db.query<Row>(
      `INSERT INTO points_ledger (tenant_id, user_id, delta, reason, ref, note, idem_key, created_by, balance_after)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0)
       ON CONFLICT (tenant_id, idem_key) DO NOTHING
       RETURNING ${COLUMNS}`,
      [e.tenantId, e.userId, e.delta, e.reason, e.ref, e.note ?? null, e.idemKey, e.actor],
    ));
  } catch (err) {
    if ((err as { constraint?: string }).constraint === 'points_balance_not_negative')
      throw new CloudError(
        CloudErrorCode.PointsInsufficient,
        `not enough points: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    throw err;
  }
  const entry = rows[0];
  if (!entry) return null;
  await appendAudit(db, {
    tenantId: e.tenantId,
    actor: e.actor,
    action: e.delta > 0 ? 'points.credit' : 'points.debit',
    entity: `points_ledger:${entry.id}`,
    after: {
      userId: e.userId,
      delta: e.delta,
      reason: e.reason,
      ref: e.ref,
      balanceAfter: entry.balance_after,
    },
  });
  return entryOf(entry);
}

/** The driver's balance: the sum of their entries (0 without any). */
export async function pointsBalance(db: pg.PoolClient, userId: string): Promise<number> {
  const { rows } = await db.query<{ balance: number }>(
    'SELECT coalesce(sum(delta), 0)::int AS balance FROM points_ledger WHERE user_id = $1',
    [userId],
  );
  return rows[0]!.balance;
}

/** The driver's entries, newest first; `before`: the last id of the previous page. */
export async function pointsHistory(
  db: pg.PoolClient,
  q: { userId: string; limit: number; before: number | null },
): Promise<PointsEntry[]> {
  const { rows } = await db.query<Row>(
    `SELECT ${COLUMNS} FROM points_ledger
      WHERE user_id = $1 AND ($3::bigint IS NULL OR id < $3)
      ORDER BY id DESC LIMIT $2`,
    [q.userId, q.limit, q.before],
  );
  return rows.map(entryOf);
}

/**
 * Points for a score band (badges.v1.json `scoreBands`), once per driver and period: the entry
 * point for the fair-scoring job, which calls it with each stored score it computes.
 */
export async function awardScoreBand(
  db: pg.PoolClient,
  a: { tenantId: string; userId: string; score: number; period: string; actor: string },
): Promise<PointsEntry | null> {
  const points = scoreBandPoints(a.score);
  if (points <= 0) return null;
  return appendPoints(db, {
    tenantId: a.tenantId,
    userId: a.userId,
    delta: points,
    reason: 'score_band',
    ref: `score:${a.period}`,
    note: `score ${a.score} (bands v${BADGE_DATASET.version})`,
    idemKey: `score_band:${a.userId}:${a.period}`,
    actor: a.actor,
  });
}
