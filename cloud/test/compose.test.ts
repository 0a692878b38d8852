/**
 * docker/compose.yaml and docker/Dockerfile against what they start: the shipped Mosquitto
 * configuration (listeners, the files it reads), the cloud's configuration schema and the
 * Prometheus scrape target. scripts/compose-smoke.sh runs the stack where a Docker engine runs;
 * this test catches, everywhere, the mistakes that kept it from working: a broker listener the
 * ingest cannot reach, TLS certificates never mounted, a required variable never set (the command
 * signing key once was), a metrics endpoint Prometheus cannot scrape, an image running as root.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadCloudConfig } from '../src/config.ts';
import { PRODUCTION_ENV } from './support/production-env.ts';

const DOCKER = path.join(import.meta.dirname, '../../docker');

interface Service {
  image?: string;
  build?: {
    context: string;
    dockerfile: string;
    target?: string;
    network?: string;
    args?: Record<string, string>;
  };
  command?: string[];
  environment?: Record<string, string>;
  env_file?: string[];
  secrets?: string[];
  volumes?: string[];
  ports?: string[];
  network_mode?: string;
  networks?: unknown;
}
/** The file as compose reads it with none of its ${VAR:-default} variables set. */
const composeText = readFileSync(path.join(DOCKER, 'compose.yaml'), 'utf8');
/** Interpolates like compose: after parsing, so "${X:-false}" stays the string "false". */
const interpolate = (v: unknown): unknown =>
  typeof v === 'string'
    ? v.replace(/\$\{[A-Z0-9_]+:-([^}]*)\}/g, '$1')
    : Array.isArray(v)
      ? v.map(interpolate)
      : typeof v === 'object' && v !== null
        ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, interpolate(x)]))
        : v;
const compose = interpolate(parse(composeText, { merge: true })) as {
  services: Record<string, Service>;
  secrets: Record<string, { file: string }>;
};
const { postgres, mosquitto, cloud, web } = compose.services as Record<
  'postgres' | 'mosquitto' | 'cloud' | 'web',
  Service
>;

