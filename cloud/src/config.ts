/**
 * Every environment variable the cloud's programs read, in one schema: the service
 * (`loadCloudConfig`, main.ts), the embedded broker and database (`loadEmbeddedConfig`) and the
 * operator CLI (`loadCliConfig`). Each variable documents its range and default; a bad value
 * stops the program at start with its name, its value and what was expected, never later as a
 * NaN or a silent default (a FLEET_SESSION_CACHE_MS of "5s" once became NaN, and cached sessions
 * then never expired). The defaults are the embedded stack's; production sets the URLs.
 */
import { isIP } from 'node:net';
import { DEFAULT_BASE_TOPIC, ID_PATTERN } from '@fleet/shared';
import { z } from 'zod';
import type { OidcSettings } from './auth/oidc.ts';
import { CloudError, CloudErrorCode } from './errors.ts';
import { parseAllowEntry } from './notifications/channels/address-guard.ts';
import { SecretBox } from './security/secret-box.ts';

const integer = (min: number, max: number, unit = '') =>
  z.coerce.number().int().min(min).max(max).describe(`an integer${unit} from ${min} to ${max}`);
const port = () => integer(0, 65535).describe('a TCP port from 0 to 65535 (0 picks a free one)');
const url = (protocols: RegExp, what: string) => z.url({ protocol: protocols }).describe(what);
const millis = (max: number) => integer(0, max, ' of milliseconds');
const flag = () =>
  z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .describe('true or false');

