import { createLogger } from '@fleet/shared/log';
import type pg from 'pg';
import { createCaller } from '../../src/api/root.ts';
import { createUser } from '../../src/auth/auth-service.ts';
import type { Role } from '../../src/auth/permissions.ts';
import type { Session } from '../../src/auth/session.ts';
import { migrate } from '../../src/db/migrate.ts';
import { openTestPool, requireServices } from './services.ts';

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

/** A fresh migrated schema with tenant `acme` and one user of it, for sign-in over HTTP. */
export async function openPoolWithUser(
  prefix: string,
  user: { email: string; role: Role; password: string },
) {
  await requireServices({ postgres: true });
  const db = await openTestPool(prefix);
  await migrate(db.pool, createLogger(prefix).child({}, { level: 'error' }));
  await db.pool.query(`INSERT INTO tenants (id, name) VALUES ('acme', 'acme')`);
  await createUser(db.pool, { tenantId: 'acme', name: user.role, ...user });
  return db;
}
