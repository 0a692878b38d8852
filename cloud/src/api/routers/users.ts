import { randomBytes } from 'node:crypto';
import { ID_PATTERN } from '@fleet/shared';
import { TRPCError } from '@trpc/server';
import type pg from 'pg';
import { z } from 'zod';
import { assignFromNow, createPasswordReset, RESET_TTL_MS } from '../../auth/auth-service.ts';
import { createInvite, handOverByAdmin, linkTo } from '../../auth/invites.ts';
import { hashPassword } from '../../auth/passwords.ts';
import { ROLES } from '../../auth/permissions.ts';
import { forgetCachedSessions } from '../../auth/session-cache.ts';
import { appendAudit } from '../../db/queries/audit-log.ts';
import { authedProcedure, createRouter } from '../trpc.ts';

const UserId = z.object({ userId: z.uuid() });
const manage = authedProcedure.meta({ permission: 'users:manage' });
const Role = z.enum(ROLES);
const VehicleId = z.string().regex(ID_PATTERN).max(64);

/** A driver is bound to the vehicle they drive (users' CHECK): say so as a field error, not a 500. */
const withDriverVehicle = <T extends { role: string; vehicleId?: string | undefined }>(
  o: T,
  ctx: z.RefinementCtx,
) => {
  if (o.role === 'driver' && !o.vehicleId)
    ctx.addIssue({ code: 'custom', path: ['vehicleId'], message: 'a driver needs the vehicle they drive' });
};

/** What the application role may read of a user (never the password hash or lockout state). */
interface UserRow {
  id: string;
  email: string;
  name: string;
  role: string;
  vehicle_id: string | null;
  created_at: Date;
  deactivated_at: Date | null;
}
// vehicle_id: the current assignment's (migration 000013), not the retired static binding.
const USER_COLUMNS = `id, email, name, role, created_at, deactivated_at,
  (SELECT a.vehicle_id FROM vehicle_assignments a
    WHERE a.user_id = users.id AND a.ends_at IS NULL AND a.starts_at <= now()) AS vehicle_id`;

async function vehicleInTenant(db: pg.PoolClient, vehicleId: string, tenantId: string) {
  const { rowCount } = await db.query('SELECT 1 FROM vehicles WHERE id = $1 AND tenant_id = $2', [
    vehicleId,
    tenantId,
  ]);
  if (!rowCount) throw new TRPCError({ code: 'NOT_FOUND', message: 'no such vehicle' });
}

/** An admin who could demote or lock out themselves could leave the tenant without one. */
function notYourself(callerId: string, userId: string, what: string) {
  if (callerId === userId) throw new TRPCError({ code: 'BAD_REQUEST', message: `you cannot ${what}` });
}

async function userInTenant(db: pg.PoolClient, userId: string, tenantId: string) {
  const { rows } = await db.query<UserRow>(
    `SELECT ${USER_COLUMNS} FROM users WHERE id = $1 AND tenant_id = $2`,
    [userId, tenantId],
  );
  if (!rows[0]) throw new TRPCError({ code: 'NOT_FOUND', message: 'no such user' });
  return rows[0];
}

