import { describe, expect, it } from 'vitest';
import { loadCliConfig, loadCloudConfig, loadEmbeddedConfig } from './config.ts';
import { CloudErrorCode, isCloudError } from './errors.ts';
import { SecretBox } from './security/secret-box.ts';

/** The ConfigInvalid error's message, or a failure when the environment was accepted. */
function refusal(load: () => unknown): string {
  try {
    load();
  } catch (err) {
    expect(isCloudError(err, CloudErrorCode.ConfigInvalid), String(err)).toBe(true);
    return (err as Error).message;
  }
  throw new Error('the configuration was accepted');
}

describe('cloud configuration (every variable through one schema)', () => {
  it('an empty environment gives the embedded stack defaults', () => {
    const c = loadCloudConfig({});
    expect(c).toMatchObject({
      databaseUrl: 'postgres://postgres@127.0.0.1:5433/postgres',
      databasePoolSize: 10,
      mqttUrl: 'mqtt://127.0.0.1:1884',
      baseTopic: 'fleet',
      ingestSharedGroup: 'fleet-ingest',
      ingestConnections: 8,
      apiHost: '127.0.0.1',
      apiPort: 4000,
      autoRegisterVehicles: true,
      secureCookies: false,
      sessionCacheMs: 5000,
      sharedAnswersMs: 1000,
      livePollMs: 1000,
    });
    expect([c.secretBox, c.oidc, c.bootstrapAdmin, c.trustedProxies, c.ingestClientId]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it('FLEET_SESSION_CACHE_MS that is not a number is refused at start, naming the variable, value and range', () => {
    // It used to become NaN: cached sessions never expired, so a revoked token stayed valid.
    const message = refusal(() => loadCloudConfig({ FLEET_SESSION_CACHE_MS: '5s' }));
    expect(message).toBe(
      'invalid configuration: FLEET_SESSION_CACHE_MS="5s": expected an integer of milliseconds from 0 to 3600000',
    );
    expect(refusal(() => loadCloudConfig({ FLEET_SESSION_CACHE_MS: '-1' }))).toContain(
      'FLEET_SESSION_CACHE_MS="-1"',
    );
    expect(loadCloudConfig({ FLEET_SESSION_CACHE_MS: '0' }).sessionCacheMs).toBe(0);
    expect(loadCloudConfig({ FLEET_SESSION_CACHE_MS: '' }).sessionCacheMs).toBe(5000); // VAR= is unset
  });

  it('names every bad variable at once, and never repeats a secret', () => {
    const message = refusal(() =>
      loadCloudConfig({
        DATABASE_URL: 'mysql://db/fleet',
        FLEET_API_PORT: '70000',
        FLEET_LIVE_POLL_MS: 'fast',
        FLEET_AUTO_REGISTER_VEHICLES: 'yes',
        FLEET_SECRET_KEYS: 'k1:c2VjcmV0',
      }),
    );
    expect(message).toContain('DATABASE_URL="mysql://db/fleet": expected a postgres:// URL');
    expect(message).toContain('FLEET_API_PORT="70000": expected a TCP port from 0 to 65535');
    expect(message).toContain(
      'FLEET_LIVE_POLL_MS="fast": expected an integer of milliseconds from 50 to 60000',
    );
    expect(message).toContain('FLEET_AUTO_REGISTER_VEHICLES="yes": expected true or false');
    expect(message).toContain('FLEET_SECRET_KEYS=(11 characters, not shown): secret key "k1" has 6 bytes');
    expect(message).not.toContain('c2VjcmV0');
  });

  it('cookies are Secure exactly when FLEET_PUBLIC_URL is https', () => {
    expect(loadCloudConfig({ FLEET_PUBLIC_URL: 'https://fleet.example.com' }).secureCookies).toBe(true);
    expect(loadCloudConfig({ FLEET_PUBLIC_URL: 'http://127.0.0.1:3000' }).secureCookies).toBe(false);
    expect(refusal(() => loadCloudConfig({ FLEET_PUBLIC_URL: 'fleet.example.com' }))).toContain(
      'FLEET_PUBLIC_URL="fleet.example.com": expected an http:// or https:// URL',
    );
  });

  it('half an OpenID Connect or bootstrap setup is refused instead of silently switched off', () => {
    const oidc = refusal(() =>
      loadCloudConfig({ FLEET_OIDC_ISSUER: 'https://idp.example.com', FLEET_OIDC_CLIENT_ID: 'fleet' }),
    );
    expect(oidc).toContain(
      'FLEET_OIDC_CLIENT_SECRET is not set: set with FLEET_OIDC_ISSUER, FLEET_OIDC_CLIENT_ID',
    );
    expect(oidc).toContain('FLEET_OIDC_REDIRECT_URI is not set');
    expect(refusal(() => loadCloudConfig({ FLEET_BOOTSTRAP_ADMIN_EMAIL: 'admin@example.com' }))).toContain(
      'FLEET_BOOTSTRAP_ADMIN_PASSWORD is not set: the bootstrap administrator needs both',
    );
    expect(
      refusal(() =>
        loadCloudConfig({
          FLEET_BOOTSTRAP_ADMIN_EMAIL: 'admin@example.com',
          FLEET_BOOTSTRAP_ADMIN_PASSWORD: 'short',
        }),
      ),
    ).toContain('FLEET_BOOTSTRAP_ADMIN_PASSWORD=(5 characters, not shown): expected at least 12 characters');
  });

  it('turns the accepted values into what the service uses', () => {
    const keys = SecretBox.generateKey('k1');
    const c = loadCloudConfig({
      FLEET_INGEST_SHARED_GROUP: 'none',
      FLEET_TRUSTED_PROXIES: '10.0.0.5, ::1',
      FLEET_SECRET_KEYS: keys,
      FLEET_BOOTSTRAP_ADMIN_EMAIL: ' Admin@Example.com',
      FLEET_BOOTSTRAP_ADMIN_PASSWORD: 'a-long-password',
      FLEET_OIDC_ISSUER: 'http://127.0.0.1:9000',
      FLEET_OIDC_CLIENT_ID: 'fleet',
      FLEET_OIDC_CLIENT_SECRET: 'secret',
      FLEET_OIDC_REDIRECT_URI: 'http://127.0.0.1:3000/api/auth/oidc/callback',
    });
    expect(c.ingestSharedGroup).toBe(false);
    expect(c.trustedProxies).toEqual(['10.0.0.5', '::1']);
    expect(c.secretBox?.activeKeyId).toBe('k1');
    expect(c.bootstrapAdmin).toEqual({
      email: 'admin@example.com',
      password: 'a-long-password',
      tenantId: 'demo',
    });
    expect(c.oidc).toMatchObject({ afterLogin: '/', allowInsecure: true });
    expect(refusal(() => loadCloudConfig({ FLEET_TRUSTED_PROXIES: '10.0.0.5,web-app' }))).toContain(
      'FLEET_TRUSTED_PROXIES="10.0.0.5,web-app": "web-app" is not an IP address',
    );
  });

  it('the embedded stack and the CLI read their variables through the same schema', () => {
    expect(loadEmbeddedConfig({})).toEqual({
      mqttPort: 1884,
      pgPort: 5433,
      pgliteDir: undefined,
      brokerAuth: undefined,
      baseTopic: 'fleet',
    });
    expect(refusal(() => loadEmbeddedConfig({ FLEET_PG_PORT: 'five' }))).toContain('FLEET_PG_PORT="five"');
    expect(loadCliConfig({ USER: 'ops', DATABASE_SCHEMA: 'fleet_a' })).toMatchObject({
      databaseSchema: 'fleet_a',
      operator: 'ops',
      mosquittoPasswd: '/usr/bin/mosquitto_passwd',
    });
    expect(refusal(() => loadCliConfig({ MQTT_URL: 'tcp://broker:1883' }))).toContain(
      'MQTT_URL="tcp://broker:1883": expected an mqtt:// or mqtts:// URL',
    );
  });

  it('the JetStream ingest source needs its NATS servers; the MQTT subscription stays the default', () => {
    expect(loadCloudConfig({}).ingestNatsUrls).toBeUndefined();
    // Listed but not selected: still the MQTT subscription.
    expect(loadCloudConfig({ FLEET_NATS_URLS: 'nats://127.0.0.1:4300' }).ingestNatsUrls).toBeUndefined();
    expect(
      loadCloudConfig({
        FLEET_INGEST_SOURCE: 'jetstream',
        FLEET_NATS_URLS: 'nats://10.0.0.1:4222, nats://10.0.0.2:4222,',
      }).ingestNatsUrls,
    ).toEqual(['nats://10.0.0.1:4222', 'nats://10.0.0.2:4222']);
    expect(refusal(() => loadCloudConfig({ FLEET_INGEST_SOURCE: 'jetstream' }))).toContain('FLEET_NATS_URLS');
    expect(refusal(() => loadCloudConfig({ FLEET_INGEST_SOURCE: 'kafka' }))).toContain('FLEET_INGEST_SOURCE');
    expect(
      refusal(() => loadCloudConfig({ FLEET_INGEST_SOURCE: 'jetstream', FLEET_NATS_URLS: 'mqtt://n1:1883' })),
    ).toContain('FLEET_NATS_URLS');
  });
});
