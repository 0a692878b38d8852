/**
 * Sign-in with passwords, sessions, and the brute-force brake.
 *
 *   failure n (n = 1...4): the answer is held back 250 ms x 2^(n-1) (slowed)
 *   failure 5:             the account is locked for 15 minutes, right password or not (locked)
 *   success:               the counter goes back to 0
 *
 * A session is 32 random bytes given to the browser once (httpOnly cookie); the database keeps
 * only its SHA-256. Every sign-in, failure and lock is written to the audit log.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type pg from 'pg';
import { appendAudit } from '../db/queries/audit-log.ts';
import { dummyHash, hashPassword, verifyPassword } from './passwords.ts';
import { can, type Permission, type Role } from './permissions.ts';
import type { Session } from './session.ts';
import { cachedSession, cacheSession, forgetCachedSessions } from './session-cache.ts';

export const SESSION_TTL_MS = 12 * 3600_000;
export const MAX_FAILED_LOGINS = 5;
export const LOCKOUT_MS = 15 * 60_000;

export type LoginResult =
  | { ok: true; token: string; session: Session; expiresAt: number }
  | { ok: false; reason: 'invalid' | 'locked'; delayMs: number; lockedUntil?: number };

const tokenHash = (token: string) => createHash('sha256').update(token).digest();

/** How long a failed answer is held back after `failures` consecutive failures. */
export function failureDelayMs(failures: number): number {
  return failures <= 0 ? 0 : Math.min(250 * 2 ** (failures - 1), 4000);
}

/**
 * The driver drives the vehicle from now: the vehicle's current driver hands it over and the
 * driver's own current vehicle is handed back (one open period each, migration 000013). A vehicle
 * nobody was ever assigned to is theirs for its whole history, as the static binding this
 * replaces (users.vehicle_id) credited it.
 */
export async function assignFromNow(
  db: pg.Pool | pg.PoolClient,
  tenantId: string,
  vehicleId: string,
  userId: string,
  createdBy: string,
): Promise<void> {
  await db.query(
    `UPDATE vehicle_assignments SET ends_at = now()
      WHERE (vehicle_id = $1 OR user_id = $2) AND ends_at IS NULL AND starts_at < now()`,
    [vehicleId, userId],
  );
  await db.query(
    `INSERT INTO vehicle_assignments (tenant_id, vehicle_id, user_id, starts_at, source, created_by)
     SELECT $1, $2, $3,
            CASE WHEN EXISTS (SELECT 1 FROM vehicle_assignments WHERE vehicle_id = $2) THEN now()
                 ELSE '-infinity' END,
            'admin', $4`,
    [tenantId, vehicleId, userId, createdBy],
  );
}

export async function createUser(
  db: pg.Pool | pg.PoolClient,
  u: {
    tenantId: string;
    email: string;
    name: string;
    role: Role;
    password: string;
    vehicleId?: string | null;
  },
): Promise<string> {
  const id = randomUUID();
  await db.query(
    `INSERT INTO users (id, tenant_id, email, name, role, password_hash) VALUES ($1, $2, $3, $4, $5, $6)`,
    [id, u.tenantId, u.email.toLowerCase(), u.name, u.role, await hashPassword(u.password)],
  );
  if (u.vehicleId) await assignFromNow(db, u.tenantId, u.vehicleId, id, 'system');
  return id;
}

interface UserRow {
  id: string;
  tenant_id: string;
  email: string;
  name: string;
  role: Role;
  /** The vehicle of the driver's current assignment (vehicle_assignments), not users.vehicle_id. */
  vehicle_id: string | null;
  password_hash: string;
  failed_logins: number;
  locked_until: Date | null;
  deactivated_at: Date | null;
}

/** A user with their current vehicle: a driver's is their open assignment (migration 000013). */
const USER_WITH_VEHICLE = `SELECT u.id, u.tenant_id, u.email, u.name, u.role, u.password_hash, u.failed_logins,
         u.locked_until, u.deactivated_at,
         (SELECT a.vehicle_id FROM vehicle_assignments a
           WHERE a.user_id = u.id AND a.ends_at IS NULL AND a.starts_at <= now()) AS vehicle_id
    FROM users u`;

const toSession = (
  r: Omit<UserRow, 'password_hash' | 'failed_logins' | 'locked_until' | 'deactivated_at'>,
): Session => ({
  userId: r.id,
  tenantId: r.tenant_id,
  email: r.email,
  name: r.name,
  role: r.role,
  vehicleId: r.vehicle_id,
});

