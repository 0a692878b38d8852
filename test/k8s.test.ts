/**
 * deploy/k8s, rendered the way a cluster would get it: every overlay rendered (scripts/lib/kustomize.ts,
 * checked against what the real kustomize made of the same files: deploy/k8s/rendered/), every
 * object validated against the Kubernetes OpenAPI schemas (the `kubernetes-models` package's
 * compiled validators: offline, no download), then what a schema cannot see: probes, resources
 * and non-root on every workload, secrets only by reference, selectors and HPA targets that name
 * something that exists, and the cloud's environment passing its own configuration schema.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as apps from 'kubernetes-models/apps/v1';
import * as autoscaling from 'kubernetes-models/autoscaling/v2';
import * as networking from 'kubernetes-models/networking.k8s.io/v1';
import * as policy from 'kubernetes-models/policy/v1';
import * as core from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadCloudConfig } from '../cloud/src/config.ts';
import { PRODUCTION_ENV } from '../cloud/test/support/production-env.ts';
import { type Manifest, readManifests, renderKustomization } from '../scripts/lib/kustomize.ts';

const ROOT = path.join(import.meta.dirname, '..');
const K8S = path.join(ROOT, 'deploy/k8s');
const overlays = readdirSync(path.join(K8S, 'overlays'));

interface Probe {
  httpGet?: { path: string; port: string | number };
}
interface Container {
  name: string;
  image: string;
  ports?: { name?: string; containerPort: number }[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key?: string } } }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  resources?: { requests?: { cpu?: string; memory?: string }; limits?: { memory?: string } };
  securityContext?: {
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    runAsNonRoot?: boolean;
    capabilities?: { drop?: string[] };
  };
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; runAsGroup?: number; fsGroup?: number };
  containers: Container[];
  volumes?: {
    name: string;
    secret?: { secretName: string; defaultMode?: number; items?: { key: string }[] };
  }[];
}
type Labels = Record<string, string>;
const spec = <T>(m: Manifest) => m.spec as T;
const podSpec = (d: Manifest) => spec<{ template: { spec: PodSpec } }>(d).template.spec;
const podLabels = (d: Manifest) =>
  spec<{ template: { metadata: { labels: Labels } } }>(d).template.metadata.labels;
const matches = (selector: Labels, labels: Labels) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

/** Objects in a stable order with named lists sorted, so two renderings compare by content. */
function normalise(ms: Manifest[]): unknown[] {
  const sortNamed = (v: unknown): unknown => {
    if (Array.isArray(v)) {
      const items = v.map(sortNamed);
      return items.every((i) => typeof (i as { name?: unknown })?.name === 'string')
        ? items.sort((a, b) =>
            String((a as { name: string }).name).localeCompare((b as { name: string }).name),
          )
        : items;
    }
    if (typeof v === 'object' && v !== null)
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, sortNamed(x)]));
    return v;
  };
  return ms
    .map((m) => sortNamed(m) as Manifest)
    .sort((a, b) => `${a.kind}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.name}`));
}

/** The kubernetes-models classes by apiVersion: every API group deploy/k8s uses. */
const SCHEMAS: Record<string, Record<string, unknown>> = {
  v1: core,
  'apps/v1': apps,
  'autoscaling/v2': autoscaling,
  'networking.k8s.io/v1': networking,
  'policy/v1': policy,
};
function model(m: Manifest): { validate(): void } {
  const Model = SCHEMAS[m.apiVersion]?.[m.kind] as (new (data: unknown) => { validate(): void }) | undefined;
  if (!Model) throw new Error(`no schema for ${m.apiVersion} ${m.kind}`);
  return new Model(m);
}