const VARIABLES = z.object({
  /** PostgreSQL URL. Default: the embedded PGlite socket. */
  DATABASE_URL: url(/^postgres(ql)?$/, 'a postgres:// URL').default(
    'postgres://postgres@127.0.0.1:5433/postgres',
  ),
  /** Optional schema (created if missing) so several stacks can share one database (tests). */
  DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/)
    .optional()
    .describe('a lowercase SQL identifier of up to 63 characters'),
  /** [1...100] pool size, default 10; the embedded PGlite serialises queries anyway. */
  DATABASE_POOL_SIZE: integer(1, 100).default(10),
  /**
   * Optional streaming replica of DATABASE_URL (db/read-replica.ts): the API's lag-tolerant reads
   * (dashboards, reports, leaderboards) go there, falling back to the primary while it is down.
   */
  DATABASE_READ_URL: url(/^postgres(ql)?$/, 'a postgres:// URL').optional(),
  /** MQTT broker URL (mqtt://, mqtts://). Default: the embedded aedes broker. */
  MQTT_URL: url(/^mqtts?$/, 'an mqtt:// or mqtts:// URL').default('mqtt://127.0.0.1:1884'),
  MQTT_USERNAME: z.string().optional(),
  MQTT_PASSWORD: z.string().optional(),
  /** Root of the topic namespace, default `fleet`. */
  FLEET_BASE_TOPIC: z
    .string()
    .regex(ID_PATTERN)
    .default(DEFAULT_BASE_TOPIC)
    .describe(`a topic segment (${ID_PATTERN.source})`),
  /**
   * MQTT 5 shared-subscription group of the ingest processes, default `fleet-ingest`; `none`
   * for a plain subscription on one connection. Brokers without MQTT 5 (aedes) fall back anyway.
   */
  FLEET_INGEST_SHARED_GROUP: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/)
    .default('fleet-ingest')
    .transform((g) => (g === 'none' ? (false as const) : g))
    .describe('a group name ([A-Za-z0-9_-]{1,64}) or none'),
  /** [1...256] MQTT connections per ingest process on the shared subscription, default 8. */
  FLEET_INGEST_CONNECTIONS: integer(1, 256).default(8),
  /** Stable MQTT client id of the ingest, so the broker keeps its session; default random. */
  FLEET_INGEST_CLIENT_ID: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,200}$/)
    .optional()
    .describe('an MQTT client id ([A-Za-z0-9_.-]{1,200})'),
  /**
   * Where the ingest reads: `mqtt` (default: the MQTT 5 shared subscription on MQTT_URL, for one
   * Mosquitto or an EMQX/HiveMQ cluster) or `jetstream` (durable consumers on the NATS cluster
   * of FLEET_NATS_URLS, cloud/src/ingest/jetstream-client.ts).
   */
  FLEET_INGEST_SOURCE: z.enum(['mqtt', 'jetstream']).default('mqtt'),
  /** nats://host:port,... of the cluster's nodes (FLEET_INGEST_SOURCE=jetstream). */
  FLEET_NATS_URLS: z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((u) => u.trim())
        .filter((u) => u.length > 0),
    )
    .pipe(z.array(url(/^(nats|tls)$/, 'a nats:// or tls:// URL')).min(1))
    .optional()
    .describe('comma-separated nats:// URLs'),
  /** API listen address: localhost only unless configured. */
  FLEET_API_HOST: z.string().min(1).default('127.0.0.1').describe('a host name or address'),
  /** [0...65535] API port, default 4000; 0 picks a free one. */
  FLEET_API_PORT: port().default(4000),
  /** Prometheus `/metrics` endpoint (metrics/server.ts): localhost only unless configured. */
  FLEET_METRICS_HOST: z.string().min(1).default('127.0.0.1').describe('a host name or address'),
  /** [0...65535] default 9464 (the usual Prometheus exporter port); 0 picks a free one. */
  FLEET_METRICS_PORT: port().default(9464),
  /** The endpoint's path, default /metrics. */
  FLEET_METRICS_PATH: z
    .string()
    .regex(/^\/[A-Za-z0-9._~/-]{0,100}$/)
    .default('/metrics')
    .describe('a URL path starting with /'),
  /**
   * The address people open (the web app, e.g. https://fleet.example.com). https: every cookie
   * is sent with `Secure`. Unset: a development stack on http://127.0.0.1.
   */
  FLEET_PUBLIC_URL: url(/^https?$/, 'an http:// or https:// URL').optional(),
  /** Peers whose X-Forwarded-For the API believes (the web app's proxy), default loopback. */
  FLEET_TRUSTED_PROXIES: z
    .string()
    .transform((s) => s.split(',').map((a) => a.trim()))
    .pipe(
      z.array(z.string().refine((a) => isIP(a) !== 0, { error: (i) => `"${i.input}" is not an IP address` })),
    )
    .optional()
    .describe('IP addresses separated by commas'),
  /**
   * Register unknown tenants/vehicles on their first valid batch. On by default until device
   * provisioning exists (security issue); a vehicle id already owned by another tenant is refused.
   */
  FLEET_AUTO_REGISTER_VEHICLES: flag().default(true),
  /** `id:base64key,...` AES-256-GCM keys for tenant secrets (security/secret-box.ts). */
  FLEET_SECRET_KEYS: z
    .string()
    .transform((spec, ctx) => {
      try {
        return SecretBox.fromKeyList(spec);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    })
    .optional()
    .describe('id:base64key entries (32-byte keys) separated by commas'),
  /** The first administrator, created at start when that email does not exist yet. */
  FLEET_BOOTSTRAP_ADMIN_EMAIL: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.email())
    .optional()
    .describe('an email address'),
  FLEET_BOOTSTRAP_ADMIN_PASSWORD: z.string().min(12).optional().describe('at least 12 characters'),
  FLEET_BOOTSTRAP_TENANT: z
    .string()
    .regex(ID_PATTERN)
    .default('demo')
    .describe(`a tenant id (${ID_PATTERN.source})`),
  /** OpenID Connect sign-in (auth/oidc.ts): the four are set together or not at all. */
  FLEET_OIDC_ISSUER: url(/^https?$/, "the identity provider's https:// URL").optional(),
  FLEET_OIDC_CLIENT_ID: z.string().min(1).optional(),
  FLEET_OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  FLEET_OIDC_REDIRECT_URI: url(/^https?$/, 'the callback URL as the browser reaches it').optional(),
  /** Where the browser goes once signed in through OpenID Connect, default "/". */
  FLEET_OIDC_AFTER_LOGIN: z
    .string()
    .regex(/^\/(?!\/)/)
    .default('/')
    .describe('a path on this site, starting with one /'),
  /** [0...3600000] ms a confirmed session or API token is believed without asking the database; 0 = off. */
  FLEET_SESSION_CACHE_MS: millis(3_600_000).default(5000),
  /** [0...60000] ms the fleet overview and latest states are shared per tenant scope; 0 = off. */
  FLEET_OVERVIEW_CACHE_MS: millis(60_000).default(1000),
  /** [50...60000] ms between two polls of the live feed (SSE subscriptions), default 1000. */
  FLEET_LIVE_POLL_MS: integer(50, 60_000, ' of milliseconds').default(1000),
  /** [0...3600000] ms between two alert sweeps (offline, low fuel, escalation), default 60000; 0 = off. */
  FLEET_ALERT_SWEEP_MS: millis(3_600_000).default(60_000),
  /** [0...3600000] ms between two fuel reconciliation sweeps (late detected refuels, pending purchases), default 60000; 0 = off. */
  FLEET_FUEL_RECONCILE_SWEEP_MS: millis(3_600_000).default(60_000),
  /** [0...86400000] ms between two driver rescores (today's and yesterday's scores), default 3600000; 0 = off. */
  FLEET_SCORE_SWEEP_MS: millis(86_400_000).default(3_600_000),
  /** [0...3600000] ms between two drivers' programme sweeps (finalize ended challenges; badges at most hourly), default 60000; 0 = off. */
  FLEET_DRIVER_PROGRAMME_SWEEP_MS: millis(3_600_000).default(60_000),
  /** [0...3600000] ms between two looks for due report schedules, default 30000; 0 = off. */
  FLEET_REPORT_SCHEDULE_MS: millis(3_600_000).default(30_000),
  /**
   * Where mailed and API download links point (the API's /exports route as people reach it),
   * default FLEET_PUBLIC_URL + /api/exports (the web app's proxy), else the API's own /exports.
   */
  FLEET_EXPORT_LINK_URL: url(/^https?$/, 'an http:// or https:// URL').optional(),
  /** Embedded stack: aedes and PGlite ports, off 1883/5432 so they never clash with real services. */
  FLEET_MQTT_PORT: port().default(1884),
  FLEET_PG_PORT: port().default(5433),
  /** Embedded stack: keep the PGlite database in this directory (default: in memory). */
  FLEET_PGLITE_DIR: z.string().optional(),
  /**
   * The broker's password file. Embedded stack: aedes signs clients in with it (and the ACL).
   * Cloud and CLI: where device provisioning writes the vehicles' logins (devices/broker-logins.ts).
   */
  FLEET_MQTT_PASSWORD_FILE: z.string().min(1).optional(),
  FLEET_MQTT_ACL_FILE: z.string().optional(),
  /** Mosquitto's pid_file: the cloud sends that process SIGHUP after changing the password file. */
  FLEET_MQTT_BROKER_PID_FILE: z.string().min(1).optional(),
  /** The broker URL vehicles are given with their credentials, default MQTT_URL. */
  FLEET_DEVICE_MQTT_URL: url(/^mqtts?$/, 'an mqtt:// or mqtts:// URL').optional(),
  /**
   * Notifications (notifications/): the SMTP server, smtp://user:pass@host:587 (STARTTLS) or
   * smtps://user:pass@host:465 (TLS). Unset: no e-mail channel (deliveries to it go dead, saying so).
   */
  FLEET_SMTP_URL: url(/^smtps?$/, 'an smtp:// or smtps:// URL').optional(),
  FLEET_SMTP_FROM: z
    .string()
    .refine((v) => !/[\r\n]/.test(v) && /@/.test(v), { error: 'an address, e.g. Fleet <alerts@example.com>' })
    .default('Fleet alerts <alerts@fleet.invalid>')
    .describe('a From address'),
  /** Refuse to send e-mail unless the server upgrades to TLS (default true). */
  FLEET_SMTP_REQUIRE_TLS: flag().default(true),
  /** PEM file of the CA that signed a private SMTP server's certificate. */
  FLEET_SMTP_CA_FILE: z.string().min(1).optional(),
  /** Web Push VAPID keys (`npx web-push generate-vapid-keys`): both or neither. */
  FLEET_VAPID_PUBLIC_KEY: z
    .string()
    .regex(/^[A-Za-z0-9_-]{80,100}$/)
    .optional()
    .describe('a base64url P-256 public key'),
  FLEET_VAPID_PRIVATE_KEY: z
    .string()
    .regex(/^[A-Za-z0-9_-]{40,50}$/)
    .optional()
    .describe('a base64url P-256 private key'),
  FLEET_VAPID_SUBJECT: z
    .string()
    .regex(/^(mailto:|https:\/\/)/)
    .default('mailto:alerts@fleet.invalid')
    .describe('a mailto: or https: contact'),
  /** SMS provider (Twilio's Messages API shape): the four together or none (SMS off). */
  FLEET_SMS_URL: url(/^https?$/, 'the provider API base URL').optional(),
  FLEET_SMS_ACCOUNT: z.string().min(1).optional(),
  FLEET_SMS_TOKEN: z.string().min(1).optional(),
  FLEET_SMS_FROM: z
    .string()
    .regex(/^\+[1-9][0-9]{6,14}$/)
    .optional()
    .describe('an E.164 number'),
  /** Private/loopback addresses webhooks and push may reach anyway: IPs or CIDR blocks, comma-separated. */
  FLEET_NOTIFY_ALLOW_ADDRESSES: z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((a) => a.trim())
        .filter((a) => a !== ''),
    )
    .pipe(
      z.array(
        z.string().refine((a) => parseAllowEntry(a) !== null, {
          error: (i) => `"${i.input}" is not an IP or CIDR block`,
        }),
      ),
    )
    .optional()
    .describe('IP addresses or CIDR blocks separated by commas'),
  /** [1...1000] messages per recipient per channel per hour before the rest wait for a digest, default 10. */
  FLEET_NOTIFY_PER_HOUR: integer(1, 1000).default(10),
  /** [1...100] SMS per recipient per hour, default 3 (the hardest throttle). */
  FLEET_NOTIFY_SMS_PER_HOUR: integer(1, 100).default(3),
  /** [1...3600] s before the first retry, doubling with jitter; webhooks are tried for 24 h. */
  FLEET_NOTIFY_RETRY_DELAY_S: integer(1, 3600, ' of seconds').default(30),
  /** Run the delivery worker in this process (default true; false for API-only processes). */
  FLEET_NOTIFY_WORKER: flag().default(true),
  /** CLI: Debian's mosquitto_passwd, which hashes the vehicles' MQTT passwords. */
  MOSQUITTO_PASSWD: z.string().min(1).default('/usr/bin/mosquitto_passwd'),
  /** CLI: who runs a command, for the audit log's default actor. */
  USER: z.string().min(1).default('operator'),
  /**
   * The remote-command signing key (Ed25519, PKCS#8 PEM, mode 600; vehicles hold its public half,
   * `fleet-agent run --command-public-key`). Unset: no remote commands (commands.send answers 701).
   */
  FLEET_COMMAND_KEY_FILE: z.string().min(1).optional(),
});
type Variable = keyof typeof VARIABLES.shape;

