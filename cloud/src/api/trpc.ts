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

const tenantOf =
  (db: pg.Pool, tenantId: string) =>
  <T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> =>
    inTenant(db, tenantId, fn);

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
  // tRPC merges these into the context (no copy of it here: one per request is enough).
  return next({
    ctx: {
      session,
      /** The database as this tenant (fleet_app + RLS). */
      tenant: tenantOf(ctx.db, session.tenantId),
    },
  });
});

/** What a middleware is called with and answers, in tRPC 11's procedure chain. */
interface ChainOptions {
  path: string;
  type: 'query';
  ctx: object;
  input: unknown;
  getRawInput: () => Promise<unknown>;
  signal: undefined;
  batchIndex: number;
}
type ChainResult = { ok: true; data: unknown } | { ok: false; error: unknown };
type Middleware = (
  opts: ChainOptions & {
    meta: unknown;
    next: (n?: {
      ctx?: object;
      input?: unknown;
      getRawInput?: () => Promise<unknown>;
    }) => Promise<ChainResult>;
  },
) => Promise<ChainResult>;
export interface QueryProcedure {
  _def: { type: string; middlewares: Middleware[]; meta: unknown };
}

/*
 * Closures made per request come from factories (returned unnamed): under tsx (how the cloud
 * runs), esbuild's keepNames wraps every function literal that takes a property's or variable's
 * name in a defineProperty call, which the profile showed per request.
 */
const nextOf =
  (mws: Middleware[], meta: unknown, i: number, o: ChainOptions) =>
  (n?: { ctx?: object; input?: unknown; getRawInput?: () => Promise<unknown> }) =>
    step(mws, meta, i + 1, {
      path: o.path,
      type: o.type,
      ctx: n?.ctx ? { ...o.ctx, ...n.ctx } : o.ctx,
      input: n && 'input' in n ? n.input : o.input,
      getRawInput: n?.getRawInput ?? o.getRawInput,
      signal: o.signal,
      batchIndex: o.batchIndex,
    });
const rawInputOf = (input: unknown) => () => Promise.resolve(input);

async function step(mws: Middleware[], meta: unknown, i: number, o: ChainOptions): Promise<ChainResult> {
  try {
    return await mws[i]!({
      path: o.path,
      type: o.type,
      ctx: o.ctx,
      input: o.input,
      getRawInput: o.getRawInput,
      signal: o.signal,
      batchIndex: o.batchIndex,
      meta,
      next: nextOf(mws, meta, i, o),
    });
  } catch (error) {
    return { ok: false, error };
  }
}

/**
 * Runs a query procedure's chain as tRPC's own caller does: the same middlewares in the same order
 * (error formatting, sign-in and permission, input parsing, output checks, the resolver), each
 * with the options and context tRPC would pass, a throw turned into a failed result for the
 * middlewares above it. Only the copying differs: tRPC 11's published build copies the options
 * with a transpiled object-spread helper (defineProperty per key) several times per middleware,
 * which on a shared answer was the largest cost of a request (bench/api.ts, node --cpu-prof);
 * here each is one object literal of the same fields. Rejects with the procedure's error.
 */
export async function callQuery(
  procedure: QueryProcedure,
  opts: { path: string; ctx: ApiContext; input: unknown },
): Promise<unknown> {
  const result = await step(procedure._def.middlewares, procedure._def.meta, 0, {
    path: opts.path,
    type: 'query',
    ctx: opts.ctx,
    input: undefined,
    getRawInput: rawInputOf(opts.input),
    signal: undefined,
    batchIndex: 0,
  });
  if (!result.ok) throw result.error;
  return result.data;
}
