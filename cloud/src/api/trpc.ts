import { initTRPC, TRPCError } from '@trpc/server';
import type pg from 'pg';
import { ZodError } from 'zod';
import type { Session } from '../auth/auth-service.ts';
import { can, type Permission } from '../auth/permissions.ts';

/** Created once per request by the HTTP adapter (or by a test's server-side caller). */
export interface ApiContext {
  db: pg.Pool;
  /** The signed-in user, from the session cookie or a bearer token; null when anonymous. */
  session: Session | null;
  /** Client address, for rate limits and the audit log. */
  ip?: string;
  /** Sets a cookie on the HTTP response (absent for server-side callers). */
  setCookie?: (cookie: string) => void;
  /** OpenID Connect sign-in is configured (the sign-in page offers it). */
  oidc?: boolean;
  /** The presented session token (sign-out deletes it). */
  token?: string | null;
}

export interface ApiMeta {
  /** What the caller's role must be allowed; every signed-in procedure names one. */
  permission?: Permission;
}

const t = initTRPC
  .context<ApiContext>()
  .meta<ApiMeta>()
  .create({
    // Subscriptions (live positions, alerts) over server-sent events: a comment every 15 s keeps
    // proxies from closing a quiet stream and lets the client notice a dead one (reconnect after
    // 30 s without anything); a stream ends after 15 minutes and the client reconnects, so a
    // signed-out or revoked session stops receiving within that time.
    sse: {
      ping: { enabled: true, intervalMs: 15_000 },
      maxDurationMs: 15 * 60_000,
      client: { reconnectAfterInactivityMs: 30_000 },
    },
    errorFormatter({ shape, error }) {
      return {
        ...shape,
        data: {
          ...shape.data,
          // Clients see flattened zod errors, never a stack.
          zodError: error.cause instanceof ZodError ? error.cause.flatten() : null,
          stack: undefined,
        },
      };
    },
  });

export const createRouter = t.router;
export const createCallerFactory = t.createCallerFactory;
/** Anonymous: sign-in only. */
export const publicProcedure = t.procedure;

/**
 * Runs `fn` in a transaction as the non-superuser `fleet_app` with `app.tenant_id` set to the
 * session's tenant: row-level security scopes every statement, whatever the query forgets.
 */
export async function inTenant<T>(
  db: pg.Pool,
  tenantId: string,
  fn: (c: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const c = await db.connect();
  try {
    // One round trip for the three (a multi-statement simple query cannot take parameters, so the
    // tenant id goes in as an escaped literal): on a request that runs one query, this was half
    // of its trips to the database.
    await c.query(
      `BEGIN; SET LOCAL ROLE fleet_app; SELECT set_config('app.tenant_id', ${c.escapeLiteral(tenantId)}, true)`,
    );
    const result = await fn(c);
    await c.query('COMMIT');
    return result;
  } catch (err) {
    await c.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    c.release();
  }
}

/**
 * Signed in, and the role holds the procedure's permission (meta). A procedure without a
 * permission is refused: forgetting one closes the door rather than opening it.
 */
export const authedProcedure = t.procedure.use(({ ctx, meta, next }) => {
  const session = ctx.session;
  if (!session) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'sign in first' });
  if (!meta?.permission || !can(session.role, meta.permission, session.scopes)) {
    throw new TRPCError({
      code: 'FORBIDDEN',
      message: `role ${session.role} may not ${meta?.permission ?? 'call an undeclared procedure'}`,
    });
  }
  return next({
    ctx: {
      ...ctx,
      session,
      /** The database as this tenant (fleet_app + RLS). */
      tenant: <T>(fn: (c: pg.PoolClient) => Promise<T>) => inTenant(ctx.db, session.tenantId, fn),
    },
  });
});