/** Values never repeated in an error message. */
const SECRET = new Set<Variable>([
  'MQTT_PASSWORD',
  'FLEET_SECRET_KEYS',
  'FLEET_BOOTSTRAP_ADMIN_PASSWORD',
  'FLEET_OIDC_CLIENT_SECRET',
  'FLEET_SMTP_URL',
  'FLEET_VAPID_PRIVATE_KEY',
  'FLEET_SMS_TOKEN',
]);

/** A variable's `describe()` text, under its default or optional wrapper. */
const expectation = (s: z.ZodType): string | undefined =>
  s.description ??
  (s instanceof z.ZodDefault || s instanceof z.ZodOptional
    ? expectation(s.unwrap() as z.ZodType)
    : undefined);

/** Parses the picked variables; a bad one throws ConfigInvalid naming each, its value and what fits. */
function read<S extends z.ZodType>(schema: S, processEnv: NodeJS.ProcessEnv): z.output<S> {
  // An empty variable means "not set" (shells and launchers often pass VAR= to clear one).
  const env = Object.fromEntries(Object.entries(processEnv).filter(([, v]) => v !== ''));
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const name = String(issue.path[0]) as Variable;
    const value = env[name];
    const shown =
      value === undefined
        ? 'is not set'
        : SECRET.has(name)
          ? `(${value.length} characters, not shown)`
          : `"${value}"`;
    const variable = VARIABLES.shape[name] as z.ZodType | undefined;
    const expected = variable && expectation(variable);
    const why = issue.code === 'custom' || !expected ? issue.message : `expected ${expected}`;
    return `${name}${value === undefined ? ' ' : '='}${shown}: ${why}`;
  });
  throw new CloudError(CloudErrorCode.ConfigInvalid, `invalid configuration: ${problems.join('; ')}`);
}

