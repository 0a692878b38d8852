/**
 * The driver app's per-user units and language (auth.preferences / auth.setPreferences, migration
 * 000030) on the real PostgreSQL: defaults until saved, a partial change keeps the rest, each user
 * sees only their own row, bad values are refused at the API, and RLS hides another tenant's rows.
 */
import { createLogger } from '@fleet/shared/log';
import { TRPCError } from '@trpc/server';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCaller } from '../src/api/root.ts';
import { migrate } from '../src/db/migrate.ts';
import { inTenant } from '../src/db/tenant.ts';
import { DeviceProvisioning } from '../src/devices/device-provisioning.ts';
import { openTestPool, requireServices } from './support/services.ts';
import { sessionOf } from './support/sessions.ts';

const log = createLogger('user-preferences-test').child({}, { level: 'error' });
let db: Awaited<ReturnType<typeof openTestPool>>;
let pool: pg.Pool;
// Admin services this test never reaches (no invitation is sent): an unused sender at that seam.
const admin = {
  devices: new DeviceProvisioning({ logins: null, mqttUrl: '', baseTopic: '' }),
  invites: { send: async () => ({ delivered: false }) },
};
const as = (role: 'driver' | 'fleet_manager', tenant: string) =>
  createCaller({ db: pool, session: sessionOf(role, tenant, null), admin });

beforeAll(async () => {
  await requireServices({ postgres: true });
  db = await openTestPool('t_user_prefs');
  pool = db.pool;
  await migrate(pool, log);
  await pool.query(`INSERT INTO tenants (id, name) VALUES ('acme', 'Acme'), ('globex', 'Globex')`);
});

afterAll(async () => {
  await db?.drop();
});

describe('auth.preferences', () => {
  it('defaults to litres, kilometres and the browser language until saved', async () => {
    expect(await as('driver', 'acme').auth.preferences()).toEqual({
      volumeUnit: 'l',
      distanceUnit: 'km',
      locale: null,
    });
  });

  it('a partial change keeps the other preferences, and null returns to the browser language', async () => {
    const driver = as('driver', 'acme');
    expect(await driver.auth.setPreferences({ volumeUnit: 'gal', locale: 'es' })).toEqual({
      volumeUnit: 'gal',
      distanceUnit: 'km',
      locale: 'es',
    });
    expect(await driver.auth.setPreferences({ distanceUnit: 'mi' })).toEqual({
      volumeUnit: 'gal',
      distanceUnit: 'mi',
      locale: 'es',
    });
    expect(await driver.auth.preferences()).toEqual({ volumeUnit: 'gal', distanceUnit: 'mi', locale: 'es' });
    expect((await driver.auth.setPreferences({ locale: null })).locale).toBeNull();
  });

  it('is per user: the manager of the same tenant and a user of another tenant keep the defaults', async () => {
    expect((await as('fleet_manager', 'acme').auth.preferences()).volumeUnit).toBe('l');
    expect((await as('driver', 'globex').auth.preferences()).volumeUnit).toBe('l');
    // RLS alone: as globex, acme's row does not exist.
    const seen = await inTenant(
      pool,
      'globex',
      async (c) => (await c.query('SELECT * FROM user_preferences')).rowCount,
    );
    expect(seen).toBe(0);
    const own = await inTenant(
      pool,
      'acme',
      async (c) => (await c.query('SELECT * FROM user_preferences')).rowCount,
    );
    expect(own).toBe(1);
  });

  it('refuses a unit or language it does not know, with BAD_REQUEST', async () => {
    const driver = as('driver', 'acme');
    for (const bad of [{ volumeUnit: 'pint' }, { distanceUnit: 'league' }, { locale: 'fr' }]) {
      const err = await driver.auth.setPreferences(bad as never).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TRPCError);
      expect((err as TRPCError).code).toBe('BAD_REQUEST');
    }
  });
});
