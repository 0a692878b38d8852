/**
 * The cloud service: migrations, then MQTT ingest into PostgreSQL and the tRPC API.
 * Configuration comes from the environment (config.ts); see README "Configuration".
 */
import { randomUUID } from 'node:crypto';
import { createLogger, safeUrl } from '@fleet/shared/log';
import { ruleDelivery } from './alerts/rules/delivery.ts';
import { setAlertDelivery } from './alerts/rules/rule-alerts.ts';
import { AlertSweeper } from './alerts/rules/sweep.ts';
import { LiveFeed } from './api/live-feed.ts';
import { configureNotificationsApi } from './api/routers/notifications.ts';
import { configureReportExports } from './api/routers/report-schedules.ts';
import { startApiServer } from './api/server.ts';
import { configureSharedAnswers } from './api/shared-answers.ts';
import { bootstrapAdmin } from './auth/bootstrap.ts';
import { handOverByAdmin } from './auth/invites.ts';
import { OidcLogin } from './auth/oidc.ts';
import { configureSessionCache } from './auth/session-cache.ts';
import { readCommandKey } from './commands/command-key.ts';
import { CommandService } from './commands/command-service.ts';
import { loadCloudConfig } from './config.ts';
import { migrate } from './db/migrate.ts';
import { openPool } from './db/pool.ts';
import { ReadReplica } from './db/read-replica.ts';
import { deviceProvisioningFrom } from './devices/device-provisioning.ts';
import { DriverProgrammeSweeper } from './drivers/programme-sweep.ts';
import { ScoreSweeper } from './drivers/scoring/score-sweep.ts';
import { isCloudError } from './errors.ts';
import { FuelReconcileSweeper } from './fuel/reconcile-sweep.ts';
import { FuelCardInboxConsumer } from './fuel/webhook-inbox.ts';
import { EventIngest } from './ingest/event-ingest.ts';
import { TelemetryIngest } from './ingest/telemetry-ingest.ts';
import { registerServiceDueAlerts } from './maintenance/service-due-alerts.ts';
import { watchLiveStreams } from './metrics/api-metrics.ts';
import { watchFleetDatabase } from './metrics/fleet-metrics.ts';
import { watchEventIngest, watchTelemetryIngest } from './metrics/ingest-metrics.ts';
import { watchJobQueue } from './metrics/notification-metrics.ts';
import { startMetricsServer } from './metrics/server.ts';
import { EmailSender } from './notifications/channels/email.ts';
import { notificationSettings } from './notifications/settings.ts';
import { NotificationWorker } from './notifications/worker.ts';
import { ReportScheduleRunner } from './reports/schedules/runner.ts';

const log = createLogger('cloud');

/** Where download links point: FLEET_EXPORT_LINK_URL, else the web app's proxy, else the API. */
function exportLinkUrl(config: ReturnType<typeof loadCloudConfig>): string {
  if (config.exportLinkUrl) return config.exportLinkUrl;
  if (config.publicUrl) return new URL('/api/exports', config.publicUrl).toString();
  return `http://${config.apiHost.includes(':') ? `[${config.apiHost}]` : config.apiHost}:${config.apiPort}/exports`;
}

