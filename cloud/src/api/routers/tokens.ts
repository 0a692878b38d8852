import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { createApiToken } from '../../auth/auth-service.ts';
import { can, PERMISSION_NAMES, type Permission } from '../../auth/permissions.ts';
import { forgetCachedSessions } from '../../auth/session-cache.ts';
import { appendAudit } from '../../db/queries/audit-log.ts';
import { authedProcedure, createRouter } from '../trpc.ts';

const manage = authedProcedure.meta({ permission: 'tokens:manage' });
const personal = authedProcedure.meta({ permission: 'tokens:personal' });
const TokenId = z.string().regex(/^[0-9a-f]{16}$/);
const Permissions = z
  .array(z.enum(PERMISSION_NAMES as [Permission, ...Permission[]]))
  .min(1)
  .max(PERMISSION_NAMES.length);
const TokenSummary = z.object({
  id: z.string(),
  name: z.string(),
  permissions: z.array(z.string()),
  revoked: z.boolean(),
  createdAt: z.number(),
  expiresAt: z.number().nullable(),
});
interface TokenRow {
  id: string;
  name: string;
  permissions: string[];
  revoked_at: Date | null;
  created_at: Date;
  expires_at: Date | null;
}
const summary = (r: TokenRow) => ({
  id: r.id,
  name: r.name,
  permissions: r.permissions,
  revoked: r.revoked_at !== null,
  createdAt: r.created_at.getTime(),
  expiresAt: r.expires_at?.getTime() ?? null,
});

/** A personal token belongs to a person: an integration token cannot make one for itself. */
function ownUserId(userId: string): string {
  if (userId.startsWith('token:'))
    throw new TRPCError({ code: 'FORBIDDEN', message: 'an API token cannot own personal tokens' });
  return userId;
}

export const tokensRouter = createRouter({
  /** A token for an integration, limited to `permissions` (no more than the creator's role has). Shown once. */
  create: manage
    .input(
      z.object({
        name: z.string().trim().min(1).max(100),
        permissions: Permissions,
        expiresInDays: z.number().int().min(1).max(730).optional(),
      }),
    )
    .output(z.object({ id: z.string(), token: z.string() }))
    .mutation(({ ctx, input }) => {
      const beyond = input.permissions.filter((p) => !can(ctx.session.role, p, ctx.session.scopes));
      if (beyond.length > 0)
        throw new TRPCError({ code: 'FORBIDDEN', message: `cannot grant ${beyond.join(', ')}` });
      return ctx.tenant(async (db) => {
        const t = await createApiToken(db, {
          tenantId: ctx.session.tenantId,
          name: input.name,
          permissions: [...new Set(input.permissions)],
          createdBy: ctx.session.userId,
          expiresAt: input.expiresInDays ? Date.now() + input.expiresInDays * 86_400_000 : null,
        });
        await appendAudit(db, {
          tenantId: ctx.session.tenantId,
          actor: `user:${ctx.session.userId}`,
          action: 'token.create',
          entity: `token:${t.id}`,
          after: { name: input.name, permissions: input.permissions },
        });
        return t;
      });
    }),

  list: manage
    .output(
      z.array(
        z.object({
          id: z.string(),
          name: z.string(),
          permissions: z.array(z.string()),
          revoked: z.boolean(),
          createdAt: z.number(),
        }),
      ),
    )
    .query(({ ctx }) =>
      ctx.tenant(async (db) => {
        const { rows } = await db.query<{
          id: string;
          name: string;
          permissions: string[];
          revoked_at: Date | null;
          created_at: Date;
        }>(
          'SELECT id, name, permissions, revoked_at, created_at FROM api_tokens WHERE tenant_id = $1 ORDER BY created_at',
          [ctx.session.tenantId],
        );
        return rows.map((r) => ({
          id: r.id,
          name: r.name,
          permissions: r.permissions,
          revoked: r.revoked_at !== null,
          createdAt: r.created_at.getTime(),
        }));
      }),
    ),

  revoke: manage
    .input(z.object({ tokenId: TokenId }))
    .output(z.object({ revoked: z.boolean() }))
    .mutation(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        const { rowCount } = await db.query(
          'UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND tenant_id = $2 AND revoked_at IS NULL',
          [input.tokenId, ctx.session.tenantId],
        );
        if (!rowCount) throw new TRPCError({ code: 'NOT_FOUND', message: 'no such active token' });
        forgetCachedSessions();
        await appendAudit(db, {
          tenantId: ctx.session.tenantId,
          actor: `user:${ctx.session.userId}`,
          action: 'token.revoke',
          entity: `token:${input.tokenId}`,
        });
        return { revoked: true };
      }),
    ),

  /** The caller's own tokens (personal), newest first. */
  mine: personal.output(z.array(TokenSummary)).query(({ ctx }) =>
    ctx.tenant(async (db) => {
      const { rows } = await db.query<TokenRow>(
        `SELECT id, name, permissions, revoked_at, created_at, expires_at FROM api_tokens
          WHERE tenant_id = $1 AND owner_user_id = $2 ORDER BY created_at DESC`,
        [ctx.session.tenantId, ownUserId(ctx.session.userId)],
      );
      return rows.map(summary);
    }),
  ),

  /**
   * A personal token: acts as the caller with at most `permissions` (never beyond their role, then
   * or later: a lower role narrows it at each use), and ends when the account is deactivated.
   * The token is shown once.
   */
  createMine: personal
    .input(
      z.object({
        name: z.string().trim().min(1).max(100),
        permissions: Permissions,
        expiresInDays: z.number().int().min(1).max(365).default(90),
      }),
    )
    .output(z.object({ id: z.string(), token: z.string() }))
    .mutation(({ ctx, input }) => {
      const owner = ownUserId(ctx.session.userId);
      const beyond = input.permissions.filter((p) => !can(ctx.session.role, p, ctx.session.scopes));
      if (beyond.length > 0)
        throw new TRPCError({ code: 'FORBIDDEN', message: `your role does not have ${beyond.join(', ')}` });
      return ctx.tenant(async (db) => {
        const t = await createApiToken(db, {
          tenantId: ctx.session.tenantId,
          name: input.name,
          permissions: [...new Set(input.permissions)],
          createdBy: owner,
          ownerUserId: owner,
          expiresAt: Date.now() + input.expiresInDays * 86_400_000,
        });
        await appendAudit(db, {
          tenantId: ctx.session.tenantId,
          actor: `user:${owner}`,
          action: 'token.create-personal',
          entity: `token:${t.id}`,
          after: { name: input.name, permissions: input.permissions, expiresInDays: input.expiresInDays },
        });
        return t;
      });
    }),

  revokeMine: personal
    .input(z.object({ tokenId: TokenId }))
    .output(z.object({ revoked: z.boolean() }))
    .mutation(({ ctx, input }) =>
      ctx.tenant(async (db) => {
        const owner = ownUserId(ctx.session.userId);
        const { rowCount } = await db.query(
          `UPDATE api_tokens SET revoked_at = now()
            WHERE id = $1 AND tenant_id = $2 AND owner_user_id = $3 AND revoked_at IS NULL`,
          [input.tokenId, ctx.session.tenantId, owner],
        );
        if (!rowCount) throw new TRPCError({ code: 'NOT_FOUND', message: 'no such active token of yours' });
        forgetCachedSessions();
        await appendAudit(db, {
          tenantId: ctx.session.tenantId,
          actor: `user:${owner}`,
          action: 'token.revoke-personal',
          entity: `token:${input.tokenId}`,
        });
        return { revoked: true };
      }),
    ),
});
