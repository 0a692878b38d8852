import { randomBytes } from 'node:crypto';
import { TRPCError } from '@trpc/server';
import type pg from 'pg';
import { z } from 'zod';
import { createPasswordReset } from '../../auth/auth-service.ts';
import { hashPassword } from '../../auth/passwords.ts';
import { forgetCachedSessions } from '../../auth/session-cache.ts';
import { appendAudit } from '../../db/queries/audit-log.ts';
import { authedProcedure, createRouter } from '../trpc.ts';

const UserId = z.object({ userId: z.uuid() });

/** What the application role may read of a user (never the password hash or lockout state). */
interface UserRow {
  id: string;
  email: string;
  name: string;
  role: string;
  vehicle_id: string | null;
  created_at: Date;
}
// vehicle_id: the current assignment's (migration 000013), not the retired static binding.
const USER_COLUMNS = `id, email, name, role, created_at,
  (SELECT a.vehicle_id FROM vehicle_assignments a
    WHERE a.user_id = users.id AND a.ends_at IS NULL AND a.starts_at <= now()) AS vehicle_id`;

async function userInTenant(db: pg.PoolClient, userId: string, tenantId: string) {
  const { rows } = await db.query<UserRow>(
    `SELECT ${USER_COLUMNS} FROM users WHERE id = $1 AND tenant_id = $2`,
    [userId, tenantId],
  );
  if (!rows[0]) throw new TRPCError({ code: 'NOT_FOUND', message: 'no such user' });
  return rows[0];
}

export const usersRouter = createRouter({
  list: authedProcedure
    .meta({ permission: 'users:manage' })
    .output(
      z.array(
        z.object({
          id: z.string(),
          email: z.string(),
          name: z.string(),
          role: z.string(),
          vehicleId: z.string().nullable(),
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
        }));
      }),
    ),

  /** A single-use, one-hour reset token the admin hands to the user (no mail server assumed). */
  issuePasswordReset: authedProcedure
    .meta({ permission: 'users:manage' })
    .input(UserId)
    .output(z.object({ resetToken: z.string(), expiresInMinutes: z.number() }))
    .mutation(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        await userInTenant(db, input.userId, ctx.session.tenantId);
        const resetToken = await createPasswordReset(db, input.userId);
        await appendAudit(db, {
          tenantId: ctx.session.tenantId,
          actor: `user:${ctx.session.userId}`,
          action: 'user.password-reset-issued',
          entity: `user:${input.userId}`,
        });
        return { resetToken, expiresInMinutes: 60 };
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