/** Where device provisioning changes the broker's logins; undefined: it cannot here. */
function brokerLoginsOf(env: { FLEET_MQTT_PASSWORD_FILE?: string; FLEET_MQTT_BROKER_PID_FILE?: string }) {
  return env.FLEET_MQTT_PASSWORD_FILE
    ? { passwordFile: env.FLEET_MQTT_PASSWORD_FILE, brokerPidFile: env.FLEET_MQTT_BROKER_PID_FILE }
    : undefined;
}

const OIDC_VARIABLES = [
  'FLEET_OIDC_ISSUER',
  'FLEET_OIDC_CLIENT_ID',
  'FLEET_OIDC_CLIENT_SECRET',
  'FLEET_OIDC_REDIRECT_URI',
] as const;

const ServiceEnv = VARIABLES.pick({
  DATABASE_URL: true,
  DATABASE_SCHEMA: true,
  DATABASE_POOL_SIZE: true,
  DATABASE_READ_URL: true,
  MQTT_URL: true,
  MQTT_USERNAME: true,
  MQTT_PASSWORD: true,
  FLEET_BASE_TOPIC: true,
  FLEET_INGEST_SHARED_GROUP: true,
  FLEET_INGEST_CONNECTIONS: true,
  FLEET_INGEST_CLIENT_ID: true,
  FLEET_INGEST_SOURCE: true,
  FLEET_NATS_URLS: true,
  FLEET_COMMAND_KEY_FILE: true,
  FLEET_API_HOST: true,
  FLEET_API_PORT: true,
  FLEET_METRICS_HOST: true,
  FLEET_METRICS_PORT: true,
  FLEET_METRICS_PATH: true,
  FLEET_PUBLIC_URL: true,
  FLEET_TRUSTED_PROXIES: true,
  FLEET_AUTO_REGISTER_VEHICLES: true,
  FLEET_SECRET_KEYS: true,
  FLEET_BOOTSTRAP_ADMIN_EMAIL: true,
  FLEET_BOOTSTRAP_ADMIN_PASSWORD: true,
  FLEET_BOOTSTRAP_TENANT: true,
  FLEET_OIDC_ISSUER: true,
  FLEET_OIDC_CLIENT_ID: true,
  FLEET_OIDC_CLIENT_SECRET: true,
  FLEET_OIDC_REDIRECT_URI: true,
  FLEET_OIDC_AFTER_LOGIN: true,
  FLEET_SESSION_CACHE_MS: true,
  FLEET_OVERVIEW_CACHE_MS: true,
  FLEET_LIVE_POLL_MS: true,
  FLEET_ALERT_SWEEP_MS: true,
  FLEET_FUEL_RECONCILE_SWEEP_MS: true,
  FLEET_SCORE_SWEEP_MS: true,
  FLEET_DRIVER_PROGRAMME_SWEEP_MS: true,
  FLEET_REPORT_SCHEDULE_MS: true,
  FLEET_EXPORT_LINK_URL: true,
  FLEET_MQTT_PASSWORD_FILE: true,
  FLEET_MQTT_BROKER_PID_FILE: true,
  FLEET_DEVICE_MQTT_URL: true,
  FLEET_SMTP_URL: true,
  FLEET_SMTP_FROM: true,
  FLEET_SMTP_REQUIRE_TLS: true,
  FLEET_SMTP_CA_FILE: true,
  FLEET_VAPID_PUBLIC_KEY: true,
  FLEET_VAPID_PRIVATE_KEY: true,
  FLEET_VAPID_SUBJECT: true,
  FLEET_SMS_URL: true,
  FLEET_SMS_ACCOUNT: true,
  FLEET_SMS_TOKEN: true,
  FLEET_SMS_FROM: true,
  FLEET_NOTIFY_ALLOW_ADDRESSES: true,
  FLEET_NOTIFY_PER_HOUR: true,
  FLEET_NOTIFY_SMS_PER_HOUR: true,
  FLEET_NOTIFY_RETRY_DELAY_S: true,
  FLEET_NOTIFY_WORKER: true,
})
  .superRefine((env, ctx) => {
    for (const group of [
      ['FLEET_VAPID_PUBLIC_KEY', 'FLEET_VAPID_PRIVATE_KEY'],
      ['FLEET_SMS_URL', 'FLEET_SMS_ACCOUNT', 'FLEET_SMS_TOKEN', 'FLEET_SMS_FROM'],
    ] as const) {
      const set = group.filter((v) => env[v] !== undefined);
      if (set.length > 0 && set.length < group.length)
        for (const v of group.filter((v) => env[v] === undefined))
          ctx.addIssue({ code: 'custom', path: [v], message: `set with ${set.join(', ')}, or none of them` });
    }
    // Half an OpenID Connect setup used to switch sign-in through it off without a word.
    const set = OIDC_VARIABLES.filter((v) => env[v] !== undefined);
    if (set.length > 0 && set.length < OIDC_VARIABLES.length)
      for (const v of OIDC_VARIABLES.filter((v) => env[v] === undefined))
        ctx.addIssue({ code: 'custom', path: [v], message: `set with ${set.join(', ')}, or none of them` });
    if (
      (env.FLEET_BOOTSTRAP_ADMIN_EMAIL === undefined) !==
      (env.FLEET_BOOTSTRAP_ADMIN_PASSWORD === undefined)
    )
      for (const v of ['FLEET_BOOTSTRAP_ADMIN_EMAIL', 'FLEET_BOOTSTRAP_ADMIN_PASSWORD'] as const)
        if (env[v] === undefined)
          ctx.addIssue({ code: 'custom', path: [v], message: 'the bootstrap administrator needs both' });
    if (env.FLEET_INGEST_SOURCE === 'jetstream' && env.FLEET_NATS_URLS === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['FLEET_NATS_URLS'],
        message: 'FLEET_INGEST_SOURCE=jetstream reads from these NATS servers: set them',
      });
  })
  .transform((env) => ({
    databaseUrl: env.DATABASE_URL,
    databaseSchema: env.DATABASE_SCHEMA,
    databasePoolSize: env.DATABASE_POOL_SIZE,
    /** Unset: every read on the primary. */
    databaseReadUrl: env.DATABASE_READ_URL,
    mqttUrl: env.MQTT_URL,
    mqttUsername: env.MQTT_USERNAME,
    mqttPassword: env.MQTT_PASSWORD,
    baseTopic: env.FLEET_BASE_TOPIC,
    /** false: a plain subscription (FLEET_INGEST_SHARED_GROUP=none). */
    ingestSharedGroup: env.FLEET_INGEST_SHARED_GROUP,
    ingestConnections: env.FLEET_INGEST_CONNECTIONS,
    ingestClientId: env.FLEET_INGEST_CLIENT_ID,
    /** The JetStream source's NATS servers; undefined: the MQTT subscription (the default). */
    ingestNatsUrls: env.FLEET_INGEST_SOURCE === 'jetstream' ? env.FLEET_NATS_URLS : undefined,
    commandKeyFile: env.FLEET_COMMAND_KEY_FILE,
    apiHost: env.FLEET_API_HOST,
    apiPort: env.FLEET_API_PORT,
    metrics: { host: env.FLEET_METRICS_HOST, port: env.FLEET_METRICS_PORT, path: env.FLEET_METRICS_PATH },
    /** Cookies carry `Secure` (FLEET_PUBLIC_URL is https). */
    secureCookies: env.FLEET_PUBLIC_URL?.startsWith('https:') ?? false,
    trustedProxies: env.FLEET_TRUSTED_PROXIES,
    autoRegisterVehicles: env.FLEET_AUTO_REGISTER_VEHICLES,
    /** Opens the tenants' webhook secrets; without it /webhooks answers 503. */
    secretBox: env.FLEET_SECRET_KEYS,
    bootstrapAdmin:
      env.FLEET_BOOTSTRAP_ADMIN_EMAIL && env.FLEET_BOOTSTRAP_ADMIN_PASSWORD
        ? {
            email: env.FLEET_BOOTSTRAP_ADMIN_EMAIL,
            password: env.FLEET_BOOTSTRAP_ADMIN_PASSWORD,
            tenantId: env.FLEET_BOOTSTRAP_TENANT,
          }
        : undefined,
    oidc:
      env.FLEET_OIDC_ISSUER &&
      env.FLEET_OIDC_CLIENT_ID &&
      env.FLEET_OIDC_CLIENT_SECRET &&
      env.FLEET_OIDC_REDIRECT_URI
        ? ({
            issuer: env.FLEET_OIDC_ISSUER,
            clientId: env.FLEET_OIDC_CLIENT_ID,
            clientSecret: env.FLEET_OIDC_CLIENT_SECRET,
            redirectUri: env.FLEET_OIDC_REDIRECT_URI,
            afterLogin: env.FLEET_OIDC_AFTER_LOGIN,
            // Tests and laptops only: an identity provider on this machine over plain http.
            allowInsecure: /^http:\/\/(127\.0\.0\.1|localhost)(?=[:/]|$)/.test(env.FLEET_OIDC_ISSUER),
          } satisfies OidcSettings)
        : undefined,
    sessionCacheMs: env.FLEET_SESSION_CACHE_MS,
    sharedAnswersMs: env.FLEET_OVERVIEW_CACHE_MS,
    livePollMs: env.FLEET_LIVE_POLL_MS,
    alertSweepMs: env.FLEET_ALERT_SWEEP_MS,
    fuelReconcileSweepMs: env.FLEET_FUEL_RECONCILE_SWEEP_MS,
    scoreSweepMs: env.FLEET_SCORE_SWEEP_MS,
    driverProgrammeSweepMs: env.FLEET_DRIVER_PROGRAMME_SWEEP_MS,
    reportScheduleMs: env.FLEET_REPORT_SCHEDULE_MS,
    exportLinkUrl: env.FLEET_EXPORT_LINK_URL,
    publicUrl: env.FLEET_PUBLIC_URL,
    brokerLogins: brokerLoginsOf(env),
    deviceMqttUrl: env.FLEET_DEVICE_MQTT_URL ?? env.MQTT_URL,
    notifications: {
      worker: env.FLEET_NOTIFY_WORKER,
      email: env.FLEET_SMTP_URL
        ? {
            url: env.FLEET_SMTP_URL,
            from: env.FLEET_SMTP_FROM,
            requireTls: env.FLEET_SMTP_REQUIRE_TLS,
            caFile: env.FLEET_SMTP_CA_FILE,
          }
        : undefined,
      push:
        env.FLEET_VAPID_PUBLIC_KEY && env.FLEET_VAPID_PRIVATE_KEY
          ? {
              publicKey: env.FLEET_VAPID_PUBLIC_KEY,
              privateKey: env.FLEET_VAPID_PRIVATE_KEY,
              subject: env.FLEET_VAPID_SUBJECT,
            }
          : undefined,
      sms:
        env.FLEET_SMS_URL && env.FLEET_SMS_ACCOUNT && env.FLEET_SMS_TOKEN && env.FLEET_SMS_FROM
          ? {
              url: env.FLEET_SMS_URL,
              accountId: env.FLEET_SMS_ACCOUNT,
              token: env.FLEET_SMS_TOKEN,
              from: env.FLEET_SMS_FROM,
            }
          : undefined,
      allowAddresses: env.FLEET_NOTIFY_ALLOW_ADDRESSES ?? [],
      throttlePerHour: env.FLEET_NOTIFY_PER_HOUR,
      smsPerHour: env.FLEET_NOTIFY_SMS_PER_HOUR,
      retryDelaySeconds: env.FLEET_NOTIFY_RETRY_DELAY_S,
    },
  }));