async function main() {
  const config = loadCloudConfig();
  configureSessionCache({ ttlMs: config.sessionCacheMs });
  configureSharedAnswers({ ttlMs: config.sharedAnswersMs });
  LiveFeed.configure({ pollMs: config.livePollMs });
  configureNotificationsApi({
    vapidPublicKey: config.notifications.push?.publicKey,
    allowAddresses: config.notifications.allowAddresses,
    secretBox: config.secretBox,
  });
  configureReportExports({ secretBox: config.secretBox, baseUrl: exportLinkUrl(config) });
  const pool = await openPool({
    url: config.databaseUrl,
    schema: config.databaseSchema,
    max: config.databasePoolSize,
  });
  log.info(
    { database: safeUrl(config.databaseUrl), schema: config.databaseSchema ?? 'public' },
    'database connected',
  );
  await migrate(pool, log);
  // Dashboards, reports and leaderboards read from the replica when there is one (db/read-replica.ts).
  const readReplica = config.databaseReadUrl
    ? new ReadReplica(pool, {
        url: config.databaseReadUrl,
        schema: config.databaseSchema,
        max: config.databasePoolSize,
        log: createLogger('read-replica'),
      })
    : undefined;
  if (readReplica) log.info({ replica: readReplica.where }, 'lag-tolerant reads go to the read replica');
  if (config.bootstrapAdmin) await bootstrapAdmin(pool, config.bootstrapAdmin, log);
  // Alert rules reach people through the notifications outbox, from the first event on. Links
  // point at FLEET_PUBLIC_URL (default: the Quick start's web app on this machine).
  const alertDelivery = ruleDelivery(config.publicUrl ?? 'http://localhost:3000', createLogger('alerts'));
  setAlertDelivery(alertDelivery);

  const ingest = new TelemetryIngest({
    pool,
    mqttUrl: config.mqttUrl,
    mqttUsername: config.mqttUsername,
    mqttPassword: config.mqttPassword,
    baseTopic: config.baseTopic,
    clientId: config.ingestClientId ?? `fleet-ingest-${randomUUID().slice(0, 8)}`,
    autoRegisterVehicles: config.autoRegisterVehicles,
    sharedGroup: config.ingestSharedGroup,
    connections: config.ingestConnections,
    jetstream: config.ingestNatsUrls && { servers: config.ingestNatsUrls },
    log: createLogger('ingest'),
  });
  await ingest.start();
  // The detectors' events (vehicle_events): their own lane and subscription, same broker login.
  const eventIngest = new EventIngest({
    pool,
    mqttUrl: config.mqttUrl,
    mqttUsername: config.mqttUsername,
    mqttPassword: config.mqttPassword,
    baseTopic: config.baseTopic,
    clientId: config.ingestClientId ?? `fleet-ingest-${randomUUID().slice(0, 8)}`,
    autoRegisterVehicles: config.autoRegisterVehicles,
    sharedGroup: config.ingestSharedGroup,
    jetstream: config.ingestNatsUrls && { servers: config.ingestNatsUrls },
    log: createLogger('event-ingest'),
  });
  await eventIngest.start();
  // Signed remote commands to the vehicles (issue 18 §3): only with the signing key.
  const commands = config.commandKeyFile
    ? new CommandService({
        pool,
        mqttUrl: config.mqttUrl,
        mqttUsername: config.mqttUsername,
        mqttPassword: config.mqttPassword,
        baseTopic: config.baseTopic,
        clientId: `${config.ingestClientId ?? `fleet-ingest-${randomUUID().slice(0, 8)}`}-commands`,
        signingKey: readCommandKey(config.commandKeyFile),
        log: createLogger('commands'),
      })
    : null;
  await commands?.start();
  // Signed fuel-card webhooks wait in webhook_inbox until this turns them into purchases.
  const fuelInbox = new FuelCardInboxConsumer(pool, createLogger('fuel-inbox'));
  fuelInbox.start();
  // Device offline, low fuel, due services (maintenance/) and escalation: what no message announces.
  registerServiceDueAlerts();
  const sweeper = new AlertSweeper(pool, config.alertSweepMs, createLogger('alert-sweep'), alertDelivery);
  sweeper.start();
  // Purchases and drivers' logs are reconciled on arrival; this catches the refuels the vehicles
  // report later (an agent offline for a day backfills its detections).
  const fuelSweeper = new FuelReconcileSweeper(
    pool,
    config.fuelReconcileSweepMs,
    createLogger('fuel-reconcile-sweep'),
  );
  fuelSweeper.start();
  // Driver scores: the rolling window recomputed daily (and on each dispute decision, in the API).
  const scoreSweeper = new ScoreSweeper(pool, config.scoreSweepMs, createLogger('score-sweep'));
  scoreSweeper.start();
  // Drivers' programme: ended challenges frozen once their grace period is over; badges awarded.
  const programmeSweeper = new DriverProgrammeSweeper(
    pool,
    config.driverProgrammeSweepMs,
    createLogger('drivers-programme-sweep'),
  );
  programmeSweeper.start();
  // Alert notifications: the outbox → pg-boss → e-mail, webhooks, push, SMS.
  const notifier = config.notifications.worker
    ? new NotificationWorker(pool, await notificationSettings(config), createLogger('notifications'))
    : null;
  await notifier?.start();
  // Report schedules (reports/schedules/): due runs e-mailed through the same SMTP server.
  const reportEmail = (await notificationSettings(config)).email;
  const reportRunner = new ReportScheduleRunner(pool, {
    email: reportEmail ? new EmailSender(reportEmail) : undefined,
    secretBox: config.secretBox,
    linkBaseUrl: exportLinkUrl(config),
    // Where deliveries are sent (FLEET_NOTIFY_WORKER): an API-only process takes no runs.
    intervalMs: config.notifications.worker ? config.reportScheduleMs : 0,
    log: createLogger('report-schedules'),
  });
  reportRunner.start();
  // Prometheus: every role of this process, read at scrape time (metrics/, README "Metrics").
  watchTelemetryIngest(() => ingest.stats);
  watchEventIngest(() => eventIngest.stats);
  watchLiveStreams(() => LiveFeed.for(pool).subscribers);
  if (notifier) watchJobQueue(() => notifier.queueDepth());
  watchFleetDatabase(pool, createLogger('metrics'));
  const metrics = await startMetricsServer({ ...config.metrics, log: createLogger('metrics') });
  const api = await startApiServer({
    pool,
    readReplica,
    host: config.apiHost,
    port: config.apiPort,
    log: createLogger('api'),
    // Webhooks need the keys that open the tenants' webhook secrets; without them they answer 503.
    ...(config.secretBox ? { secretBox: config.secretBox } : {}),
    ...(config.oidc ? { oidc: new OidcLogin(config.oidc, pool) } : {}),
    // The web app's address(es) when it runs on another host; default loopback.
    trustedProxies: config.trustedProxies,
    secureCookies: config.secureCookies,
    admin: {
      devices: deviceProvisioningFrom(config),
      // No e-mail channel yet (alerts issue): the admin is shown the invitation link.
      invites: handOverByAdmin,
      publicUrl: config.publicUrl,
    },
  });
  // A plain line for the launcher (and people) to wait on.
  console.log(`fleet cloud ready api=${api.url}${metrics ? ` metrics=${metrics.url}` : ''}`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, ...ingest.stats }, 'stopping');
    await api.close();
    await metrics?.close();
    await ingest.stop();
    await eventIngest.stop();
    await commands?.stop();
    await fuelInbox.stop();
    await sweeper.stop();
    await fuelSweeper.stop();
    await scoreSweeper.stop();
    await programmeSweeper.stop();
    await notifier?.stop();
    await reportRunner.stop();
    await readReplica?.close();
    await pool.end();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  log.fatal(
    { code: isCloudError(err) ? err.code : undefined, err: (err as Error).message },
    'cloud failed to start',
  );
  console.error(`fleet cloud: ${(err as Error).message}`);
  process.exit(1);
});
