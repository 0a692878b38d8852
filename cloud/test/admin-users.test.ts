/**
 * Users without SQL, on the real PostgreSQL through the tRPC procedures: an invitation link that
 * works once and signs the new user in; roles; deactivation that ends sessions and personal
 * tokens at once; password reset links; every change in an intact audit chain. And the agents'
 * health block from the status message to the health panel (old agents without it accepted).
 */
import { createLogger } from '@fleet/shared/log';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCaller } from '../src/api/root.ts';
import { createUser, login, sessionFromApiToken, sessionFromToken } from '../src/auth/auth-service.ts';
import { type InviteMessage, type InviteSender, linkTo } from '../src/auth/invites.ts';
import type { Session } from '../src/auth/session.ts';
import { migrate } from '../src/db/migrate.ts';
import { listVehicleHealth, upsertAgentHealth } from '../src/db/queries/agent-health.ts';
import { verifyAuditChain } from '../src/db/queries/audit-log.ts';
import { inTenant } from '../src/db/tenant.ts';
import { DeviceProvisioning } from '../src/devices/device-provisioning.ts';
import { classify } from '../src/ingest/classify.ts';
import { openTestPool, requireServices } from './support/services.ts';

const log = createLogger('admin-users-test').child({}, { level: 'error' });
let db: Awaited<ReturnType<typeof openTestPool>>;
let pool: pg.Pool;
let admin: Session;
const sent: InviteMessage[] = [];
/** A mailer stand-in at the seam the e-mail channel will use: it records, delivers nothing. */
const recordingSender: InviteSender = {
  send: async (m) => {
    sent.push(m);
    return { delivered: false };
  },
};
const services = {
  devices: new DeviceProvisioning({ logins: null, mqttUrl: '', baseTopic: '' }),
  invites: recordingSender,
  publicUrl: 'https://fleet.example.com',
};
const as = (session: Session | null, setCookie?: (t: string | null) => void) =>
  createCaller({
    db: pool,
    session,
    admin: services,
    ...(setCookie ? { setSessionCookie: (t: string | null) => setCookie(t) } : {}),
  });
