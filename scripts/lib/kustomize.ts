/**
 * Renders a Kustomize overlay of deploy/k8s in-process, for the manifest test on machines without
 * `kubectl kustomize`. Why not kubectl: Debian has no Helm, and its only kubectl
 * (kubernetes-client 1.20) embeds kustomize 2.0, which predates `patches:`; no npm package
 * renders Kustomize. So this covers exactly the subset deploy/k8s uses (resources, namespace,
 * images, patches: strategic merge by path) and refuses anything else, so a new field in a
 * kustomization.yaml fails the test instead of being ignored. deploy/k8s/rendered/ holds what the
 * real kustomize (v5, via scripts/k8s-render.sh) made of the same files, and the test checks that
 * both agree.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [k: string]: unknown };
  [k: string]: unknown;
}

interface Kustomization {
  resources?: string[];
  namespace?: string;
  images?: { name: string; newName?: string; newTag?: string }[];
  patches?: { path: string }[];
}
const SUPPORTED = new Set(['apiVersion', 'kind', 'resources', 'namespace', 'images', 'patches']);

/** Kinds without a namespace (the namespace transformer leaves them alone). */
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'PriorityClass']);

export function readManifests(file: string): Manifest[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => {
      if (d.errors.length) throw new Error(`${file}: ${d.errors[0]!.message}`);
      return d.toJS() as Manifest | null;
    })
    .filter((m): m is Manifest => m !== null);
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Strategic merge as Kubernetes does it for the fields deploy/k8s patches: maps merge, lists of
 * named objects (containers, env, volumes) merge by name, other lists are replaced.
 */
export function strategicMerge(target: unknown, patch: unknown): unknown {
  if (isObject(target) && isObject(patch)) {
    const out: Record<string, unknown> = { ...target };
    for (const [k, v] of Object.entries(patch)) out[k] = k in target ? strategicMerge(target[k], v) : v;
    return out;
  }
  const named = (l: unknown): l is Record<string, unknown>[] =>
    Array.isArray(l) && l.every((i) => isObject(i) && typeof i.name === 'string');
  if (named(target) && named(patch)) {
    const out = target.map((t) => {
      const p = patch.find((i) => i.name === t.name);
      return p ? strategicMerge(t, p) : t;
    });
    // kustomize puts the new entries first.
    return [...patch.filter((p) => !target.some((t) => t.name === p.name)), ...out];
  }
  return patch;
}

/** The containers of a workload's pod template (Deployments are the only workloads here). */
function containers(m: Manifest): Record<string, unknown>[] {
  const spec = m.spec as { template?: { spec?: { containers?: Record<string, unknown>[] } } } | undefined;
  return spec?.template?.spec?.containers ?? [];
}

export function renderKustomization(dir: string): Manifest[] {
  const k = readManifests(path.join(dir, 'kustomization.yaml'))[0] as unknown as Kustomization;
  for (const key of Object.keys(k)) {
    if (!SUPPORTED.has(key)) throw new Error(`${dir}/kustomization.yaml: "${key}" is not supported here`);
  }
  let out: Manifest[] = [];
  for (const r of k.resources ?? []) {
    const p = path.join(dir, r);
    out.push(...(statSync(p).isDirectory() ? renderKustomization(p) : readManifests(p)));
  }
  for (const { path: file } of k.patches ?? []) {
    for (const patch of readManifests(path.join(dir, file))) {
      const i = out.findIndex((m) => m.kind === patch.kind && m.metadata.name === patch.metadata.name);
      if (i < 0) throw new Error(`${dir}/${file}: no ${patch.kind} ${patch.metadata.name} to patch`);
      out[i] = strategicMerge(out[i], patch) as Manifest;
    }
  }
  for (const image of k.images ?? []) {
    for (const c of out.flatMap(containers)) {
      const [name, tag] = String(c.image).split(':') as [string, string?];
      if (name !== image.name) continue;
      c.image = `${image.newName ?? name}:${image.newTag ?? tag ?? 'latest'}`;
    }
  }
  if (k.namespace) {
    out = out.map((m) =>
      CLUSTER_SCOPED.has(m.kind) ? m : { ...m, metadata: { ...m.metadata, namespace: k.namespace } },
    );
  }
  return out;
}
