/**
 * The rewards catalogue and redemption requests. A request debits the points at once (a
 * reservation: what is pending cannot be spent twice), a manager approves it (nothing more moves)
 * or rejects it (the points come back as a `redemption_refund` entry, the stock unit too).
 *
 * Locks, always in this order so two transactions never wait on each other in a circle:
 *   redemption row (decide only) → reward row (only a reward with stock) → the driver's account
 *   row (taken by the ledger trigger) → the audit chain's advisory lock (audit_append).
 * The never-below-zero guarantee is the account row's (ledger.ts); the reward row lock only keeps
 * a limited stock from going below zero (a conditional UPDATE ... WHERE stock > 0).
 */
import type pg from 'pg';
import { appendAudit } from '../../db/queries/audit-log.ts';
import { CloudError, CloudErrorCode } from '../../errors.ts';
import { appendPoints } from './ledger.ts';

export interface Reward {
  id: number;
  name: string;
  description: string;
  costPoints: number;
  stock: number | null;
  active: boolean;
}

export interface Redemption {
  id: number;
  rewardId: number;
  rewardName: string;
  userId: string;
  userName: string;
  costPoints: number;
  status: 'pending' | 'approved' | 'rejected';
  requestedAt: string;
  decidedAt: string | null;
  decidedBy: string | null;
  note: string | null;
}

const iso = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

type RewardRow = {
  id: number;
  name: string;
  description: string;
  cost_points: number;
  stock: number | null;
  active: boolean;
};
const rewardOf = (r: RewardRow): Reward => ({
  id: r.id,
  name: r.name,
  description: r.description,
  costPoints: r.cost_points,
  stock: r.stock,
  active: r.active,
});

export async function listRewards(db: pg.PoolClient, q: { activeOnly: boolean }): Promise<Reward[]> {
  const { rows } = await db.query<RewardRow>(
    `SELECT id, name, description, cost_points, stock, active FROM rewards
      WHERE ($1::boolean IS FALSE OR active) ORDER BY active DESC, cost_points, id`,
    [q.activeOnly],
  );
  return rows.map(rewardOf);
}

export async function createReward(
  db: pg.PoolClient,
  r: {
    tenantId: string;
    name: string;
    description: string;
    costPoints: number;
    stock: number | null;
    actor: string;
  },
): Promise<Reward> {
  const { rows } = await db.query<RewardRow>(
    `INSERT INTO rewards (tenant_id, name, description, cost_points, stock, created_by)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, name, description, cost_points, stock, active`,
    [r.tenantId, r.name, r.description, r.costPoints, r.stock, r.actor],
  );
  const reward = rewardOf(rows[0]!);
  await appendAudit(db, {
    tenantId: r.tenantId,
    actor: r.actor,
    action: 'reward.create',
    entity: `reward:${reward.id}`,
    after: reward,
  });
  return reward;
}

/** Changes what is given; null when there is no such reward. Retiring is `active: false`. */
export async function updateReward(
  db: pg.PoolClient,
  r: {
    tenantId: string;
    id: number;
    actor: string;
    name?: string | undefined;
    description?: string | undefined;
    costPoints?: number | undefined;
    stock?: number | null | undefined;
    active?: boolean | undefined;
  },
): Promise<Reward | null> {
  const { rows: before } = await db.query<RewardRow>(
    'SELECT id, name, description, cost_points, stock, active FROM rewards WHERE id = $1 FOR UPDATE',
    [r.id],
  );
  if (!before[0]) return null;
  const { rows } = await db.query<RewardRow>(
    `UPDATE rewards SET name = coalesce($2, name), description = coalesce($3, description),
            cost_points = coalesce($4, cost_points), stock = CASE WHEN $5 THEN $6 ELSE stock END,
            active = coalesce($7, active)
      WHERE id = $1 RETURNING id, name, description, cost_points, stock, active`,
    [
      r.id,
      r.name ?? null,
      r.description ?? null,
      r.costPoints ?? null,
      r.stock !== undefined,
      r.stock ?? null,
      r.active ?? null,
    ],
  );
  const reward = rewardOf(rows[0]!);
  await appendAudit(db, {
    tenantId: r.tenantId,
    actor: r.actor,
    action: 'reward.update',
    entity: `reward:${r.id}`,
    before: rewardOf(before[0]),
    after: reward,
  });
  return reward;
}

const REDEMPTION_COLUMNS = `d.id, d.reward_id, r.name AS reward_name, d.user_id, u.name AS user_name, d.cost_points,
  d.status, ${iso('d.requested_at')} AS requested_at, ${iso('d.decided_at')} AS decided_at, d.decided_by, d.note`;
type RedemptionRow = {
  id: number;
  reward_id: number;
  reward_name: string;
  user_id: string;
  user_name: string;
  cost_points: number;
  status: Redemption['status'];
  requested_at: string;
  decided_at: string | null;
  decided_by: string | null;
  note: string | null;
};
const redemptionOf = (r: RedemptionRow): Redemption => ({
  id: r.id,
  rewardId: r.reward_id,
  rewardName: r.reward_name,
  userId: r.user_id,
  userName: r.user_name,
  costPoints: r.cost_points,
  status: r.status,
  requestedAt: r.requested_at,
  decidedAt: r.decided_at,
  decidedBy: r.decided_by,
  note: r.note,
});