/** The directives of the shipped mosquitto.conf, in order (comments and blank lines dropped). */
const directives = readFileSync(path.join(DOCKER, 'mosquitto/mosquitto.conf'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'))
  .map((l) => l.split(/\s+/) as [string, ...string[]]);
const listeners = directives
  .filter(([d]) => d === 'listener')
  .map(([, port, bind]) => ({ port: Number(port), bind }));

/** host path -> container path of a service's bind mounts and volumes. */
const mounts = (s: Service) => (s.volumes ?? []).map((v) => v.split(':') as [string, string, string?]);
/** Is `file` (a container path) inside one of the service's mounts? */
const mounted = (s: Service, file: string) =>
  mounts(s).some(([, target]) => file === target || file.startsWith(`${target.replace(/\/$/, '')}/`));

/** The stages of docker/Dockerfile: name -> its instructions (continuation lines joined). */
const stages = new Map<string, string[]>();
{
  let current: string[] = [];
  const lines = readFileSync(path.join(DOCKER, 'Dockerfile'), 'utf8')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  for (const line of lines) {
    const from = /^FROM\s+\S+(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) {
      current = [];
      stages.set(from[1] ?? `#${stages.size}`, current);
    }
    current.push(line);
  }
}

describe('docker/compose.yaml', () => {
  it("every service is on the host's network and publishes nothing (host networking ignores ports)", () => {
    for (const [name, service] of Object.entries(compose.services)) {
      expect(service.network_mode, name).toBe('host');
      expect(service.ports, name).toBeUndefined();
      expect(service.networks, name).toBeUndefined();
      if (service.build) expect(service.build.network, `${name} build`).toBe('host');
    }
    // PostgreSQL would listen on every interface of the host by default.
    expect(postgres.command?.join(' ')).toContain('listen_addresses=127.0.0.1');
  });

  it("the ingest's broker address is Mosquitto's loopback listener; only the vehicles' TLS listener is open", () => {
    const url = new URL(cloud.environment!.MQTT_URL!);
    expect(url.hostname).toBe('127.0.0.1');
    const listener = listeners.find((l) => l.port === Number(url.port));
    expect(listener, `no listener on ${url.port}: ${JSON.stringify(listeners)}`).toBeDefined();
    expect(listener!.bind).toBe('127.0.0.1');
    expect(listeners.filter((l) => l.bind !== '127.0.0.1').map((l) => l.port)).toEqual([8883]);
  });

  it('every file the broker reads is mounted, the TLS certificates included', () => {
    const files = directives
      .filter(([d]) =>
        ['password_file', 'acl_file', 'certfile', 'keyfile', 'cafile', 'persistence_location'].includes(d),
      )
      .map(([d, file]) => ({ d, file: file! }));
    expect(files.map((f) => f.d)).toEqual(
      expect.arrayContaining([
        'password_file',
        'acl_file',
        'certfile',
        'keyfile',
        'cafile',
        'persistence_location',
      ]),
    );
    for (const { d, file } of files) expect(mounted(mosquitto, file), `${d} ${file}`).toBe(true);
    // The configuration itself, where the image reads it.
    expect(mounted(mosquitto, '/mosquitto/config/mosquitto.conf')).toBe(true);
    const tls = directives.findIndex(([d, port]) => d === 'listener' && port === '8883');
    expect(directives.slice(tls + 1, tls + 4).map(([d]) => d)).toEqual(['certfile', 'keyfile', 'cafile']);
  });

  it('the cloud is given every production variable, and the values pass its own schema', () => {
    // The secrets come from secrets/cloud.env, which the file's header documents.
    const header = composeText.slice(0, composeText.indexOf('\nx-build'));
    const fromEnvFile = ['DATABASE_URL', 'MQTT_PASSWORD', 'FLEET_SECRET_KEYS'];
    for (const v of fromEnvFile) expect(header, `${v} in the cloud.env notes`).toContain(v);
    expect(cloud.env_file).toEqual(['./secrets/cloud.env']);
    const set = [...Object.keys(cloud.environment!), ...fromEnvFile];
    expect(PRODUCTION_ENV.filter((v) => !set.includes(v))).toEqual([]);

    const env = {
      ...cloud.environment,
      DATABASE_URL: 'postgres://postgres:pw@127.0.0.1:5432/fleet',
      MQTT_PASSWORD: 'pw',
      FLEET_SECRET_KEYS: `1:${Buffer.alloc(32, 7).toString('base64')}`,
    };
    const config = loadCloudConfig(env);
    expect([config.apiHost, config.metrics.host]).toEqual(['127.0.0.1', '127.0.0.1']);
    expect(config.autoRegisterVehicles).toBe(false);
    // The signing key is a compose secret, which lands in /run/secrets/NAME.
    const key = /^\/run\/secrets\/(.+)$/.exec(config.commandKeyFile!);
    expect(cloud.secrets).toContain(key?.[1]);
    expect(compose.secrets[key![1]!]!.file).toMatch(/^\.\/secrets\//);
    // The password file provisioning writes is the one the broker reads.
    expect(
      mounts(cloud).find(([, target]) => target === cloud.environment!.FLEET_MQTT_PASSWORD_FILE)?.[0],
    ).toBe(mounts(mosquitto).find(([, target]) => target === '/mosquitto/config/passwd')?.[0]);

    // The web app calls the API where it listens, and listens on loopback itself.
    const api = new URL(web.environment!.FLEET_API_URL!);
    expect([api.hostname, Number(api.port)]).toEqual([config.apiHost, config.apiPort]);
    expect(web.environment!.FLEET_WEB_HOST).toBe('127.0.0.1');

    // Prometheus (docker/prometheus) scrapes where the metrics endpoint listens.
    const prometheus = parse(readFileSync(path.join(DOCKER, 'prometheus/prometheus.yml'), 'utf8')) as {
      scrape_configs: { static_configs: { targets: string[] }[] }[];
    };
    expect(prometheus.scrape_configs[0]!.static_configs[0]!.targets).toEqual([
      `${config.metrics.host}:${config.metrics.port}`,
    ]);
  });

  it('the mounted configuration files of the repository exist', () => {
    for (const [source] of [...mounts(mosquitto), ...mounts(cloud)].filter(([s]) => s.startsWith('./'))) {
      // passwd and certs/ are made per deployment, outside the repository (see the file's header).
      if (/\/(passwd|certs)$/.test(source)) continue;
      expect(existsSync(path.join(DOCKER, source)), source).toBe(true);
    }
  });
});

describe('docker/Dockerfile', () => {
  it('builds every image compose names, in stages, from an overridable base', () => {
    for (const service of [cloud, web]) {
      expect(service.build!.dockerfile).toBe('docker/Dockerfile');
      expect(stages.has(service.build!.target!), service.build!.target).toBe(true);
      expect(Object.keys(service.build!.args!).sort()).toEqual([
        'BUILD_IMAGE',
        'NODE_HEADERS',
        'RUNTIME_IMAGE',
      ]);
    }
    const froms = [...stages.values()].map((s) => s[0]!);
    expect(
      froms.every((f) => /^FROM \$\{(BUILD|RUNTIME)_IMAGE\}/.test(f)),
      froms.join('\n'),
    ).toBe(true);
  });

  it.each(['cloud', 'web', 'agent'])(
    'the %s image: runtime base, only built files, non-root, a health check',
    (name) => {
      const stage = stages.get(name)!;
      expect(stage[0]).toMatch(/^FROM \$\{RUNTIME_IMAGE\} AS /);
      // Multi-stage: what it needs comes from the build stage, no compiler in the image.
      expect(stage.some((l) => l.startsWith('COPY --from=build'))).toBe(true);
      expect(stage.some((l) => /^RUN .*(pnpm|npm) install/.test(l))).toBe(false);
      const users = stage.filter((l) => l.startsWith('USER '));
      // Numeric, so Kubernetes' runAsNonRoot can check it; not 0.
      expect(users.at(-1)).toMatch(/^USER [1-9][0-9]*:[1-9][0-9]*$/);
      const user = stage.indexOf(users.at(-1)!);
      expect(
        stage.slice(user).some((l) => /^RUN /.test(l)),
        'nothing runs as root after USER',
      ).toBe(false);
      expect(stage.find((l) => l.startsWith('HEALTHCHECK '))).toMatch(/HEALTHCHECK .*CMD \[/);
    },
  );

  it("the cloud's health check calls the endpoint the API serves; the web's, a public page", () => {
    expect(stages.get('cloud')!.find((l) => l.startsWith('HEALTHCHECK'))).toContain('/healthz');
    const server = readFileSync(path.join(import.meta.dirname, '../src/api/server.ts'), 'utf8');
    expect(server).toContain("req.url === '/healthz'");
    expect(stages.get('web')!.find((l) => l.startsWith('HEALTHCHECK'))).toContain('/manifest.webmanifest');
    expect(existsSync(path.join(import.meta.dirname, '../../web/app/manifest.ts'))).toBe(true);
  });
});
