/**
 * docker/compose.yaml against what it starts: the shipped Mosquitto configuration (listeners, the
 * files it reads) and the cloud's configuration schema. No Docker engine runs on these machines,
 * so the file is checked here for the mistakes that kept it from working: a broker listening on
 * the container's loopback only, TLS certificates never mounted, an API port never published.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadCloudConfig } from '../src/config.ts';

const DOCKER = path.join(import.meta.dirname, '../../docker');

interface Service {
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  networks?: Record<string, { ipv4_address?: string }>;
}
const compose = parse(readFileSync(path.join(DOCKER, 'compose.yaml'), 'utf8')) as {
  services: Record<string, Service>;
};
const { mosquitto, cloud, web } = compose.services as Record<'mosquitto' | 'cloud' | 'web', Service>;

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
/** "HOST:CONTAINER" port mappings as container port -> host port. */
const published = (s: Service) =>
  new Map((s.ports ?? []).map((p) => p.split(':').map(Number).reverse() as [number, number]));

describe('docker/compose.yaml', () => {
  it("the ingest's broker address is a Mosquitto listener open to other containers", () => {
    const url = new URL(cloud.environment!.MQTT_URL!);
    expect(url.hostname).toBe('mosquitto');
    const listener = listeners.find((l) => l.port === Number(url.port));
    expect(listener, `no listener on ${url.port}: ${JSON.stringify(listeners)}`).toBeDefined();
    // Bound to 127.0.0.1 it would only take connections from inside the broker's own container.
    expect(listener!.bind).toBeUndefined();
  });

  it('every file the broker reads is mounted, the TLS certificates included, and the vehicles reach TLS only', () => {
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
    expect([...published(mosquitto).keys()]).toEqual([8883]);
  });

  it("the API listens beyond the container's loopback, on the port compose publishes and the web app calls", () => {
    const env = { ...cloud.environment, DATABASE_URL: 'postgres://postgres:pw@postgres:5432/fleet' };
    const config = loadCloudConfig(env); // the values compose sets pass the cloud's own schema
    expect(config.apiHost).toBe('0.0.0.0');
    expect(published(cloud).get(config.apiPort)).toBe(config.apiPort);
    const api = new URL(web.environment!.FLEET_API_URL!);
    expect([api.hostname, Number(api.port)]).toEqual(['cloud', config.apiPort]);
    // Per-IP limits per browser: the cloud believes the web app's X-Forwarded-For.
    expect(config.trustedProxies).toContain(web.networks!.default!.ipv4_address);
  });

  it('the mounted configuration files of the repository exist', () => {
    for (const [source] of [...mounts(mosquitto), ...mounts(cloud)].filter(([s]) => s.startsWith('./'))) {
      // passwd and certs/ are made per deployment, outside the repository (see the file's header).
      if (/\/(passwd|certs)$/.test(source)) continue;
      expect(existsSync(path.join(DOCKER, source)), source).toBe(true);
    }
  });
});
