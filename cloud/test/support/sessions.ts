import type pg from 'pg';
import { createCaller } from '../../src/api/root.ts';
import type { Role } from '../../src/auth/permissions.ts';
import type { Session } from '../../src/auth/session.ts';

/** A signed-in user as the API sees one (the session lookup itself is tested in auth.test.ts). */
export function sessionOf(role: Role, tenantId: string, vehicleId: string | null = null): Session {
  return {
    userId: `${tenantId}-${role}`,
    tenantId,
    email: `${role}@${tenantId}.test`,
    name: role,
    role,
    vehicleId,
  };
}

/** A server-side caller for that user (or anonymous with `null`). */
export function callerAs(db: pg.Pool, session: Session | null) {
  return createCaller({ db, session });
}