export async function listRedemptions(
  db: pg.PoolClient,
  q: { status: Redemption['status'] | null; userId: string | null; limit: number },
): Promise<Redemption[]> {
  const { rows } = await db.query<RedemptionRow>(
    `SELECT ${REDEMPTION_COLUMNS}
       FROM reward_redemptions d JOIN rewards r ON r.id = d.reward_id JOIN users u ON u.id = d.user_id
      WHERE ($1::text IS NULL OR d.status = $1) AND ($2::text IS NULL OR d.user_id = $2)
      ORDER BY (d.status = 'pending') DESC, d.id DESC LIMIT $3`,
    [q.status, q.userId, q.limit],
  );
  return rows.map(redemptionOf);
}

async function redemptionById(db: pg.PoolClient, id: number): Promise<Redemption> {
  const { rows } = await db.query<RedemptionRow>(
    `SELECT ${REDEMPTION_COLUMNS}
       FROM reward_redemptions d JOIN rewards r ON r.id = d.reward_id JOIN users u ON u.id = d.user_id
      WHERE d.id = $1`,
    [id],
  );
  return redemptionOf(rows[0]!);
}

/**
 * A driver asks for a reward: a unit of stock is taken (if counted) and the cost is debited in the
 * same transaction; either both happen or neither. Throws RewardUnavailable (retired, out of stock),
 * PointsInsufficient (the balance cannot pay it); null when there is no such reward.
 */
export async function requestRedemption(
  db: pg.PoolClient,
  q: { tenantId: string; userId: string; rewardId: number; actor: string },
): Promise<Redemption | null> {
  const { rows } = await db.query<{ cost_points: number; stock: number | null; active: boolean }>(
    'SELECT cost_points, stock, active FROM rewards WHERE id = $1',
    [q.rewardId],
  );
  const reward = rows[0];
  if (!reward) return null;
  if (!reward.active) throw new CloudError(CloudErrorCode.RewardUnavailable, 'this reward is retired');
  if (reward.stock !== null) {
    const taken = await db.query('UPDATE rewards SET stock = stock - 1 WHERE id = $1 AND stock > 0', [
      q.rewardId,
    ]);
    if (taken.rowCount === 0)
      throw new CloudError(CloudErrorCode.RewardUnavailable, 'this reward is out of stock');
  }
  const { rows: made } = await db.query<{ id: number }>(
    `INSERT INTO reward_redemptions (tenant_id, reward_id, user_id, cost_points)
     VALUES ($1, $2, $3, $4) RETURNING id`,
    [q.tenantId, q.rewardId, q.userId, reward.cost_points],
  );
  const id = made[0]!.id;
  await appendPoints(db, {
    tenantId: q.tenantId,
    userId: q.userId,
    delta: -reward.cost_points,
    reason: 'redemption',
    ref: `redemption:${id}`,
    idemKey: `redemption:${id}`,
    actor: q.actor,
  });
  await appendAudit(db, {
    tenantId: q.tenantId,
    actor: q.actor,
    action: 'reward.redeem',
    entity: `redemption:${id}`,
    after: { rewardId: q.rewardId, userId: q.userId, costPoints: reward.cost_points },
  });
  return redemptionById(db, id);
}

/**
 * A manager's decision on a pending request: approved keeps the debit, rejected refunds it (and
 * returns the stock unit). Throws RedemptionDecided when it was already decided; null when there
 * is no such request.
 */
export async function decideRedemption(
  db: pg.PoolClient,
  q: { tenantId: string; id: number; approve: boolean; note: string | null; actor: string },
): Promise<Redemption | null> {
  const { rows } = await db.query<{
    status: string;
    reward_id: number;
    user_id: string;
    cost_points: number;
  }>('SELECT status, reward_id, user_id, cost_points FROM reward_redemptions WHERE id = $1 FOR UPDATE', [
    q.id,
  ]);
  const r = rows[0];
  if (!r) return null;
  if (r.status !== 'pending')
    throw new CloudError(CloudErrorCode.RedemptionDecided, `this request was already ${r.status}`);
  const status = q.approve ? 'approved' : 'rejected';
  await db.query(
    `UPDATE reward_redemptions SET status = $2, decided_at = now(), decided_by = $3, note = $4 WHERE id = $1`,
    [q.id, status, q.actor, q.note],
  );
  if (!q.approve) {
    await db.query('UPDATE rewards SET stock = stock + 1 WHERE id = $1 AND stock IS NOT NULL', [r.reward_id]);
    await appendPoints(db, {
      tenantId: q.tenantId,
      userId: r.user_id,
      delta: r.cost_points,
      reason: 'redemption_refund',
      ref: `redemption:${q.id}`,
      note: q.note,
      idemKey: `redemption-refund:${q.id}`,
      actor: q.actor,
    });
  }
  await appendAudit(db, {
    tenantId: q.tenantId,
    actor: q.actor,
    action: q.approve ? 'reward.approve' : 'reward.reject',
    entity: `redemption:${q.id}`,
    before: { status: 'pending' },
    after: { status, note: q.note },
  });
  return redemptionById(db, q.id);
}
