/**
 * Invitations: how a person gets an account without anyone knowing their password.
 *
 *   admin --users.invite--> user_invites (SHA-256 of a random token, 7 days, one open per e-mail)
 *         --> InviteSender (today: nothing is sent, the link goes back to the admin, who hands
 *             it over; the alerts issue's e-mail channel plugs in here)
 *   invitee --auth.acceptInvite(token, password)--> users row (argon2id) + a session, in one
 *         transaction; the invitation is used up (accepted_at), so the link works once.
 *
 * The token travels in the link's fragment (`/invite#token=...`): browsers never send a fragment
 * to a server, so it stays out of access logs, proxies and Referer headers.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type pg from 'pg';
import { appendAudit } from '../db/queries/audit-log.ts';
import { assignFromNow, openSessionAfterInvite } from './auth-service.ts';
import { hashPassword } from './passwords.ts';
import type { Role } from './permissions.ts';
import type { Session } from './session.ts';

export const INVITE_TTL_MS = 7 * 86_400_000;

/** What a mailer needs to deliver one invitation. */
export interface InviteMessage {
  tenantId: string;
  email: string;
  name: string;
  role: Role;
  /** Absolute when the public URL is known (FLEET_PUBLIC_URL), else a path on the web app. */
  link: string;
  expiresAt: number;
}

/** Delivers an invitation link; `delivered: false` means the admin must hand the link over. */
export interface InviteSender {
  send(message: InviteMessage): Promise<{ delivered: boolean }>;
}

/** Until the e-mail channel exists: nothing is sent; the admin is shown the link. */
export const handOverByAdmin: InviteSender = {
  send: async () => ({ delivered: false }),
};

const tokenHash = (token: string) => createHash('sha256').update(token).digest();

/** `path#token=...` on the web app, absolute when the public URL is known. */
export function linkTo(path: '/invite' | '/reset-password', token: string, publicUrl?: string): string {
  const base = publicUrl ? publicUrl.replace(/\/+$/, '') : '';
  return `${base}${path}#token=${token}`;
}

export type InviteOutcome =
  | { ok: true; inviteId: string; token: string; expiresAt: number }
  | { ok: false; reason: 'user-exists' };

/**
 * A new invitation in the caller's tenant transaction (fleet_app, RLS); an open one for the same
 * e-mail is withdrawn first, so only the newest link works.
 */
export async function createInvite(
  db: pg.PoolClient,
  i: {
    tenantId: string;
    email: string;
    name: string;
    role: Role;
    vehicleId: string | null;
    invitedBy: string;
  },
  now = Date.now(),
): Promise<InviteOutcome> {
  const email = i.email.toLowerCase();
  const { rowCount } = await db.query('SELECT 1 FROM users WHERE email = $1 AND tenant_id = $2', [
    email,
    i.tenantId,
  ]);
  if (rowCount) return { ok: false, reason: 'user-exists' };
  await db.query(
    `UPDATE user_invites SET revoked_at = now()
      WHERE tenant_id = $1 AND email = $2 AND accepted_at IS NULL AND revoked_at IS NULL`,
    [i.tenantId, email],
  );
  const inviteId = randomUUID();
  const token = randomBytes(32).toString('base64url');
  const expiresAt = now + INVITE_TTL_MS;
  await db.query(
    `INSERT INTO user_invites (id, tenant_id, email, name, role, vehicle_id, token_hash, invited_by, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, to_timestamp($9 / 1000.0))`,
    [inviteId, i.tenantId, email, i.name, i.role, i.vehicleId, tokenHash(token), i.invitedBy, expiresAt],
  );
  return { ok: true, inviteId, token, expiresAt };
}

export type AcceptOutcome =
  | { ok: true; userId: string; token: string; expiresAt: number; session: Session }
  | { ok: false; reason: 'invalid' | 'email-taken' };

/**
 * Uses up the invitation, creates the user with `password` and signs them in. Runs as the owner:
 * the invitee has no session and no tenant yet (like sign-in and password reset).
 */
export async function acceptInvite(
  pool: pg.Pool,
  token: string,
  password: string,
  now = Date.now(),
): Promise<AcceptOutcome> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    const { rows } = await c.query<{
      id: string;
      tenant_id: string;
      email: string;
      name: string;
      role: Role;
      vehicle_id: string | null;
    }>(
      `UPDATE user_invites SET accepted_at = to_timestamp($2 / 1000.0)
        WHERE token_hash = $1 AND accepted_at IS NULL AND revoked_at IS NULL
          AND expires_at > to_timestamp($2 / 1000.0)
        RETURNING id, tenant_id, email, name, role, vehicle_id`,
      [tokenHash(token), now],
    );
    const inv = rows[0];
    if (!inv) {
      await c.query('ROLLBACK');
      return { ok: false, reason: 'invalid' };
    }
    const userId = randomUUID();
    const hash = await hashPassword(password);
    await c.query('SAVEPOINT create_user');
    try {
      await c.query(
        `INSERT INTO users (id, tenant_id, email, name, role, vehicle_id, password_hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [userId, inv.tenant_id, inv.email, inv.name, inv.role, inv.vehicle_id, hash],
      );
    } catch (err) {
      // users.email is unique across tenants: someone signed up with it since the invitation.
      if ((err as { code?: string }).code === '23505') {
        await c.query('ROLLBACK');
        return { ok: false, reason: 'email-taken' };
      }
      throw err;
    }
    // An invited driver drives their vehicle from now on (an assignment, migration 000013).
    if (inv.role === 'driver' && inv.vehicle_id)
      await assignFromNow(c, inv.tenant_id, inv.vehicle_id, userId, `user:${userId}`);
    await c.query('UPDATE user_invites SET user_id = $2 WHERE id = $1', [inv.id, userId]);
    await appendAudit(c, {
      tenantId: inv.tenant_id,
      actor: `user:${userId}`,
      action: 'user.invite-accepted',
      entity: `user:${userId}`,
      after: { email: inv.email, role: inv.role, inviteId: inv.id },
    });
    const opened = await openSessionAfterInvite(
      c,
      {
        id: userId,
        tenant_id: inv.tenant_id,
        email: inv.email,
        name: inv.name,
        role: inv.role,
        vehicle_id: inv.vehicle_id,
      },
      now,
    );
    await c.query('COMMIT');
    return { ok: true, userId, token: opened.token, expiresAt: opened.expiresAt, session: opened.session };
  } catch (err) {
    await c.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    c.release();
  }
}
