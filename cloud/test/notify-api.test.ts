/**
 * The notifications API as the tenant (RLS): settings with field errors for bad addresses, SSRF
 * webhook URLs refused with a field error and nothing stored, roles (a driver cannot manage).
 */
import { createLogger } from '@fleet/shared/log';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configureNotificationsApi } from '../src/api/routers/notifications.ts';
import { migrate } from '../src/db/migrate.ts';
import { SecretBox } from '../src/security/secret-box.ts';
import { seedNotifyTenant } from './support/notify-seed.ts';
import { openTestPool, requireServices } from './support/services.ts';
import { callerAs, sessionOf } from './support/sessions.ts';

const log = createLogger('notify-api-test').child({}, { level: 'fatal' });
let db: Awaited<ReturnType<typeof openTestPool>>;

beforeAll(async () => {
  await requireServices({ postgres: true });
  db = await openTestPool('t_notify_api');
  await migrate(db.pool, log);
  await db.pool.query(`INSERT INTO vehicles (id, tenant_id) SELECT 'van-1', 'acme' WHERE false`);
  await seedNotifyTenant(db.pool, 'acme', [{ id: 'acme-fleet_manager', email: 'fm@acme.test' }]);
  configureNotificationsApi({
    allowAddresses: [],
    secretBox: new SecretBox([{ id: 'k', key: Buffer.alloc(32, 1) }]),
  });
});
afterAll(async () => {
  await db?.drop();
});

const fieldErrors = async (p: Promise<unknown>) => {
  const err = await p.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(TRPCError);
  expect((err as TRPCError).code).toBe('BAD_REQUEST');
  const cause = (err as TRPCError).cause as unknown as {
    flatten?: () => { fieldErrors: Record<string, string[]> };
    fields?: Record<string, string>;
  };
  if (cause.flatten) return cause.flatten().fieldErrors;
  return Object.fromEntries(Object.entries(cause.fields ?? {}).map(([f, m]) => [f, [m]]));
};

describe('notifications API', () => {
  const fm = () => callerAs(db.pool, sessionOf('fleet_manager', 'acme'));

  it('saves settings and answers bad addresses, times and zones with field errors', async () => {
    expect(
      await fieldErrors(
        fm().notifications.updateSettings({
          email: 'ann@example.com\r\nBcc: x@example.com',
          phone: '0151 123',
          channels: ['email', 'sms'],
          quietStart: '25:00',
          quietEnd: null,
          timeZone: 'Mars/Olympus',
        }),
      ),
    ).toEqual({
      email: ['E-mail address must not contain a line break (header injection)'],
      phone: ['Phone number is not a phone number in international form (+4915112345678)'],
      quietStart: ['Quiet hours start must be a time like 22:00'],
      quietEnd: ['Give both times of the quiet hours, or neither'],
      timeZone: ['Time zone is not a time zone (e.g. Europe/Berlin)'],
    });
    await fm().notifications.updateSettings({
      email: 'Ops@Acme.test',
      phone: '+4915112345678',
      channels: ['email', 'sms'],
      quietStart: '22:00',
      quietEnd: '07:00',
      timeZone: 'Europe/Berlin',
    });
    expect(await fm().notifications.settings()).toEqual({
      accountEmail: 'fm@acme.test',
      email: 'ops@acme.test',
      phone: '+4915112345678',
      channels: ['email', 'sms'],
      quietStart: '22:00',
      quietEnd: '07:00',
      timeZone: 'Europe/Berlin',
    });
  });

  it('refuses an SSRF webhook URL with a field error and stores nothing', async () => {
    expect(
      await fieldErrors(
        fm().notifications.createWebhook({ name: 'meta', url: 'http://169.254.169.254/latest' }),
      ),
    ).toEqual({
      url: [expect.stringMatching(/^URL 169\.254\.169\.254 is a private, loopback or link-local address/)],
    });
    expect(await fm().notifications.webhooks()).toEqual([]);
  });

  it('lets only managers see dead letters and redeliver', async () => {
    const driver = callerAs(db.pool, sessionOf('technician', 'acme'));
    await expect(driver.notifications.deadLetters()).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await fm().notifications.deadLetters()).toEqual([]);
    await expect(
      fm().notifications.redeliver({ id: '00000000-0000-4000-8000-000000000000' }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
