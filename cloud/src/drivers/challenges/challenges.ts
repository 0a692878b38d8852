/**
 * Challenges (issue 19 §3): time-boxed, individual or team (a vehicle group's drivers), on a metric
 * computed from the raw data (metrics.ts) with a target, a direction and an eligibility distance.
 *
 * Live progress is computed on request from the raw rows; nothing is stored until the end. Late
 * data: the agents backfill what they recorded offline, so a challenge stays open for
 * `grace_minutes` after its end (default 6 h): whatever arrives by then counts. The programme sweep
 * then finalizes it exactly once (finalizeChallenge: the row locked, `finalized_at IS NULL`
 * checked under the lock, results and points written with the flag in one transaction): from then
 * on the stored challenge_results are the answer (append-only; the challenge row is frozen by a
 * trigger) and data that arrives later never changes them.
 */
import type pg from 'pg';
import { appendAudit } from '../../db/queries/audit-log.ts';
import { CloudError, CloudErrorCode } from '../../errors.ts';
import { appendPoints } from '../points/ledger.ts';
import {
  addSums,
  type ChallengeMetric,
  type Direction,
  driverSums,
  meetsTarget,
  metricValue,
  type RawSums,
  ZERO_SUMS,
} from './metrics.ts';

export interface Challenge {
  id: number;
  name: string;
  kind: 'individual' | 'team';
  groupId: number | null;
  metric: ChallengeMetric;
  direction: Direction;
  target: number;
  minKm: number;
  timeZone: string;
  startsAt: string;
  endsAt: string;
  /** The local wall-clock start and end in timeZone ("2026-11-01T00:00"). */
  startsLocal: string;
  endsLocal: string;
  graceMinutes: number;
  rewardPoints: number;
  finalizedAt: string | null;
  /** upcoming, running, ended (waiting for late data and the freeze), final. */
  state: 'upcoming' | 'running' | 'ended' | 'final';
}

export interface Standing {
  /** "user:<id>" or "group:<id>". */
  participant: string;
  name: string;
  km: number;
  value: number | null;
  eligible: boolean;
  met: boolean;
  rank: number | null;
  points: number;
  sums: RawSums;
  /** A team's eligible members (their user ids); a driver's: themselves. */
  members: string[];
}

const iso = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const local = (col: string) => `to_char(${col} AT TIME ZONE c.time_zone, 'YYYY-MM-DD"T"HH24:MI')`;

const CHALLENGE_COLUMNS = `c.id, c.name, c.kind, c.group_id, c.metric, c.direction, c.target, c.min_km, c.time_zone,
  ${iso('c.starts_at')} AS starts_at, ${iso('c.ends_at')} AS ends_at, ${local('c.starts_at')} AS starts_local,
  ${local('c.ends_at')} AS ends_local, c.grace_minutes, c.reward_points, ${iso('c.finalized_at')} AS finalized_at,
  CASE WHEN c.finalized_at IS NOT NULL THEN 'final' WHEN now() < c.starts_at THEN 'upcoming'
       WHEN now() < c.ends_at THEN 'running' ELSE 'ended' END AS state`;

type ChallengeRow = {
  id: number;
  name: string;
  kind: Challenge['kind'];
  group_id: number | null;
  metric: ChallengeMetric;
  direction: Direction;
  target: number;
  min_km: number;
  time_zone: string;
  starts_at: string;
  ends_at: string;
  starts_local: string;
  ends_local: string;
  grace_minutes: number;
  reward_points: number;
  finalized_at: string | null;
  state: Challenge['state'];
};
const challengeOf = (r: ChallengeRow): Challenge => ({
  id: r.id,
  name: r.name,
  kind: r.kind,
  groupId: r.group_id,
  metric: r.metric,
  direction: r.direction,
  target: r.target,
  minKm: r.min_km,
  timeZone: r.time_zone,
  startsAt: r.starts_at,
  endsAt: r.ends_at,
  startsLocal: r.starts_local,
  endsLocal: r.ends_local,
  graceMinutes: r.grace_minutes,
  rewardPoints: r.reward_points,
  finalizedAt: r.finalized_at,
  state: r.state,
});