export type CloudConfig = z.output<typeof ServiceEnv>;

/** The cloud service's settings (main.ts). */
export function loadCloudConfig(processEnv: NodeJS.ProcessEnv = process.env): CloudConfig {
  return read(ServiceEnv, processEnv);
}

const EmbeddedEnv = VARIABLES.pick({
  FLEET_MQTT_PORT: true,
  FLEET_PG_PORT: true,
  FLEET_PGLITE_DIR: true,
  FLEET_MQTT_PASSWORD_FILE: true,
  FLEET_MQTT_ACL_FILE: true,
  FLEET_BASE_TOPIC: true,
}).transform((env) => ({
  mqttPort: env.FLEET_MQTT_PORT,
  pgPort: env.FLEET_PG_PORT,
  pgliteDir: env.FLEET_PGLITE_DIR,
  /** Both or neither: clients signed in and the ACL applied as the production Mosquitto does. */
  brokerAuth:
    env.FLEET_MQTT_PASSWORD_FILE && env.FLEET_MQTT_ACL_FILE
      ? { passwordFile: env.FLEET_MQTT_PASSWORD_FILE, aclFile: env.FLEET_MQTT_ACL_FILE }
      : undefined,
  baseTopic: env.FLEET_BASE_TOPIC,
}));
export type EmbeddedConfig = z.output<typeof EmbeddedEnv>;