export async function login(
  pool: pg.Pool,
  email: string,
  password: string,
  now = Date.now(),
): Promise<LoginResult> {
  const { rows } = await pool.query<UserRow>(`${USER_WITH_VEHICLE} WHERE u.email = $1`, [
    email.toLowerCase(),
  ]);
  const user = rows[0];
  // A deactivated account answers like an unknown one: the same time, the same words.
  if (!user || user.deactivated_at) {
    await verifyPassword(await dummyHash(), password); // same time as a known email
    return { ok: false, reason: 'invalid', delayMs: failureDelayMs(1) };
  }
  if (user.locked_until && user.locked_until.getTime() > now) {
    await appendAudit(pool, {
      tenantId: user.tenant_id,
      actor: `user:${user.id}`,
      action: 'auth.login-refused-locked',
      entity: `user:${user.id}`,
    });
    return { ok: false, reason: 'locked', delayMs: 0, lockedUntil: user.locked_until.getTime() };
  }
  if (!(await verifyPassword(user.password_hash, password))) {
    const failures = user.failed_logins + 1;
    const lock = failures >= MAX_FAILED_LOGINS;
    await pool.query(
      `UPDATE users SET failed_logins = CASE WHEN $2 THEN 0 ELSE $3 END,
                        locked_until = CASE WHEN $2 THEN to_timestamp($4 / 1000.0) ELSE locked_until END
        WHERE id = $1`,
      [user.id, lock, failures, now + LOCKOUT_MS],
    );
    await appendAudit(pool, {
      tenantId: user.tenant_id,
      actor: 'anonymous',
      action: lock ? 'auth.locked' : 'auth.login-failed',
      entity: `user:${user.id}`,
      after: { failures },
    });
    return lock
      ? { ok: false, reason: 'locked', delayMs: failureDelayMs(failures), lockedUntil: now + LOCKOUT_MS }
      : { ok: false, reason: 'invalid', delayMs: failureDelayMs(failures) };
  }
  await pool.query('UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1', [user.id]);
  return { ok: true, ...(await openSession(pool, user, 'auth.login', now)) };
}

/** A new session for a user who proved who they are (password, OpenID Connect, an invitation); audited. */
async function openSession(
  pool: pg.Pool | pg.PoolClient,
  user: Omit<UserRow, 'password_hash' | 'failed_logins' | 'locked_until' | 'deactivated_at'>,
  action: string,
  now: number,
) {
  const token = randomBytes(32).toString('base64url');
  const expiresAt = now + SESSION_TTL_MS;
  await pool.query(
    'INSERT INTO sessions (token_hash, user_id, expires_at) VALUES ($1, $2, to_timestamp($3 / 1000.0))',
    [tokenHash(token), user.id, expiresAt],
  );
  await appendAudit(pool, {
    tenantId: user.tenant_id,
    actor: `user:${user.id}`,
    action,
    entity: `user:${user.id}`,
  });
  return { token, session: toSession(user), expiresAt };
}

/**
 * Sign-in through the company's identity provider: the verified email must belong to a user an
 * admin created here (no account is made on first sight), and a locked account stays locked.
 */
export async function loginWithVerifiedEmail(pool: pg.Pool, email: string, now = Date.now()) {
  const { rows } = await pool.query<UserRow>(`${USER_WITH_VEHICLE} WHERE u.email = $1`, [
    email.toLowerCase(),
  ]);
  const user = rows[0];
  if (!user || user.deactivated_at || (user.locked_until && user.locked_until.getTime() > now)) return null;
  return openSession(pool, user, 'auth.login-oidc', now);
}

/** Signs in the user who just accepted an invitation (in the transaction that created them). */
export function openSessionAfterInvite(
  db: pg.PoolClient,
  user: Omit<UserRow, 'password_hash' | 'failed_logins' | 'locked_until' | 'deactivated_at'>,
  now = Date.now(),
) {
  return openSession(db, user, 'auth.login-invite', now);
}

export async function sessionFromToken(
  pool: pg.Pool,
  token: string,
  now = Date.now(),
): Promise<Session | null> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
  const cached = cachedSession(token, now);
  if (cached) return cached;
  const { rows } = await pool.query<UserRow>(
    `SELECT u.id, u.tenant_id, u.email, u.name, u.role,
            (SELECT a.vehicle_id FROM vehicle_assignments a
              WHERE a.user_id = u.id AND a.ends_at IS NULL AND a.starts_at <= now()) AS vehicle_id
       FROM sessions s JOIN users u ON u.id = s.user_id
      WHERE s.token_hash = $1 AND s.expires_at > to_timestamp($2 / 1000.0) AND u.deactivated_at IS NULL`,
    [tokenHash(token), now],
  );
  if (!rows[0]) return null;
  const session = toSession(rows[0]);
  cacheSession(token, session, now);
  return session;
}

export async function logout(pool: pg.Pool, token: string): Promise<void> {
  await pool.query('DELETE FROM sessions WHERE token_hash = $1', [tokenHash(token)]);
  forgetCachedSessions();
}