describe.each(overlays)('deploy/k8s/overlays/%s', (overlay) => {
  const rendered = renderKustomization(path.join(K8S, 'overlays', overlay));
  const of = (kind: string) => rendered.filter((m) => m.kind === kind);
  const deployments = of('Deployment');

  it('renders as the real kustomize did (deploy/k8s/rendered, made by scripts/k8s-render.sh)', () => {
    const kustomized = readManifests(path.join(K8S, 'rendered', `${overlay}.yaml`));
    expect(
      normalise(rendered),
      'deploy/k8s changed since the last render: run scripts/k8s-render.sh and commit the result',
    ).toEqual(normalise(kustomized));
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual([
      'fleet-api',
      'fleet-ingest',
      'fleet-web',
    ]);
  });

  it('every object passes the Kubernetes schema of its kind', () => {
    const failures: string[] = [];
    for (const m of rendered) {
      try {
        model(m).validate();
      } catch (e) {
        failures.push(`${m.kind}/${m.metadata.name}: ${(e as Error).message}`);
      }
    }
    expect(failures).toEqual([]);
    expect(rendered.every((m) => m.metadata.namespace === 'fleet')).toBe(true);
  });

  it('the schema check does catch a broken object', () => {
    const broken = structuredClone(deployments[0]!);
    (broken.spec as { replicas: unknown }).replicas = 'two';
    expect(() => model(broken).validate()).toThrow(/replicas/);
  });

  it('every workload has probes on ports it opens, resources, and runs as non-root on a read-only root', () => {
    for (const d of deployments) {
      const pod = podSpec(d);
      const where = d.metadata.name;
      expect(pod.securityContext?.runAsNonRoot, where).toBe(true);
      expect(pod.securityContext?.runAsUser, where).toBeGreaterThan(0);
      for (const c of pod.containers) {
        expect(c.image, where).toMatch(/^[a-z0-9./-]+\/fleet\/(cloud|web):[0-9.]+$/);
        const ports = new Set((c.ports ?? []).flatMap((p) => [p.name, p.containerPort]));
        for (const probe of ['livenessProbe', 'readinessProbe'] as const) {
          expect(c[probe]?.httpGet, `${where} ${probe}`).toBeDefined();
          expect(ports.has(c[probe]!.httpGet!.port), `${where} ${probe} port`).toBe(true);
        }
        expect(c.resources?.requests?.cpu, where).toBeDefined();
        expect(c.resources?.requests?.memory, where).toBeDefined();
        expect(c.resources?.limits?.memory, where).toBeDefined();
        expect(c.securityContext, where).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
        // Node (tsx's cache, exports) needs a writable /tmp on a read-only root.
        expect(
          c.volumeMounts?.some((v) => v.mountPath === '/tmp'),
          `${where} /tmp`,
        ).toBe(true);
      }
    }
    // The cloud answers its probes on /healthz (cloud/src/api/server.ts).
    for (const d of deployments.filter((d) => d.metadata.name !== 'fleet-web')) {
      expect(podSpec(d).containers[0]!.readinessProbe!.httpGet!.path).toBe('/healthz');
    }
  });

  it('secrets only by reference: no Secret objects, every reference names its key, no secret value inline', () => {
    expect(of('Secret')).toEqual([]);
    const configMaps = new Map(
      of('ConfigMap').map((c) => [c.metadata.name, (c as { data?: Record<string, string> }).data ?? {}]),
    );
    for (const d of deployments) {
      const pod = podSpec(d);
      for (const v of pod.volumes ?? []) {
        if (!v.secret) continue;
        expect(v.secret.items?.length, `${d.metadata.name} volume ${v.name}`).toBeGreaterThan(0);
        for (const item of v.secret.items!) expect(item.key).toMatch(/\S/);
        // The files are root's with group fsGroup: a non-root process reads them by group.
        expect((v.secret.defaultMode ?? 0o644) & 0o040, `${d.metadata.name} ${v.name} group-readable`).toBe(
          0o040,
        );
        expect(pod.securityContext?.fsGroup, d.metadata.name).toBe(pod.securityContext?.runAsGroup);
      }
      for (const c of pod.containers) {
        for (const e of c.env ?? []) {
          const ref = e.valueFrom?.secretKeyRef;
          if (ref) expect(ref.key, `${d.metadata.name} ${e.name}`).toMatch(/\S/);
          if (/PASSWORD|SECRET|KEYS$|DATABASE_URL|SMTP_URL/.test(e.name)) {
            expect(ref, `${d.metadata.name} ${e.name} must come from a Secret`).toBeDefined();
          }
        }
        for (const from of c.envFrom ?? []) {
          expect(from.secretRef, 'envFrom a whole Secret hides which keys are used').toBeUndefined();
          expect(configMaps.has(from.configMapRef!.name), from.configMapRef!.name).toBe(true);
        }
      }
    }
    for (const [name, data] of configMaps) {
      for (const key of Object.keys(data))
        expect(key, `${name}`).not.toMatch(/PASSWORD|SECRET_KEYS|DATABASE_URL/);
    }
  });

  it("the cloud's environment names every production variable and passes the cloud's own schema", () => {
    const configMaps = new Map(
      of('ConfigMap').map((c) => [c.metadata.name, (c as { data?: Record<string, string> }).data ?? {}]),
    );
    for (const d of deployments.filter((d) => d.metadata.name !== 'fleet-web')) {
      const c = podSpec(d).containers[0]!;
      const env: Record<string, string> = {};
      for (const from of c.envFrom ?? []) Object.assign(env, configMaps.get(from.configMapRef!.name));
      // Secret values are the operator's: stand-ins of the right shape.
      const standIn: Record<string, string> = {
        DATABASE_URL: 'postgres://fleet:pw@db.fleet.svc:5432/fleet',
        MQTT_PASSWORD: 'pw',
        FLEET_SECRET_KEYS: `1:${Buffer.alloc(32, 7).toString('base64')}`,
      };
      for (const e of c.env ?? []) {
        if (e.value !== undefined) env[e.name] = e.value;
        else if (e.valueFrom?.secretKeyRef && !('optional' in e.valueFrom.secretKeyRef)) {
          env[e.name] = standIn[e.name] ?? 'x';
        }
      }
      expect(
        PRODUCTION_ENV.filter((v) => !(v in env)),
        d.metadata.name,
      ).toEqual([]);
      const config = loadCloudConfig(env);
      expect(config.apiHost).toBe('0.0.0.0');
      expect(config.metrics.host).toBe('0.0.0.0');
      expect(config.autoRegisterVehicles).toBe(false);
      // The command key file is in a mounted Secret volume.
      const mount = c.volumeMounts!.find((m) => env.FLEET_COMMAND_KEY_FILE!.startsWith(`${m.mountPath}/`));
      expect(
        podSpec(d).volumes!.find((v) => v.name === mount?.name)?.secret,
        'command key mount',
      ).toBeDefined();
      // Container ports are the ones configured.
      expect(c.ports!.map((p) => p.containerPort).sort()).toEqual(
        [config.apiPort, config.metrics.port].sort(),
      );
    }
  });

  it('HPAs, PDBs and Services point at workloads that exist; every workload has all three', () => {
    const byName = new Map(deployments.map((d) => [d.metadata.name, d]));
    for (const hpa of of('HorizontalPodAutoscaler')) {
      const s = spec<{
        scaleTargetRef: { kind: string; name: string };
        minReplicas: number;
        maxReplicas: number;
        metrics: { type: string; external?: { metric: { name: string } } }[];
      }>(hpa);
      expect(s.scaleTargetRef.kind).toBe('Deployment');
      expect(byName.has(s.scaleTargetRef.name), s.scaleTargetRef.name).toBe(true);
      expect(
        s.minReplicas,
        `${hpa.metadata.name}: one replica is a single point of failure`,
      ).toBeGreaterThanOrEqual(2);
      expect(s.maxReplicas).toBeGreaterThanOrEqual(s.minReplicas);
      expect(s.metrics.some((m) => m.type === 'Resource')).toBe(true);
    }
    for (const pdb of of('PodDisruptionBudget')) {
      const sel = spec<{ selector: { matchLabels: Labels } }>(pdb).selector.matchLabels;
      expect(deployments.filter((d) => matches(sel, podLabels(d))).length, pdb.metadata.name).toBe(1);
    }
    for (const svc of of('Service')) {
      const s = spec<{ selector: Labels; ports: { targetPort: string }[] }>(svc);
      const target = deployments.filter((d) => matches(s.selector, podLabels(d)));
      expect(target.length, svc.metadata.name).toBe(1);
      const names = podSpec(target[0]!).containers.flatMap((c) => (c.ports ?? []).map((p) => p.name));
      for (const p of s.ports) expect(names, `${svc.metadata.name} ${p.targetPort}`).toContain(p.targetPort);
    }
    for (const name of byName.keys()) {
      expect(
        of('HorizontalPodAutoscaler').some(
          (h) => spec<{ scaleTargetRef: { name: string } }>(h).scaleTargetRef.name === name,
        ),
        name,
      ).toBe(true);
      expect(
        of('PodDisruptionBudget').some((p) => p.metadata.name === name),
        name,
      ).toBe(true);
    }
    // The web app's API address is the API Service.
    const web = podSpec(byName.get('fleet-web')!).containers[0]!;
    const api = new URL(web.env!.find((e) => e.name === 'FLEET_API_URL')!.value!);
    const svc = of('Service').find((s) => s.metadata.name === api.hostname)!;
    expect(spec<{ ports: { port: number }[] }>(svc).ports.map((p) => p.port)).toContain(Number(api.port));
  });

  it("the ingest scales on its lag: an External metric prometheus-adapter serves from the cloud's own histogram", () => {
    const hpa = of('HorizontalPodAutoscaler').find((h) => h.metadata.name === 'fleet-ingest')!;
    const external = spec<{ metrics: { type: string; external?: { metric: { name: string } } }[] }>(hpa)
      .metrics.filter((m) => m.type === 'External')
      .map((m) => m.external!.metric.name);
    const adapter = parse(readFileSync(path.join(K8S, 'prometheus-adapter.yaml'), 'utf8')) as {
      rules: { external: { seriesQuery: string; name: { as: string } }[] };
    };
    expect(external).toEqual(['fleet_ingest_lag_p99_seconds']);
    const rule = adapter.rules.external.find((r) => r.name.as === external[0]);
    expect(rule, 'no prometheus-adapter rule serves it').toBeDefined();
    const histogram = /^(\w+)_bucket\{/.exec(rule!.seriesQuery)![1]!;
    const metricsSource = readFileSync(path.join(ROOT, 'cloud/src/metrics/ingest-metrics.ts'), 'utf8');
    expect(metricsSource).toContain(`name: '${histogram}'`);
  });

  it('network policies: default deny both ways, DNS, and every policy selects a workload', () => {
    const policies = of('NetworkPolicy').map((p) => ({
      name: p.metadata.name,
      ...spec<{
        podSelector: { matchLabels?: Labels; matchExpressions?: { key: string; values: string[] }[] };
        policyTypes: string[];
        ingress?: unknown[];
        egress?: unknown[];
      }>(p),
    }));
    const deny = policies.find((p) => p.name === 'default-deny')!;
    expect(deny.podSelector).toEqual({});
    expect(deny.policyTypes.sort()).toEqual(['Egress', 'Ingress']);
    expect(deny.ingress ?? []).toEqual([]);
    expect(deny.egress ?? []).toEqual([]);
    const selects = (p: (typeof policies)[number], d: Manifest) => {
      const labels = podLabels(d);
      return (
        matches(p.podSelector.matchLabels ?? {}, labels) &&
        (p.podSelector.matchExpressions ?? []).every((e) => e.values.includes(labels[e.key]!))
      );
    };
    for (const p of policies)
      expect(
        deployments.some((d) => selects(p, d)),
        p.name,
      ).toBe(true);
    // Each workload is let in somewhere (or nothing could reach it) and out somewhere beyond DNS.
    for (const d of deployments) {
      const mine = policies.filter((p) => p.name !== 'default-deny' && selects(p, d));
      expect(
        mine.some((p) => (p.ingress ?? []).length > 0),
        `${d.metadata.name} ingress`,
      ).toBe(true);
      expect(
        mine.some((p) => p.name !== 'allow-dns' && (p.egress ?? []).length > 0),
        `${d.metadata.name} egress`,
      ).toBe(true);
    }
  });
});
