/**
 * Drivers' push notifications (issue 19 §4) on the real PostgreSQL, through the real notification
 * worker to a push endpoint of this test on loopback that decrypts RFC 8291 aes128gcm with the
 * subscription's own keys (http_ece): low range, service due and challenge results each arrive
 * exactly once, in the driver's language, when the driver's setting is on; none for a driver who
 * turned them off (auth through the API); none again on a second sweep; a new low-range episode
 * (after a refuel) is a new push.
 */
import { createECDH, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '@fleet/shared/log';
import ece from 'http_ece';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import webpush from 'web-push';
import { createCaller } from '../src/api/root.ts';
import { migrate } from '../src/db/migrate.ts';
import { inTenant } from '../src/db/tenant.ts';
import { sweepDriverProgramme } from '../src/drivers/programme-sweep.ts';
import { sweepDriverPushes } from '../src/drivers/push/driver-push.ts';
import { AddressGuard } from '../src/notifications/channels/address-guard.ts';
import { savePushSubscription } from '../src/notifications/endpoints.ts';
import { NotificationWorker } from '../src/notifications/worker.ts';
import { seedNotifyTenant } from './support/notify-seed.ts';
import { waitFor } from './support/notify-servers.ts';
import { fastSettings } from './support/notify-settings.ts';
import { openTestPool, requireServices } from './support/services.ts';
import { sessionOf } from './support/sessions.ts';

const log = createLogger('driver-push-test').child({}, { level: 'fatal' });
const vapid = webpush.generateVAPIDKeys();
let db: Awaited<ReturnType<typeof openTestPool>>;
let pool: pg.Pool;
let worker: NotificationWorker;
let server: http.Server;
let port: number;

interface Browser {
  keys: ReturnType<typeof createECDH>;
  auth: Buffer;
  /** What reached this browser's endpoint, decrypted. */
  got: { key: string; title: string; body: string; url: string | null; severity: string }[];
}
const browsers = new Map<string, Browser>();

/** One push endpoint per user (/push/<user>), answering 201 like a push service. */
async function startPushService() {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const b = browsers.get(req.url!.slice('/push/'.length))!;
      const plain = ece.decrypt(Buffer.concat(chunks), {
        version: 'aes128gcm',
        privateKey: b.keys,
        authSecret: b.auth.toString('base64url'),
      });
      b.got.push(JSON.parse(plain.toString('utf8')));
      res.writeHead(201).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
}

async function subscribe(userId: string): Promise<Browser> {
  const keys = createECDH('prime256v1');
  keys.generateKeys();
  const b: Browser = { keys, auth: randomBytes(16), got: [] };
  browsers.set(userId, b);
  await inTenant(pool, 'acme', (c) =>
    savePushSubscription(c, new AddressGuard(['127.0.0.1']), 'acme', userId, {
      endpoint: `http://127.0.0.1:${port}/push/${userId}`,
      keys: { p256dh: keys.getPublicKey('base64url'), auth: b.auth.toString('base64url') },
    }),
  );
  return b;
}

/** `minutes` of driving at 60 km/h ending an hour ago, the tank falling from 95 % to 5 %. */
async function drive(vehicleId: string, userId: string, minutes: number) {
  await pool.query('INSERT INTO vehicles (id, tenant_id) VALUES ($1, $2)', [vehicleId, 'acme']);
  await pool.query(
    `INSERT INTO vehicle_assignments (tenant_id, vehicle_id, user_id, starts_at, source, created_by)
     VALUES ('acme', $1, $2, now() - interval '20 days', 'admin', 'test')`,
    [vehicleId, userId],
  );
  await pool.query(
    `INSERT INTO telemetry_minute (tenant_id, vehicle_id, minute, samples, speed_n, speed_sum, rpm_n, rpm_sum,
                                   fuel_min, fuel_max)
     SELECT 'acme', $1, date_trunc('minute', now()) - make_interval(mins => 60 + $2 - g), 60, 60, 3600, 60, 90000,
            95 - 90.0 * g / $2, 95 - 90.0 * g / $2
       FROM generate_series(0, $2) AS g`,
    [vehicleId, minutes],
  );
  await setLevel(vehicleId, 5);
}
const setLevel = (vehicleId: string, pct: number) =>
  pool.query(
    `INSERT INTO vehicle_latest (vehicle_id, ts, fuel_level_pct, received_at) VALUES ($1, now(), $2, now())
     ON CONFLICT (vehicle_id) DO UPDATE SET fuel_level_pct = $2, ts = now()`,
    [vehicleId, pct],
  );

/** The kilometres a low-range push announces: its episode's estimate, inside the band physics allows. */
async function kmLeft(title: string, levelPct: number) {
  const km = Number(/quedan unos (\d+) km/.exec(title)?.[1]);
  const { rows } = await pool.query<{ range_km: number }>(
    `SELECT range_km FROM low_range_episodes WHERE vehicle_id = 'van-1' ORDER BY started_at DESC LIMIT 1`,
  );
  expect(km).toBe(Math.round(Number(rows[0]!.range_km)));
  // At least the whole fall's 6.7 km per %. The 30-day series is in 3-hour buckets, and the means of
  // the first and last trim the fall to 85.5 % or 72 % (the drive's minutes in those two buckets add up
  // to 60 or 240, the rest being whole buckets): never below 60 %.
  expect(km).toBeGreaterThanOrEqual(Math.floor((600 / 90) * levelPct));
  expect(km).toBeLessThan((600 / 60) * levelPct);
  return km;
}

const sweep = async () => {
  await sweepDriverProgramme(pool, log, { badges: false });
  return sweepDriverPushes(pool, log);
};
const deliveries = async () =>
  (
    await pool.query<{ recipient_user_id: string; status: string; key: string }>(
      `SELECT recipient_user_id, status, idempotency_key AS key FROM notification_deliveries ORDER BY id`,
    )
  ).rows;

beforeAll(async () => {
  await requireServices({ postgres: true });
  db = await openTestPool('t_driver_push');
  pool = db.pool;
  await migrate(pool, log);
  await seedNotifyTenant(pool, 'acme', [
    { id: 'dana', email: 'dana@acme.test', role: 'driver' },
    { id: 'eli', email: 'eli@acme.test', role: 'driver' },
  ]);
  await startPushService();
  // Dana reads Spanish; Eli turned every driver push off (through the API, as the settings card does).
  await pool.query(`INSERT INTO user_preferences (tenant_id, user_id, locale) VALUES ('acme', 'dana', 'es')`);
  const eli = createCaller({ db: pool, session: { ...sessionOf('driver', 'acme'), userId: 'eli' } });
  expect(await eli.notifications.driverPushSettings()).toEqual({
    lowRange: true,
    serviceDue: true,
    challengeResults: true,
    lowRangeKm: 50,
  });
  expect(
    await eli.notifications.setDriverPushSettings({
      lowRange: false,
      serviceDue: false,
      challengeResults: false,
    }),
  ).toEqual({ lowRange: false, serviceDue: false, challengeResults: false });
  await subscribe('dana');
  await subscribe('eli');
  // 600 km on the tank's fall from 95 % to 5 %: 6.7 km per %, 33 km left at 5 % (Eli's 300 km: 17).
  // The driver page reads the fall from the 30-day series' bucket means, which trim the ends by an
  // amount that depends on where now falls in a bucket: hence a band, not one figure (kmLeft).
  await drive('van-1', 'dana', 600);
  await drive('van-2', 'eli', 300);
  // A monthly check started 40 days ago and never done: overdue on both vans.
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO service_programs (tenant_id, name, interval_days, soon_days, starts_at)
     VALUES ('acme', 'Oil change', 30, 7, now() - interval '40 days') RETURNING id`,
  );
  await pool.query(
    `INSERT INTO service_program_targets (tenant_id, program_id, vehicle_id) VALUES ('acme', $1, 'van-1'), ('acme', $1, 'van-2')`,
    [rows[0]!.id],
  );
  // A distance challenge that has just ended, no grace: the next sweep freezes it.
  await pool.query(
    `INSERT INTO challenges (tenant_id, name, kind, metric, direction, target, time_zone, starts_at, ends_at,
                             grace_minutes, reward_points, created_by)
     VALUES ('acme', 'Long November', 'individual', 'distance_km', 'at_least', 100, 'UTC',
             now() - interval '10 days', now() - interval '1 minute', 0, 20, 'test')`,
  );
  worker = new NotificationWorker(
    pool,
    fastSettings(db.schema, { push: { ...vapid, subject: 'mailto:ops@fleet.test' } }),
    log,
  );
  await worker.start();
}, 60_000);

afterAll(async () => {
  await worker?.stop();
  server?.close();
  await db?.drop();
});

describe('driver pushes', () => {
  it('each kind reaches the driver once, decrypted and in Spanish; none when the setting is off', async () => {
    const first = await sweep();
    expect(first).toMatchObject({ queued: 2, lowRangeOpened: 2, failed: 0 }); // + the challenge's, in its sweep
    const dana = browsers.get('dana')!;
    await waitFor('three pushes', () => dana.got.length >= 3);
    await waitFor('all sent', async () => (await deliveries()).every((d) => d.status === 'sent'));
    const byTitle = [...dana.got].sort((a, b) => a.title.localeCompare(b.title));
    const km = await kmLeft(byTitle[0]!.title, 5);
    expect(byTitle.map((p) => ({ title: p.title, body: p.body, url: p.url, severity: p.severity }))).toEqual([
      {
        title: `Autonomía baja: quedan unos ${km} km`,
        body: `A van-1 le quedan unos ${km} km de combustible. Reposta pronto.`,
        url: null,
        severity: 'info',
      },
      {
        title: 'Resultados del reto: Long November',
        body: 'Quedaste en el puesto 1 de 2. Objetivo cumplido: +20 puntos.',
        url: null,
        severity: 'info',
      },
      {
        title: 'Servicio vencido: Oil change',
        body: 'van-1 tiene pendiente «Oil change».',
        url: null,
        severity: 'info',
      },
    ]);
    // The tag the service worker shows it under is the outbox's idempotency key.
    const rows = await deliveries();
    expect(rows.map((r) => r.recipient_user_id)).toEqual(['dana', 'dana', 'dana']);
    expect(new Set(dana.got.map((p) => p.key))).toEqual(new Set(rows.map((r) => r.key)));
    expect(browsers.get('eli')!.got).toEqual([]);
  });

  it('a second sweep sends nothing again; a refuel ends the episode and the next low range is a new push', async () => {
    const again = await sweep();
    expect(again).toMatchObject({ queued: 0, lowRangeOpened: 0, lowRangeClosed: 0, failed: 0 });
    expect(await deliveries()).toHaveLength(3);

    await setLevel('van-1', 90);
    expect(await sweep()).toMatchObject({ queued: 0, lowRangeClosed: 1 });
    await setLevel('van-1', 4);
    expect(await sweep()).toMatchObject({ queued: 1, lowRangeOpened: 1 });
    const dana = browsers.get('dana')!;
    await waitFor('the new episode', () => dana.got.length >= 4);
    await kmLeft(dana.got[3]!.title, 4);
    expect(new Set(dana.got.map((p) => p.key)).size).toBe(4);
    expect(browsers.get('eli')!.got).toEqual([]);
  });
});
