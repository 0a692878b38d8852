import { ID_PATTERN } from '@fleet/shared';
import { TRPCError } from '@trpc/server';
import type pg from 'pg';
import { z } from 'zod';
import type { Session } from '../../auth/session.ts';
import {
  ALERT_COLUMNS,
  ALERT_STATUSES,
  ALERT_TYPES,
  type Alert,
  countAlertsByStatus,
  getAlert,
  listAlerts,
  toAlert,
} from '../../db/queries/alerts.ts';
import { appendAudit } from '../../db/queries/audit-log.ts';
import { CursorInput, decodeCursor, EpochMs, page, rangeCheck } from '../cursor.ts';
import { authedProcedure, createRouter } from '../trpc.ts';

const TsIdCursor = z.object({ ts: z.number(), id: z.number() });

export const ALERTS_MAX_DAYS = 400;

export const AlertOutput = z.object({
  id: z.number(),
  vehicleId: z.string().nullable(),
  type: z.string(),
  severity: z.string(),
  status: z.enum(ALERT_STATUSES),
  title: z.string(),
  ts: z.number(),
  lat: z.number().nullable(),
  lon: z.number().nullable(),
  geofenceId: z.number().nullable(),
  details: z.record(z.string(), z.unknown()),
  createdAt: z.number(),
  acknowledgedAt: z.number().nullable(),
  acknowledgedBy: z.string().nullable(),
  resolvedAt: z.number().nullable(),
  resolvedBy: z.string().nullable(),
  resolutionNote: z.string().nullable(),
});

const AlertId = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const actorOf = (s: Session) => (s.role === 'token' ? s.userId : `user:${s.userId}`);

/**
 * Moves an alert to `to` (open -> acknowledged -> resolved), audited with before and after.
 * Repeating a step already taken answers the alert as it is (a double click is not an error);
 * going back (acknowledging a resolved alert) is CONFLICT.
 */
async function transition(
  db: pg.PoolClient,
  session: Session,
  id: number,
  to: 'acknowledged' | 'resolved',
  note: string | null,
): Promise<Alert> {
  const current = await getAlert(db, session.tenantId, id);
  if (!current) throw new TRPCError({ code: 'NOT_FOUND', message: `no alert ${id}` });
  if (current.status === to) return current;
  if (current.status === 'resolved')
    throw new TRPCError({ code: 'CONFLICT', message: `alert ${id} is already resolved` });
  const actor = actorOf(session);
  const { rows } = await db.query(
    to === 'acknowledged'
      ? `UPDATE alerts SET status = 'acknowledged', acknowledged_at = now(), acknowledged_by = $3
          WHERE tenant_id = $1 AND id = $2 AND status = 'open' RETURNING ${ALERT_COLUMNS}`
      : `UPDATE alerts SET status = 'resolved', resolved_at = now(), resolved_by = $3, resolution_note = $4,
                acknowledged_at = coalesce(acknowledged_at, now()), acknowledged_by = coalesce(acknowledged_by, $3)
          WHERE tenant_id = $1 AND id = $2 AND status <> 'resolved' RETURNING ${ALERT_COLUMNS}`,
    to === 'acknowledged' ? [session.tenantId, id, actor] : [session.tenantId, id, actor, note],
  );
  // Someone else moved it between the read and the update: answer what it is now.
  if (!rows[0]) return (await getAlert(db, session.tenantId, id))!;
  const after = toAlert(rows[0]);
  await appendAudit(db, {
    tenantId: session.tenantId,
    actor,
    action: to === 'acknowledged' ? 'alert.acknowledge' : 'alert.resolve',
    entity: `alert:${id}`,
    before: { status: current.status },
    after: { status: after.status, ...(note ? { note } : {}) },
  });
  return after;
}

export const alertsRouter = createRouter({
  /**
   * The inbox, newest first: filter by status, type, vehicle and time; with the count per status
   * under the same filters (the tabs).
   */
  list: authedProcedure
    .meta({ permission: 'alerts:read' })
    .input(
      z
        .object({
          statuses: z.array(z.enum(ALERT_STATUSES)).min(1).max(3).optional(),
          types: z.array(z.enum(ALERT_TYPES)).min(1).max(ALERT_TYPES.length).optional(),
          vehicleId: z.string().regex(ID_PATTERN).optional(),
          from: EpochMs.optional(),
          to: EpochMs.optional(),
          limit: z.number().int().min(1).max(200).default(50),
          cursor: CursorInput,
        })
        .superRefine(rangeCheck(ALERTS_MAX_DAYS))
        .default({ limit: 50 }),
    )
    .output(
      z.object({
        items: z.array(AlertOutput),
        nextCursor: z.string().nullable(),
        counts: z.record(z.enum(ALERT_STATUSES), z.number()),
      }),
    )
    .query(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        const filter = {
          tenantId: ctx.session.tenantId,
          statuses: input.statuses ?? null,
          types: input.types ?? null,
          vehicleId: input.vehicleId ?? null,
          from: input.from ?? null,
          to: input.to ?? null,
        };
        const after = decodeCursor(input.cursor, TsIdCursor);
        const rows = await listAlerts(db, filter, input.limit + 1, after);
        const counts = await countAlertsByStatus(db, filter);
        return { ...page(rows, input.limit, (a) => ({ ts: a.ts, id: a.id })), counts };
      }),
    ),

  /** One alert (the link in an e-mail, a push or a webhook names it). */
  get: authedProcedure
    .meta({ permission: 'alerts:read' })
    .input(z.object({ alertId: AlertId }))
    .output(AlertOutput)
    .query(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        const alert = await getAlert(db, ctx.session.tenantId, input.alertId);
        if (!alert) throw new TRPCError({ code: 'NOT_FOUND', message: `no alert ${input.alertId}` });
        return alert;
      }),
    ),

  /** Someone is on it. Audited. */
  acknowledge: authedProcedure
    .meta({ permission: 'alerts:manage' })
    .input(z.object({ alertId: AlertId }))
    .output(AlertOutput)
    .mutation(({ ctx, input }) =>
      ctx.tenant((db) => transition(db, ctx.session, input.alertId, 'acknowledged', null)),
    ),

  /** Dealt with, optionally with a note of how. Audited. */
  resolve: authedProcedure
    .meta({ permission: 'alerts:manage' })
    .input(z.object({ alertId: AlertId, note: z.string().trim().max(500).optional() }))
    .output(AlertOutput)
    .mutation(({ ctx, input }) =>
      ctx.tenant((db) => transition(db, ctx.session, input.alertId, 'resolved', input.note || null)),
    ),
});
