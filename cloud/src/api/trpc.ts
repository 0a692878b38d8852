import { initTRPC, TRPCError } from '@trpc/server';
import type pg from 'pg';
import { ZodError } from 'zod';
import type { InviteSender } from '../auth/invites.ts';
import { can, type Permission } from '../auth/permissions.ts';
import type { Session } from '../auth/session.ts';
import type { ReadReplica } from '../db/read-replica.ts';
import { inTenant } from '../db/tenant.ts';
import type { DeviceProvisioning } from '../devices/device-provisioning.ts';
import { observeProcedure } from '../metrics/api-metrics.ts';

/** What the administration procedures reach beyond the database (main.ts wires them). */
export interface AdminServices {
  /** Device credentials and the broker's logins. */
  devices: DeviceProvisioning;
  /** Delivers invitation links (today: hands them back to the admin). */
  invites: InviteSender;
  /** The address people open (FLEET_PUBLIC_URL): links in invitations are absolute with it. */
  publicUrl?: string | undefined;
}

import { CloudError } from '../errors.ts';

/** Created once per request by the HTTP adapter (or by a test's server-side caller). */
export interface ApiContext {
  /** The primary: every write, sign-in and read-your-writes path. */
  db: pg.Pool;
  /** The read replica (DATABASE_READ_URL) for `replicaRead` procedures; absent: all on `db`. */
  readReplica?: ReadReplica | undefined;
  /** The signed-in user, from the session cookie or a bearer token; null when anonymous. */
  session: Session | null;
  /** Client address, for rate limits and the audit log. */
  ip?: string;
  /**
   * Sets (a token) or deletes (null) the session cookie on the HTTP response, SameSite=Strict
   * (session-cookie.ts); absent for server-side callers.
   */
  setSessionCookie?: (token: string | null, maxAgeS: number) => void;
  /** OpenID Connect sign-in is configured (the sign-in page offers it). */
  oidc?: boolean;
  /** The presented session token (sign-out deletes it). */
  token?: string | null;
  /** Absent (tests' callers): devices cannot be changed, invitation links are handed over. */
  admin?: AdminServices;
  /**
   * A failure is not the answer: the HTTP adapter runs the call again and answers it (server.ts's
   * direct GET answers), so the metrics count that failure once, from the adapter's run.
   */
  answeredAgainOnError?: boolean;
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
          zodError:
            error.cause instanceof ZodError
              ? error.cause.flatten()
              : // A check past the schema (an address that resolves to a private network) in
                // the same shape, so a form shows it next to its field.
                error.cause instanceof CloudError && error.cause.fields
                ? {
                    formErrors: [],
                    fieldErrors: Object.fromEntries(
                      Object.entries(error.cause.fields).map(([f, m]) => [f, [m]]),
                    ),
                  }
                : null,
          stack: undefined,
        },
      };
    },
  });

export const createRouter = t.router;
export const createCallerFactory = t.createCallerFactory;

/** Every procedure's time and outcome, for the metrics endpoint (metrics/api-metrics.ts). */
const timedProcedure = t.procedure.use(async ({ ctx, path, type, next }) => {
  const began = performance.now();
  const result = await next();
  if (result.ok) observeProcedure(path, type, (performance.now() - began) / 1000);
  else if (!ctx.answeredAgainOnError)
    observeProcedure(path, type, (performance.now() - began) / 1000, result.error.code);
  return result;
});

/** Anonymous: sign-in only. */
export const publicProcedure = timedProcedure;

const tenantOf =
  (db: pg.Pool, tenantId: string) =>
  <T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> =>
    inTenant(db, tenantId, fn);

/**
 * Signed in, and the role holds the procedure's permission (meta). A procedure without a
 * permission is refused: forgetting one closes the door rather than opening it.
 */
export const authedProcedure = timedProcedure.use(({ ctx, meta, next }) => {
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

/**
 * A signed-in read that may lag the primary by replication delay (dashboards, reports,
 * leaderboards): its `ctx.tenant` runs on the read replica when one is configured, on the primary
 * while the replica is unreachable (db/read-replica.ts). Only for procedures that write nothing
 * and that nobody reads right after their own write: a mutation, or a page re-read after saving,
 * stays on `authedProcedure` (the replica would refuse the write, and could show the old row).
 */
export const replicaReadProcedure = authedProcedure.use(({ ctx, next }) => {
  const replica = ctx.readReplica;
  if (!replica) return next();
  const tenantId = ctx.session.tenantId;
  return next({
    ctx: {
      tenant: <T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> => replica.inTenant(tenantId, fn),
    },
  });
});
