/**
 * Disputes (issue 19 §2): a driver objects to one of their scored events with a comment; a
 * manager accepts or rejects it with a comment. While pending, and once accepted, the event is
 * left out of scoring; a rejection counts it again. Every change rescores at once the stored days
 * whose window holds the event (drivers/scoring/rescore.ts), in the same transaction, and is
 * audited. Both sides read the same history (listDisputes).
 */
import type pg from 'pg';
import { appendAudit } from '../db/queries/audit-log.ts';
import { CloudError, CloudErrorCode } from '../errors.ts';
import { rescoreAfterEventChange } from './scoring/rescore.ts';

/** The event types a score is made of (the only ones worth disputing). */
export const SCORED_TYPES = ['harsh_accel', 'harsh_brake', 'harsh_corner', 'speeding', 'long_idle'] as const;

export interface Dispute {
  id: number;
  vehicleId: string;
  eventId: number;
  eventType: string;
  eventStart: number;
  userId: string;
  driverName: string;
  comment: string;
  status: 'pending' | 'accepted' | 'rejected';
  createdAt: number;
  decidedBy: string | null;
  decidedAt: number | null;
  decisionComment: string | null;
}

export async function fileDispute(
  db: pg.ClientBase,
  q: { tenantId: string; userId: string; vehicleId: string; eventId: number; comment: string },
): Promise<{ id: number; rescoredDays: string[] }> {
  // Only an event credited to the driver (assigned_driver at its start, unless the vehicle named
  // someone else), of a scored type; anything else reads as not found.
  const { rows } = await db.query<{ start_ms: number }>(
    `SELECT extract(epoch FROM ev.start_ts) * 1000 AS start_ms FROM vehicle_events ev
      WHERE ev.tenant_id = $1 AND ev.vehicle_id = $2 AND ev.event_id = $3 AND ev.type = ANY($5)
        AND assigned_driver(ev.vehicle_id, ev.start_ts) = $4 AND (ev.driver_id IS NULL OR ev.driver_id = $4)`,
    [q.tenantId, q.vehicleId, q.eventId, q.userId, SCORED_TYPES],
  );
  if (!rows[0])
    throw new CloudError(
      CloudErrorCode.ApiNotFound,
      `no scored event ${q.eventId} of yours on ${q.vehicleId}`,
    );
  const inserted = await db
    .query<{ id: string }>(
      `INSERT INTO event_disputes (tenant_id, vehicle_id, event_id, user_id, comment)
       VALUES ($1, $2, $3, $4, $5) RETURNING id`,
      [q.tenantId, q.vehicleId, q.eventId, q.userId, q.comment],
    )
    .catch((err: { code?: string }) => {
      if (err.code === '23505')
        throw new CloudError(CloudErrorCode.DisputeRefused, 'this event is already under review or accepted');
      throw err;
    });
  const id = Number(inserted.rows[0]!.id);
  await appendAudit(db as pg.PoolClient, {
    tenantId: q.tenantId,
    actor: `user:${q.userId}`,
    action: 'dispute.create',
    entity: `event:${q.vehicleId}/${q.eventId}`,
    after: { id, comment: q.comment },
  });
  const rescoredDays = await rescoreAfterEventChange(db, q.tenantId, Number(rows[0].start_ms));
  return { id, rescoredDays };
}

export async function decideDispute(
  db: pg.ClientBase,
  q: { tenantId: string; deciderId: string; disputeId: number; accept: boolean; comment: string },
): Promise<{ status: 'accepted' | 'rejected'; rescoredDays: string[] }> {
  const status = q.accept ? 'accepted' : 'rejected';
  const { rows } = await db.query<{ status: string; start_ms: number; vehicle_id: string; event_id: string }>(
    `SELECT d.status, d.vehicle_id, d.event_id, extract(epoch FROM ev.start_ts) * 1000 AS start_ms
       FROM event_disputes d
       JOIN vehicle_events ev ON ev.tenant_id = d.tenant_id AND ev.vehicle_id = d.vehicle_id AND ev.event_id = d.event_id
      WHERE d.tenant_id = $1 AND d.id = $2 FOR UPDATE OF d`,
    [q.tenantId, q.disputeId],
  );
  const d = rows[0];
  if (!d) throw new CloudError(CloudErrorCode.ApiNotFound, `no dispute ${q.disputeId}`);
  if (d.status !== 'pending')
    throw new CloudError(CloudErrorCode.DisputeDecided, `dispute ${q.disputeId} was already ${d.status}`);
  await db.query(
    `UPDATE event_disputes SET status = $3, decided_by = $4, decided_at = now(), decision_comment = $5
      WHERE tenant_id = $1 AND id = $2`,
    [q.tenantId, q.disputeId, status, q.deciderId, q.comment],
  );
  await appendAudit(db as pg.PoolClient, {
    tenantId: q.tenantId,
    actor: `user:${q.deciderId}`,
    action: `dispute.${q.accept ? 'accept' : 'reject'}`,
    entity: `event:${d.vehicle_id}/${d.event_id}`,
    before: { id: q.disputeId, status: 'pending' },
    after: { id: q.disputeId, status, comment: q.comment },
  });
  const rescoredDays = await rescoreAfterEventChange(db, q.tenantId, Number(d.start_ms));
  return { status, rescoredDays };
}

/** Disputes, newest first: one driver's (userId) or everyone's. */
export async function listDisputes(
  db: pg.ClientBase,
  q: { tenantId: string; userId: string | null; status: Dispute['status'] | null; limit: number },
): Promise<Dispute[]> {
  const { rows } = await db.query<{
    id: string;
    vehicle_id: string;
    event_id: string;
    type: string;
    start_ms: number;
    user_id: string;
    name: string;
    comment: string;
    status: Dispute['status'];
    created_ms: number;
    decided_by: string | null;
    decided_ms: number | null;
    decision_comment: string | null;
  }>(
    `SELECT d.id, d.vehicle_id, d.event_id, ev.type, extract(epoch FROM ev.start_ts) * 1000 AS start_ms,
            d.user_id, u.name, d.comment, d.status, extract(epoch FROM d.created_at) * 1000 AS created_ms,
            dec.name AS decided_by, extract(epoch FROM d.decided_at) * 1000 AS decided_ms, d.decision_comment
       FROM event_disputes d
       JOIN vehicle_events ev ON ev.tenant_id = d.tenant_id AND ev.vehicle_id = d.vehicle_id AND ev.event_id = d.event_id
       JOIN users u ON u.id = d.user_id
       LEFT JOIN users dec ON dec.id = d.decided_by
      WHERE d.tenant_id = $1 AND ($2::text IS NULL OR d.user_id = $2) AND ($3::text IS NULL OR d.status = $3)
      ORDER BY d.created_at DESC, d.id DESC LIMIT $4`,
    [q.tenantId, q.userId, q.status, q.limit],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    vehicleId: r.vehicle_id,
    eventId: Number(r.event_id),
    eventType: r.type,
    eventStart: Number(r.start_ms),
    userId: r.user_id,
    driverName: r.name,
    comment: r.comment,
    status: r.status,
    createdAt: Number(r.created_ms),
    decidedBy: r.decided_by,
    decidedAt: r.decided_ms === null ? null : Number(r.decided_ms),
    decisionComment: r.decision_comment,
  }));
}