export function timeZoneOk(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export interface ChallengeInput {
  name: string;
  kind: Challenge['kind'];
  groupId: number | null;
  metric: ChallengeMetric;
  direction: Direction;
  target: number;
  minKm: number;
  timeZone: string;
  /** Local wall-clock times in timeZone, "YYYY-MM-DDTHH:MM". */
  startsLocal: string;
  endsLocal: string;
  graceMinutes: number;
  rewardPoints: number;
}

async function checkInput(db: pg.PoolClient, i: ChallengeInput): Promise<void> {
  if (!timeZoneOk(i.timeZone))
    throw new CloudError(CloudErrorCode.ChallengeInvalid, 'not a time zone (e.g. Europe/Madrid)', {
      fields: { timeZone: 'is not a time zone (e.g. Europe/Madrid)' },
    });
  if (i.endsLocal <= i.startsLocal)
    throw new CloudError(CloudErrorCode.ChallengeInvalid, 'the end must be after the start', {
      fields: { endsLocal: 'must be after the start' },
    });
  if (i.groupId !== null) {
    const { rowCount } = await db.query('SELECT 1 FROM vehicle_groups WHERE id = $1', [i.groupId]);
    if (rowCount === 0)
      throw new CloudError(CloudErrorCode.ChallengeInvalid, 'no such group', {
        fields: { groupId: 'no such group' },
      });
  }
}

export async function createChallenge(
  db: pg.PoolClient,
  c: ChallengeInput & { tenantId: string; actor: string },
): Promise<Challenge> {
  await checkInput(db, c);
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO challenges (tenant_id, name, kind, group_id, metric, direction, target, min_km, time_zone,
                             starts_at, ends_at, grace_minutes, reward_points, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::timestamp AT TIME ZONE $9, $11::timestamp AT TIME ZONE $9,
             $12, $13, $14)
     RETURNING id`,
    [
      c.tenantId,
      c.name,
      c.kind,
      c.groupId,
      c.metric,
      c.direction,
      c.target,
      c.minKm,
      c.timeZone,
      c.startsLocal,
      c.endsLocal,
      c.graceMinutes,
      c.rewardPoints,
      c.actor,
    ],
  );
  const made = (await getChallenge(db, rows[0]!.id))!;
  await appendAudit(db, {
    tenantId: c.tenantId,
    actor: c.actor,
    action: 'challenge.create',
    entity: `challenge:${made.id}`,
    after: made,
  });
  return made;
}

/** Only before it starts: once drivers are in it, its rules stay. */
export async function updateChallenge(
  db: pg.PoolClient,
  c: ChallengeInput & { tenantId: string; actor: string; id: number },
): Promise<Challenge | null> {
  const before = await getChallenge(db, c.id, true);
  if (!before) return null;
  if (before.state !== 'upcoming')
    throw new CloudError(CloudErrorCode.ChallengeFrozen, 'a challenge that has started cannot be changed');
  await checkInput(db, c);
  await db.query(
    `UPDATE challenges SET name = $2, kind = $3, group_id = $4, metric = $5, direction = $6, target = $7,
            min_km = $8, time_zone = $9, starts_at = $10::timestamp AT TIME ZONE $9,
            ends_at = $11::timestamp AT TIME ZONE $9, grace_minutes = $12, reward_points = $13
      WHERE id = $1`,
    [
      c.id,
      c.name,
      c.kind,
      c.groupId,
      c.metric,
      c.direction,
      c.target,
      c.minKm,
      c.timeZone,
      c.startsLocal,
      c.endsLocal,
      c.graceMinutes,
      c.rewardPoints,
    ],
  );
  const after = (await getChallenge(db, c.id))!;
  await appendAudit(db, {
    tenantId: c.tenantId,
    actor: c.actor,
    action: 'challenge.update',
    entity: `challenge:${c.id}`,
    before,
    after,
  });
  return after;
}

/** Cancels a challenge that is not final (a final one keeps its results and paid points). */
export async function deleteChallenge(
  db: pg.PoolClient,
  c: { tenantId: string; actor: string; id: number },
): Promise<boolean> {
  const before = await getChallenge(db, c.id, true);
  if (!before) return false;
  if (before.state === 'final')
    throw new CloudError(CloudErrorCode.ChallengeFrozen, 'a finalized challenge keeps its results');
  await db.query('DELETE FROM challenges WHERE id = $1', [c.id]);
  await appendAudit(db, {
    tenantId: c.tenantId,
    actor: c.actor,
    action: 'challenge.delete',
    entity: `challenge:${c.id}`,
    before,
  });
  return true;
}

export async function getChallenge(db: pg.PoolClient, id: number, lock = false): Promise<Challenge | null> {
  const { rows } = await db.query<ChallengeRow>(
    `SELECT ${CHALLENGE_COLUMNS} FROM challenges c WHERE c.id = $1 ${lock ? 'FOR UPDATE' : ''}`,
    [id],
  );
  return rows[0] ? challengeOf(rows[0]) : null;
}

export async function listChallenges(db: pg.PoolClient, q: { limit: number }): Promise<Challenge[]> {
  const { rows } = await db.query<ChallengeRow>(
    `SELECT ${CHALLENGE_COLUMNS} FROM challenges c ORDER BY c.starts_at DESC, c.id DESC LIMIT $1`,
    [q.limit],
  );
  return rows.map(challengeOf);
}

/** Ranks the eligible participants with a value (ties share a rank: 1, 2, 2, 4). */
function rank(standings: Standing[], direction: Direction): void {
  const ranked = standings
    .filter((s) => s.eligible && s.value !== null)
    .sort((a, b) =>
      a.value === b.value
        ? a.participant.localeCompare(b.participant)
        : direction === 'at_most'
          ? a.value! - b.value!
          : b.value! - a.value!,
    );
  ranked.forEach((s, i) => {
    const prev = ranked[i - 1];
    s.rank = prev && prev.value === s.value ? prev.rank : i + 1;
  });
}

/**
 * The standings over [startsAt, min(asOf, endsAt)) computed from the raw rows, with the points each
 * would be paid. Individual: each driver (of groupId when set); team: each group with drivers,
 * summing its members who reached the minimum distance.
 */
export async function computeStandings(
  db: pg.PoolClient,
  c: Challenge & { tenantId: string },
  asOf: Date,
): Promise<Standing[]> {
  const from = new Date(c.startsAt);
  const end = new Date(c.endsAt);
  const to = asOf < end ? asOf : end;
  if (to <= from) return [];
  const { rows: memberships } = await db.query<{ group_id: number; group_name: string; user_id: string }>(
    `SELECT g.id AS group_id, g.name AS group_name, dg.user_id
       FROM vehicle_groups g JOIN driver_groups dg ON dg.group_id = g.id
       JOIN users u ON u.id = dg.user_id AND u.role = 'driver'
      WHERE ($1::bigint IS NULL OR g.id = $1)
      ORDER BY g.id, dg.user_id`,
    [c.groupId],
  );
  const restrictTo =
    c.kind === 'team' || c.groupId !== null ? [...new Set(memberships.map((m) => m.user_id))] : null;
  const sums = await driverSums(db, { tenantId: c.tenantId, from, to, userIds: restrictTo });
  const eligibleDriver = (s: RawSums) => s.km >= c.minKm;
  const standings: Standing[] = [];
  if (c.kind === 'individual') {
    for (const [userId, d] of sums) {
      const value = metricValue(c.metric, d.sums);
      const eligible = eligibleDriver(d.sums);
      standings.push({
        participant: `user:${userId}`,
        name: d.name,
        km: d.sums.km,
        value,
        eligible,
        met: eligible && meetsTarget(c.direction, c.target, value),
        rank: null,
        points: 0,
        sums: d.sums,
        members: [userId],
      });
    }
  } else {
    const groups = new Map<number, { name: string; users: string[] }>();
    for (const m of memberships) {
      const g = groups.get(m.group_id) ?? { name: m.group_name, users: [] };
      g.users.push(m.user_id);
      groups.set(m.group_id, g);
    }
    for (const [groupId, g] of groups) {
      const members = g.users.filter((u) => {
        const d = sums.get(u);
        return d !== undefined && eligibleDriver(d.sums);
      });
      const total = members.reduce((acc, u) => addSums(acc, sums.get(u)!.sums), ZERO_SUMS);
      const eligible = members.length > 0;
      const value = eligible ? metricValue(c.metric, total) : null;
      standings.push({
        participant: `group:${groupId}`,
        name: g.name,
        km: total.km,
        value,
        eligible,
        met: eligible && meetsTarget(c.direction, c.target, value),
        rank: null,
        points: 0,
        sums: total,
        members,
      });
    }
  }
  rank(standings, c.direction);
  for (const s of standings) s.points = s.met ? c.rewardPoints : 0;
  return standings.sort(
    (a, b) => (a.rank ?? 1e9) - (b.rank ?? 1e9) || a.participant.localeCompare(b.participant),
  );
}

type ResultRow = {
  participant: string;
  name: string;
  km: number;
  value: number | null;
  eligible: boolean;
  met: boolean;
  rank: number | null;
  points: number;
  sums: RawSums & { members?: string[] };
};

/** The frozen results of a final challenge, in rank order. */
export async function storedResults(db: pg.PoolClient, challengeId: number): Promise<Standing[]> {
  const { rows } = await db.query<ResultRow>(
    `SELECT participant, name, km, value, eligible, met, rank, points, sums FROM challenge_results
      WHERE challenge_id = $1 ORDER BY rank NULLS LAST, participant`,
    [challengeId],
  );
  return rows.map((r) => {
    const { members, ...sums } = r.sums;
    return { ...r, sums, members: members ?? [] };
  });
}

/** Progress: the frozen results once final, else the live standings up to `asOf` (default now). */
export async function challengeProgress(
  db: pg.PoolClient,
  q: { tenantId: string; challengeId: number; asOf?: Date },
): Promise<{ challenge: Challenge; standings: Standing[]; frozen: boolean; asOf: string } | null> {
  const c = await getChallenge(db, q.challengeId);
  if (!c) return null;
  if (c.finalizedAt !== null)
    return { challenge: c, standings: await storedResults(db, c.id), frozen: true, asOf: c.endsAt };
  const asOf = q.asOf ?? new Date();
  const standings = await computeStandings(db, { ...c, tenantId: q.tenantId }, asOf);
  const end = new Date(c.endsAt);
  return { challenge: c, standings, frozen: false, asOf: (asOf < end ? asOf : end).toISOString() };
}

/**
 * Freezes one challenge whose grace period is over: exactly once, whoever else runs the sweep (the
 * row is locked with SKIP LOCKED and `finalized_at IS NULL` checked under the lock; the points'
 * idempotency keys would refuse a second payment anyway). Returns the standings, or null when it
 * was not due or already final.
 */
export async function finalizeChallenge(
  db: pg.PoolClient,
  q: { tenantId: string; challengeId: number },
): Promise<Standing[] | null> {
  const { rows } = await db.query<ChallengeRow>(
    `SELECT ${CHALLENGE_COLUMNS} FROM challenges c
      WHERE c.id = $1 AND c.finalized_at IS NULL AND c.ends_at + make_interval(mins => c.grace_minutes) <= now()
      FOR UPDATE SKIP LOCKED`,
    [q.challengeId],
  );
  if (!rows[0]) return null;
  const c = challengeOf(rows[0]);
  const standings = await computeStandings(db, { ...c, tenantId: q.tenantId }, new Date(c.endsAt));
  for (const s of standings) {
    await db.query(
      `INSERT INTO challenge_results (tenant_id, challenge_id, participant, name, km, value, eligible, met, rank,
                                      points, sums)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
        q.tenantId,
        c.id,
        s.participant,
        s.name,
        s.km,
        s.value,
        s.eligible,
        s.met,
        s.rank,
        s.points,
        JSON.stringify({ ...s.sums, members: s.members }),
      ],
    );
    if (s.points > 0)
      for (const userId of s.members)
        await appendPoints(db, {
          tenantId: q.tenantId,
          userId,
          delta: s.points,
          reason: 'challenge',
          ref: `challenge:${c.id}`,
          note: `${c.name}: ${s.rank === null ? 'target met' : `rank ${s.rank}`}`,
          idemKey: `challenge:${c.id}:${userId}`,
          actor: 'system',
        });
  }
  await db.query('UPDATE challenges SET finalized_at = now() WHERE id = $1', [c.id]);
  await appendAudit(db, {
    tenantId: q.tenantId,
    actor: 'system',
    action: 'challenge.finalize',
    entity: `challenge:${c.id}`,
    after: {
      participants: standings.length,
      met: standings.filter((s) => s.met).length,
      pointsPaid: standings.reduce((n, s) => n + s.points * s.members.length, 0),
    },
  });
  return standings;
}