const tokenOf = (link: string) => new URL(link).hash.replace(/^#token=/, '');

beforeAll(async () => {
  await requireServices({ postgres: true });
  db = await openTestPool('t_admin_users');
  pool = db.pool;
  await migrate(pool, log);
  await pool.query(`INSERT INTO tenants (id, name) VALUES ('acme', 'Acme'), ('globex', 'Globex')`);
  await pool.query(`INSERT INTO vehicles (id, tenant_id) VALUES ('van-1', 'acme'), ('truck-g', 'globex')`);
  await createUser(pool, {
    tenantId: 'acme',
    email: 'boss@acme.test',
    name: 'Boss',
    role: 'admin',
    password: 'boss-password-123',
  });
  const r = await login(pool, 'boss@acme.test', 'boss-password-123');
  if (!r.ok) throw new Error('admin cannot sign in');
  admin = r.session;
});

afterAll(async () => {
  await db?.drop();
});

describe('invitations', () => {
  it('invite -> the link (shown to the admin, handed to the sender) sets the password and signs in, once', async () => {
    const inv = await as(admin).users.invite({
      email: 'Mia@Acme.test',
      name: 'Mia Manager',
      role: 'fleet_manager',
    });
    expect(inv.delivered).toBe(false);
    expect(inv.link).toMatch(/^https:\/\/fleet\.example\.com\/invite#token=[A-Za-z0-9_-]{43}$/);
    expect(sent.at(-1)).toMatchObject({ email: 'mia@acme.test', role: 'fleet_manager', link: inv.link });
    // Stored hashed: the token is nowhere in the database.
    const { rows } = await pool.query<{ t: string }>(`SELECT token_hash::text AS t FROM user_invites`);
    expect(JSON.stringify(rows)).not.toContain(tokenOf(inv.link));
    expect((await as(admin).users.invites()).map((i) => [i.email, i.state])).toEqual([
      ['mia@acme.test', 'open'],
    ]);

    let cookie: string | null = null;
    const me = await as(null, (t) => {
      cookie = t;
    }).auth.acceptInvite({ inviteToken: tokenOf(inv.link), password: 'mias-own-password' });
    expect(me).toMatchObject({ email: 'mia@acme.test', role: 'fleet_manager', tenantId: 'acme' });
    // Signed in: the cookie's token is a live session of Mia.
    expect((await sessionFromToken(pool, cookie!))?.email).toBe('mia@acme.test');
    expect((await login(pool, 'mia@acme.test', 'mias-own-password')).ok).toBe(true);
    // The link works once.
    await expect(
      as(null).auth.acceptInvite({ inviteToken: tokenOf(inv.link), password: 'someone-elses-pass' }),
    ).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    expect(await as(admin).users.invites()).toEqual([]);
    // Inviting an existing user is refused.
    await expect(
      as(admin).users.invite({ email: 'mia@acme.test', name: 'Mia', role: 'finance' }),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('a re-invitation withdraws the first link; a withdrawn or expired link does not work', async () => {
    const first = await as(admin).users.invite({ email: 'tom@acme.test', name: 'Tom', role: 'technician' });
    const second = await as(admin).users.invite({ email: 'tom@acme.test', name: 'Tom', role: 'technician' });
    await expect(
      as(null).auth.acceptInvite({ inviteToken: tokenOf(first.link), password: 'tom-password-123' }),
    ).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await as(admin).users.withdrawInvite({ inviteId: second.inviteId });
    await expect(
      as(null).auth.acceptInvite({ inviteToken: tokenOf(second.link), password: 'tom-password-123' }),
    ).rejects.toMatchObject({ code: 'UNAUTHORIZED' });

    const third = await as(admin).users.invite({ email: 'tom@acme.test', name: 'Tom', role: 'technician' });
    await pool.query(`UPDATE user_invites SET expires_at = now() - interval '1 second' WHERE id = $1`, [
      third.inviteId,
    ]);
    await expect(
      as(null).auth.acceptInvite({ inviteToken: tokenOf(third.link), password: 'tom-password-123' }),
    ).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    expect((await as(admin).users.invites()).find((i) => i.id === third.inviteId)?.state).toBe('expired');
  });

  it('a driver is invited with their vehicle (a field error without one); another tenant’s vehicle is not found', async () => {
    const err = await as(admin)
      .users.invite({ email: 'dan@acme.test', name: 'Dan', role: 'driver' })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'BAD_REQUEST' });
    expect(JSON.stringify((err as Error).message)).toContain('vehicleId');
    await expect(
      as(admin).users.invite({ email: 'dan@acme.test', name: 'Dan', role: 'driver', vehicleId: 'truck-g' }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const inv = await as(admin).users.invite({
      email: 'dan@acme.test',
      name: 'Dan',
      role: 'driver',
      vehicleId: 'van-1',
    });
    const me = await as(null).auth.acceptInvite({
      inviteToken: tokenOf(inv.link),
      password: 'dans-password-12',
    });
    expect(me).toMatchObject({ role: 'driver', vehicleId: 'van-1' });
  });
});

describe('roles, deactivation, reset, personal tokens', () => {
  let userId: string;
  let sessionToken: string;
  beforeAll(async () => {
    userId = await createUser(pool, {
      tenantId: 'acme',
      email: 'fin@acme.test',
      name: 'Fin',
      role: 'fleet_manager',
      password: 'fins-password-123',
    });
    const r = await login(pool, 'fin@acme.test', 'fins-password-123');
    if (!r.ok) throw new Error('cannot sign in');
    sessionToken = r.token;
  });

  it('a personal token acts as its owner, narrowed when the role shrinks', async () => {
    const fin = (await sessionFromToken(pool, sessionToken))!;
    // Beyond the owner's role: refused.
    await expect(
      as(fin).tokens.createMine({ name: 'too much', permissions: ['users:manage'] }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const t = await as(fin).tokens.createMine({
      name: 'my script',
      permissions: ['vehicles:read', 'drivers:read'],
    });
    expect((await sessionFromApiToken(pool, t.token))?.scopes).toEqual(['vehicles:read', 'drivers:read']);
    expect((await as(fin).tokens.mine()).map((x) => x.name)).toEqual(['my script']);

    await as(admin).users.setRole({ userId, role: 'finance' });
    expect((await sessionFromToken(pool, sessionToken))?.role).toBe('finance');
    // finance has no drivers:read: the token lost it with the role.
    expect((await sessionFromApiToken(pool, t.token))?.scopes).toEqual(['vehicles:read']);
    await expect(as(admin).users.setRole({ userId: admin.userId, role: 'finance' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });

  it('deactivation ends the sessions and personal tokens at once and refuses sign-in; reactivation allows it again', async () => {
    const { token } = await as((await sessionFromToken(pool, sessionToken))!).tokens.createMine({
      name: 'second',
      permissions: ['vehicles:read'],
    });
    const r = await as(admin).users.deactivate({ userId });
    expect(r).toMatchObject({ deactivated: true, sessionsEnded: 1 });
    expect(r.tokensRevoked).toBe(2);
    expect(await sessionFromToken(pool, sessionToken)).toBeNull();
    expect(await sessionFromApiToken(pool, token)).toBeNull();
    expect(await login(pool, 'fin@acme.test', 'fins-password-123')).toMatchObject({
      ok: false,
      reason: 'invalid',
    });
    expect((await as(admin).users.list()).find((u) => u.id === userId)?.deactivatedAt).toBeTypeOf('number');
    await expect(as(admin).users.deactivate({ userId: admin.userId })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });

    await as(admin).users.reactivate({ userId });
    expect((await login(pool, 'fin@acme.test', 'fins-password-123')).ok).toBe(true);
  });

  it('a password reset link works once', async () => {
    const r = await as(admin).users.issuePasswordReset({ userId });
    expect(r.link).toBe(linkTo('/reset-password', r.resetToken, 'https://fleet.example.com'));
    expect(
      (await as(null).auth.resetPassword({ resetToken: tokenOf(r.link), newPassword: 'fins-new-password' }))
        .ok,
    ).toBe(true);
    await expect(
      as(null).auth.resetPassword({ resetToken: tokenOf(r.link), newPassword: 'another-password' }),
    ).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    expect((await login(pool, 'fin@acme.test', 'fins-new-password')).ok).toBe(true);
  });

  it("another tenant's admin cannot see or touch these users", async () => {
    const globexAdmin: Session = { ...admin, userId: 'globex-admin', tenantId: 'globex' };
    expect(await as(globexAdmin).users.list()).toEqual([]);
    await expect(as(globexAdmin).users.deactivate({ userId })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(as(globexAdmin).users.setRole({ userId, role: 'admin' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('every change is in the audit chain, which verifies, and holds no token', async () => {
    const { rows } = await pool.query<{ action: string }>(
      `SELECT action FROM audit_log WHERE action LIKE 'user.%' OR action LIKE 'token.%' ORDER BY id`,
    );
    const actions = rows.map((r) => r.action);
    for (const a of [
      'user.invite',
      'user.invite-accepted',
      'user.invite-withdrawn',
      'user.role-change',
      'user.deactivate',
      'user.reactivate',
      'user.password-reset-issued',
      'token.create-personal',
    ])
      expect(actions).toContain(a);
    const { rows: all } = await pool.query('SELECT before, after FROM audit_log');
    expect(JSON.stringify(all)).not.toMatch(/token=|password-123/);
    expect(await verifyAuditChain(pool)).toMatchObject({ ok: true });
  });
});

describe('agent health: status message -> vehicle_agent_health -> panel', () => {
  const health = (at: number, over: Record<string, unknown> = {}) => ({
    v: 1,
    at,
    agentVersion: '0.2.0',
    clockSource: 'gps',
    diskUsedBytes: 1_000_000,
    diskBudgetBytes: 4_000_000,
    evicted: { rawSynced: 5, rawUnsynced: 1, rollups: 0, events: 0 },
    unsentSamples: 42,
    syncLagMs: 3000,
    modelVersion: 'engine-anomaly@3',
    ...over,
  });
  const status = (body: unknown) =>
    classify(null, 'fleet/v1/acme/van-1/status', Buffer.from(JSON.stringify(body)), 'fleet');

  it('an old agent (no health) and a newer health version are accepted as statuses; the health block is kept only when understood', () => {
    const old = status({ v: 1, state: 'online', ts: 1 });
    expect(old).toMatchObject({ kind: 'status', status: { state: 'online' } });
    expect(old.kind === 'status' && old.status.health).toBeUndefined();
    const future = status({ v: 1, state: 'online', ts: 1, health: { v: 2, whatever: true } });
    expect(future.kind).toBe('status');
    expect(future.kind === 'status' && future.status.health).toBeUndefined();
    const now = status({ v: 1, state: 'online', ts: 1, health: health(1000) });
    expect(now.kind === 'status' && now.status.health?.agentVersion).toBe('0.2.0');
  });

  it('only a newer report replaces the stored one; the panel shows it, and drops from batches when higher', async () => {
    const c = await pool.connect();
    try {
      const parse = (h: unknown) => {
        const r = status({ v: 1, state: 'online', ts: 1, health: h });
        if (r.kind !== 'status' || !r.status.health) throw new Error('not a health status');
        return { tenantId: 'acme', vehicleId: 'van-1', health: r.status.health };
      };
      await upsertAgentHealth(c, [parse(health(2000))]);
      await upsertAgentHealth(c, [parse(health(1000, { agentVersion: '0.1.0' }))]); // late, older
      await c.query(
        `INSERT INTO vehicle_agent_drops (vehicle_id, tenant_id, raw_synced) VALUES ('van-1', 'acme', 9)`,
      );
    } finally {
      c.release();
    }
    const [row] = await inTenant(pool, 'acme', (t) => listVehicleHealth(t, 'acme', 'van-1'));
    expect(row).toMatchObject({
      agentVersion: '0.2.0',
      clockSource: 'gps',
      unsentSamples: 42,
      syncLagMs: 3000,
      modelVersion: 'engine-anomaly@3',
      evicted: { rawSynced: 9, rawUnsynced: 1, rollups: 0, events: 0 },
      reportedAt: 2000,
    });
    expect(row!.lastSeenAt).toBeTypeOf('number');
    // Through the API: the technician's panel, the fleet and one vehicle; not another tenant's.
    const tech: Session = { ...admin, userId: 'acme-tech', role: 'technician' };
    expect((await as(tech).devices.health({})).map((h) => h.vehicleId)).toEqual(['van-1']);
    await expect(as(tech).devices.health({ vehicleId: 'truck-g' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });
});
