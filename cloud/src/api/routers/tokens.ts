import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { createApiToken } from '../../auth/auth-service.ts';
import { can, PERMISSION_NAMES, type Permission } from '../../auth/permissions.ts';
import { forgetCachedSessions } from '../../auth/session-cache.ts';
import { appendAudit } from '../../db/queries/audit-log.ts';
import { authedProcedure, createRouter } from '../trpc.ts';

const manage = authedProcedure.meta({ permission: 'tokens:manage' });
const TokenId = z.string().regex(/^[0-9a-f]{16}$/);

export const tokensRouter = createRouter({
  /** A token for an integration, limited to `permissions` (no more than the creator's role has). Shown once. */
  create: manage
    .input(
      z.object({
        name: z.string().trim().min(1).max(100),
        permissions: z
          .array(z.enum(PERMISSION_NAMES as [Permission, ...Permission[]]))
          .min(1)
          .max(PERMISSION_NAMES.length),
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
});