// ---- API tokens -------------------------------------------------------------------------------

export const API_TOKEN_PATTERN = /^flt_([0-9a-f]{16})_[A-Za-z0-9_-]{43}$/;

/** A new token for an integration; the plain value is returned once and never stored. */
export async function createApiToken(
  db: pg.Pool | pg.PoolClient,
  t: {
    tenantId: string;
    name: string;
    permissions: Permission[];
    createdBy: string;
    expiresAt?: number | null;
    /** A personal token: acts as this user, never beyond their current role, ends with the account. */
    ownerUserId?: string | null;
  },
): Promise<{ id: string; token: string }> {
  const id = randomBytes(8).toString('hex');
  const token = `flt_${id}_${randomBytes(32).toString('base64url')}`;
  await db.query(
    `INSERT INTO api_tokens (id, tenant_id, name, token_hash, permissions, created_by, expires_at, owner_user_id)
     VALUES ($1, $2, $3, $4, $5, $6, to_timestamp($7 / 1000.0), $8)`,
    [
      id,
      t.tenantId,
      t.name,
      tokenHash(token),
      t.permissions,
      t.createdBy,
      t.expiresAt ?? null,
      t.ownerUserId ?? null,
    ],
  );
  return { id, token };
}

export async function sessionFromApiToken(
  pool: pg.Pool,
  token: string,
  now = Date.now(),
): Promise<Session | null> {
  const m = API_TOKEN_PATTERN.exec(token);
  if (!m) return null;
  const cached = cachedSession(token, now);
  if (cached) return cached;
  const { rows } = await pool.query<{
    id: string;
    tenant_id: string;
    name: string;
    permissions: Permission[];
    owner_user_id: string | null;
    owner_role: Role | null;
    owner_active: boolean | null;
  }>(
    `SELECT t.id, t.tenant_id, t.name, t.permissions, t.owner_user_id,
            u.role AS owner_role, u.deactivated_at IS NULL AS owner_active
       FROM api_tokens t LEFT JOIN users u ON u.id = t.owner_user_id
      WHERE t.token_hash = $1 AND t.revoked_at IS NULL
        AND (t.expires_at IS NULL OR t.expires_at > to_timestamp($2 / 1000.0))`,
    [tokenHash(token), now],
  );
  const r = rows[0];
  if (!r) return null;
  // A personal token is its owner's: gone with the account, narrowed by a role that shrank since.
  if (r.owner_user_id && !r.owner_active) return null;
  const scopes = r.owner_role ? r.permissions.filter((p) => can(r.owner_role!, p)) : r.permissions;
  const session: Session = {
    userId: `token:${r.id}`,
    tenantId: r.tenant_id,
    email: '',
    name: r.name,
    role: 'token',
    vehicleId: null,
    scopes,
  };
  cacheSession(token, session, now);
  return session;
}

// ---- password reset ---------------------------------------------------------------------------

export const RESET_TTL_MS = 3600_000;

/** A single-use reset token for `userId` (an admin hands it over; no mail server is assumed). */
export async function createPasswordReset(
  db: pg.Pool | pg.PoolClient,
  userId: string,
  now = Date.now(),
): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  await db.query(
    'INSERT INTO password_resets (token_hash, user_id, expires_at) VALUES ($1, $2, to_timestamp($3 / 1000.0))',
    [tokenHash(token), userId, now + RESET_TTL_MS],
  );
  return token;
}

/** Sets the new password, unlocks the account, ends every session of that user. */
export async function resetPassword(
  pool: pg.Pool,
  token: string,
  newPassword: string,
  now = Date.now(),
): Promise<boolean> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    const { rows } = await c.query<{ user_id: string; tenant_id: string }>(
      `UPDATE password_resets r SET used_at = to_timestamp($2 / 1000.0)
         FROM users u
        WHERE r.token_hash = $1 AND r.used_at IS NULL AND r.expires_at > to_timestamp($2 / 1000.0) AND u.id = r.user_id
        RETURNING r.user_id, u.tenant_id`,
      [tokenHash(token), now],
    );
    const r = rows[0];
    if (!r) {
      await c.query('ROLLBACK');
      return false;
    }
    await c.query(
      'UPDATE users SET password_hash = $2, failed_logins = 0, locked_until = NULL WHERE id = $1',
      [r.user_id, await hashPassword(newPassword)],
    );
    await c.query('DELETE FROM sessions WHERE user_id = $1', [r.user_id]);
    await appendAudit(c, {
      tenantId: r.tenant_id,
      actor: `user:${r.user_id}`,
      action: 'auth.password-reset',
      entity: `user:${r.user_id}`,
    });
    await c.query('COMMIT');
    forgetCachedSessions();
    return true;
  } catch (err) {
    await c.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    c.release();
  }
}