/** The embedded broker and database's settings (embedded/main.ts). */
export function loadEmbeddedConfig(processEnv: NodeJS.ProcessEnv = process.env): EmbeddedConfig {
  return read(EmbeddedEnv, processEnv);
}

const CliEnv = VARIABLES.pick({
  DATABASE_URL: true,
  DATABASE_SCHEMA: true,
  MQTT_URL: true,
  MQTT_USERNAME: true,
  MQTT_PASSWORD: true,
  FLEET_BASE_TOPIC: true,
  FLEET_SECRET_KEYS: true,
  MOSQUITTO_PASSWD: true,
  USER: true,
  FLEET_MQTT_PASSWORD_FILE: true,
  FLEET_MQTT_BROKER_PID_FILE: true,
  FLEET_DEVICE_MQTT_URL: true,
  FLEET_COMMAND_KEY_FILE: true,
}).transform((env) => ({
  databaseUrl: env.DATABASE_URL,
  databaseSchema: env.DATABASE_SCHEMA,
  mqttUrl: env.MQTT_URL,
  mqttUsername: env.MQTT_USERNAME,
  mqttPassword: env.MQTT_PASSWORD,
  baseTopic: env.FLEET_BASE_TOPIC,
  secretBox: env.FLEET_SECRET_KEYS,
  mosquittoPasswd: env.MOSQUITTO_PASSWD,
  /** The audit log's default actor. */
  operator: env.USER,
  brokerLogins: brokerLoginsOf(env),
  deviceMqttUrl: env.FLEET_DEVICE_MQTT_URL ?? env.MQTT_URL,
  commandKeyFile: env.FLEET_COMMAND_KEY_FILE,
}));
export type CliConfig = z.output<typeof CliEnv>;

/** The operator CLI's defaults and credentials (`fleet-cloud`; its flags override the URLs). */
export function loadCliConfig(processEnv: NodeJS.ProcessEnv = process.env): CliConfig {
  return read(CliEnv, processEnv);
}