export const usersRouter = createRouter({
  list: manage
    .output(
      z.array(
        z.object({
          id: z.string(),
          email: z.string(),
          name: z.string(),
          role: z.string(),
          vehicleId: z.string().nullable(),
          createdAt: z.number(),
          /** Deactivated: cannot sign in; null while active. */
          deactivatedAt: z.number().nullable(),
        }),
      ),
    )
    .query(({ ctx }) =>
      ctx.tenant(async (db) => {
        const { rows } = await db.query<UserRow>(
          `SELECT ${USER_COLUMNS} FROM users WHERE tenant_id = $1 ORDER BY email`,
          [ctx.session.tenantId],
        );
        return rows.map((r) => ({
          id: r.id,
          email: r.email,
          name: r.name,
          role: r.role,
          vehicleId: r.vehicle_id,
          createdAt: r.created_at.getTime(),
          deactivatedAt: r.deactivated_at?.getTime() ?? null,
        }));
      }),
    ),

  /**
   * Invites a person by e-mail: a one-time link (7 days) that sets their password and signs them
   * in. Until the e-mail channel exists nothing is sent and the admin is given the link.
   */
  invite: manage
    .input(
      z
        .object({
          email: z.email().max(254),
          name: z.string().trim().min(1).max(100),
          role: Role,
          vehicleId: VehicleId.optional(),
        })
        .superRefine(withDriverVehicle),
    )
    .output(
      z.object({ inviteId: z.string(), link: z.string(), expiresAt: z.number(), delivered: z.boolean() }),
    )
    .mutation(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        if (input.vehicleId) await vehicleInTenant(db, input.vehicleId, ctx.session.tenantId);
        const r = await createInvite(db, {
          tenantId: ctx.session.tenantId,
          email: input.email,
          name: input.name,
          role: input.role,
          vehicleId: input.role === 'driver' ? (input.vehicleId ?? null) : null,
          invitedBy: ctx.session.userId,
        });
        if (!r.ok)
          throw new TRPCError({ code: 'CONFLICT', message: 'a user with this e-mail already exists' });
        const link = linkTo('/invite', r.token, ctx.admin?.publicUrl);
        await appendAudit(db, {
          tenantId: ctx.session.tenantId,
          actor: `user:${ctx.session.userId}`,
          action: 'user.invite',
          entity: `invite:${r.inviteId}`,
          // Never the token or the link: the audit log is readable by compliance.
          after: { email: input.email.toLowerCase(), role: input.role, vehicleId: input.vehicleId ?? null },
        });
        const { delivered } = await (ctx.admin?.invites ?? handOverByAdmin).send({
          tenantId: ctx.session.tenantId,
          email: input.email.toLowerCase(),
          name: input.name,
          role: input.role,
          link,
          expiresAt: r.expiresAt,
        });
        return { inviteId: r.inviteId, link, expiresAt: r.expiresAt, delivered };
      }),
    ),

  /** Open, expired and withdrawn invitations not yet accepted (newest first). */
  invites: manage
    .output(
      z.array(
        z.object({
          id: z.string(),
          email: z.string(),
          name: z.string(),
          role: z.string(),
          createdAt: z.number(),
          expiresAt: z.number(),
          state: z.enum(['open', 'expired', 'withdrawn']),
        }),
      ),
    )
    .query(({ ctx }) =>
      ctx.tenant(async (db) => {
        const { rows } = await db.query<{
          id: string;
          email: string;
          name: string;
          role: string;
          created_at: Date;
          expires_at: Date;
          revoked_at: Date | null;
        }>(
          `SELECT id, email, name, role, created_at, expires_at, revoked_at FROM user_invites
            WHERE tenant_id = $1 AND accepted_at IS NULL ORDER BY created_at DESC LIMIT 200`,
          [ctx.session.tenantId],
        );
        const now = Date.now();
        return rows.map((r) => ({
          id: r.id,
          email: r.email,
          name: r.name,
          role: r.role,
          createdAt: r.created_at.getTime(),
          expiresAt: r.expires_at.getTime(),
          state: r.revoked_at ? 'withdrawn' : r.expires_at.getTime() <= now ? 'expired' : 'open',
        }));
      }),
    ),

  /** The link stops working. */
  withdrawInvite: manage
    .input(z.object({ inviteId: z.uuid() }))
    .output(z.object({ withdrawn: z.boolean() }))
    .mutation(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        const { rowCount } = await db.query(
          `UPDATE user_invites SET revoked_at = now()
            WHERE id = $1 AND tenant_id = $2 AND accepted_at IS NULL AND revoked_at IS NULL`,
          [input.inviteId, ctx.session.tenantId],
        );
        if (!rowCount) throw new TRPCError({ code: 'NOT_FOUND', message: 'no such open invitation' });
        await appendAudit(db, {
          tenantId: ctx.session.tenantId,
          actor: `user:${ctx.session.userId}`,
          action: 'user.invite-withdrawn',
          entity: `invite:${input.inviteId}`,
        });
        return { withdrawn: true };
      }),
    ),

  /** A new role (a driver with their vehicle); effective at the user's next request. */
  setRole: manage
    .input(
      z
        .object({ userId: z.uuid(), role: Role, vehicleId: VehicleId.optional() })
        .superRefine(withDriverVehicle),
    )
    .output(z.object({ role: z.string() }))
    .mutation(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        notYourself(ctx.session.userId, input.userId, 'change your own role');
        const before = await userInTenant(db, input.userId, ctx.session.tenantId);
        if (input.vehicleId) await vehicleInTenant(db, input.vehicleId, ctx.session.tenantId);
        const vehicleId = input.role === 'driver' ? input.vehicleId! : before.vehicle_id;
        await db.query('UPDATE users SET role = $2 WHERE id = $1', [input.userId, input.role]);
        // What a driver drives is their assignment (migration 000013): from now, never the past.
        if (input.role === 'driver' && vehicleId && vehicleId !== before.vehicle_id)
          await assignFromNow(
            db,
            ctx.session.tenantId,
            vehicleId,
            input.userId,
            `user:${ctx.session.userId}`,
          );
        if (input.role !== 'driver')
          await db.query(
            'UPDATE vehicle_assignments SET ends_at = now() WHERE user_id = $1 AND ends_at IS NULL',
            [input.userId],
          );
        // Sessions read the role at lookup: the cache must not keep the old one.
        forgetCachedSessions();
        await appendAudit(db, {
          tenantId: ctx.session.tenantId,
          actor: `user:${ctx.session.userId}`,
          action: 'user.role-change',
          entity: `user:${input.userId}`,
          before: { role: before.role, vehicleId: before.vehicle_id },
          after: { role: input.role, vehicleId },
        });
        return { role: input.role };
      }),
    ),

  /**
   * The user can no longer sign in; their sessions end and their personal tokens are revoked in
   * this transaction, so their very next request is refused.
   */
  deactivate: manage
    .input(UserId)
    .output(z.object({ deactivated: z.boolean(), sessionsEnded: z.number(), tokensRevoked: z.number() }))
    .mutation(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        notYourself(ctx.session.userId, input.userId, 'deactivate yourself');
        const u = await userInTenant(db, input.userId, ctx.session.tenantId);
        if (u.deactivated_at) throw new TRPCError({ code: 'CONFLICT', message: 'already deactivated' });
        await db.query('UPDATE users SET deactivated_at = now() WHERE id = $1', [input.userId]);
        const sessions = await db.query('DELETE FROM sessions WHERE user_id = $1', [input.userId]);
        const tokens = await db.query(
          'UPDATE api_tokens SET revoked_at = now() WHERE owner_user_id = $1 AND revoked_at IS NULL',
          [input.userId],
        );
        forgetCachedSessions();
        await appendAudit(db, {
          tenantId: ctx.session.tenantId,
          actor: `user:${ctx.session.userId}`,
          action: 'user.deactivate',
          entity: `user:${input.userId}`,
          after: { sessionsEnded: sessions.rowCount ?? 0, tokensRevoked: tokens.rowCount ?? 0 },
        });
        return {
          deactivated: true,
          sessionsEnded: sessions.rowCount ?? 0,
          tokensRevoked: tokens.rowCount ?? 0,
        };
      }),
    ),

  /** Signing in works again (with the old password, or after a reset). */
  reactivate: manage
    .input(UserId)
    .output(z.object({ reactivated: z.boolean() }))
    .mutation(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        const u = await userInTenant(db, input.userId, ctx.session.tenantId);
        if (!u.deactivated_at) throw new TRPCError({ code: 'CONFLICT', message: 'not deactivated' });
        await db.query('UPDATE users SET deactivated_at = NULL WHERE id = $1', [input.userId]);
        await appendAudit(db, {
          tenantId: ctx.session.tenantId,
          actor: `user:${ctx.session.userId}`,
          action: 'user.reactivate',
          entity: `user:${input.userId}`,
        });
        return { reactivated: true };
      }),
    ),

  /** A single-use, one-hour reset link the admin hands to the user (no mail server assumed). */
  issuePasswordReset: manage
    .input(UserId)
    .output(z.object({ resetToken: z.string(), link: z.string(), expiresInMinutes: z.number() }))
    .mutation(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        const u = await userInTenant(db, input.userId, ctx.session.tenantId);
        if (u.deactivated_at)
          throw new TRPCError({
            code: 'CONFLICT',
            message: 'reactivate the user before resetting the password',
          });
        const resetToken = await createPasswordReset(db, input.userId);
        await appendAudit(db, {
          tenantId: ctx.session.tenantId,
          actor: `user:${ctx.session.userId}`,
          action: 'user.password-reset-issued',
          entity: `user:${input.userId}`,
        });
        return {
          resetToken,
          link: linkTo('/reset-password', resetToken, ctx.admin?.publicUrl),
          expiresInMinutes: RESET_TTL_MS / 60_000,
        };
      }),
    ),

  /** Everything the system holds about one person (GDPR art. 15 / CCPA), as JSON; audited. */
  gdprExport: authedProcedure
    .meta({ permission: 'gdpr:manage' })
    .input(UserId)
    .output(
      z.object({
        user: z.record(z.string(), z.unknown()),
        activity: z.array(z.record(z.string(), z.unknown())),
        exportedAt: z.number(),
      }),
    )
    .mutation(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        const u = await userInTenant(db, input.userId, ctx.session.tenantId);
        const { rows: activity } = await db.query<{ at: Date; action: string; entity: string | null }>(
          `SELECT at, action, entity FROM audit_log WHERE tenant_id = $1 AND (actor = $2 OR entity = $2) ORDER BY id`,
          [ctx.session.tenantId, `user:${input.userId}`],
        );
        await appendAudit(db, {
          tenantId: ctx.session.tenantId,
          actor: `user:${ctx.session.userId}`,
          action: 'gdpr.export',
          entity: `user:${input.userId}`,
        });
        return {
          user: {
            id: u.id,
            email: u.email,
            name: u.name,
            role: u.role,
            vehicleId: u.vehicle_id,
            createdAt: u.created_at.getTime(),
          },
          activity: activity.map((a) => ({ at: a.at.getTime(), action: a.action, entity: a.entity })),
          exportedAt: Date.now(),
        };
      }),
    ),

  /**
   * Erasure (GDPR art. 17 / CCPA): name and email replaced, password made unusable, sessions
   * ended. The user id stays as a pseudonym, so audit entries and fleet aggregates (telemetry
   * belongs to vehicles, not to people) stay whole; the audit entry of the erasure holds no
   * personal data.
   */
  gdprErase: authedProcedure
    .meta({ permission: 'gdpr:manage' })
    .input(UserId)
    .output(z.object({ erased: z.boolean() }))
    .mutation(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        await userInTenant(db, input.userId, ctx.session.tenantId);
        if (input.userId === ctx.session.userId)
          throw new TRPCError({ code: 'BAD_REQUEST', message: 'cannot erase yourself' });
        await db.query(
          `UPDATE users SET name = 'Erased user', email = $2, password_hash = $3, failed_logins = 0, locked_until = NULL
            WHERE id = $1`,
          [
            input.userId,
            `erased-${input.userId}@erased.invalid`,
            await hashPassword(randomBytes(32).toString('hex')),
          ],
        );
        await db.query('DELETE FROM sessions WHERE user_id = $1', [input.userId]);
        forgetCachedSessions();
        await appendAudit(db, {
          tenantId: ctx.session.tenantId,
          actor: `user:${ctx.session.userId}`,
          action: 'gdpr.erase',
          entity: `user:${input.userId}`,
        });
        return { erased: true };
      }),
    ),
});
