/**
 * The import graph of the workspace packages, as dpdm reads it with TypeScript's own parser
 * (type-only and dynamic imports included: a type cycle still ties two modules together, and a
 * lazy import() is a cycle postponed, not removed). Three rules a reader can rely on:
 *
 *   - no cycle between files: each module can be read, tested and loaded after what it imports;
 *   - the cloud's API is its outermost layer: nothing under cloud/src outside api/ imports from
 *     api/ (fuel, models, ingest and the CLI run without an HTTP server or a session);
 *   - shared/ is what the others share: it imports nothing from another workspace package.
 *
 * Each failure lists every offending cycle or import, so one run shows all that is left to fix.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

// dpdm's ES module build imports its own files without extensions, which Node refuses: load the
// CommonJS build it names as `main`.
const dpdm = createRequire(import.meta.url)('dpdm') as typeof import('dpdm');

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PACKAGES = ['shared', 'edge-agent', 'cloud', 'firmware-sim', 'web'] as const;

/** File (relative to the repository root) -> what it imports; null for a file outside the rules. */
let tree: Awaited<ReturnType<typeof dpdm.parseDependencyTree>>;
/** File -> the workspace files it imports. */
let imports: Map<string, string[]>;

beforeAll(async () => {
  tree = await dpdm.parseDependencyTree(`{${PACKAGES.join(',')}}/**/*.{ts,tsx}`, {
    cwd: ROOT,
    context: ROOT,
    // Dependencies are not ours to judge; Next's build output is generated.
    exclude: /node_modules|\/\.next/,
    transform: false,
    skipDynamicImports: false,
  });
  imports = new Map();
  for (const [file, deps] of Object.entries(tree)) {
    if (deps === null) continue;
    imports.set(
      file,
      deps.flatMap((d) => (d.id !== null && tree[d.id] != null ? [d.id] : [])),
    );
  }
  // A wrong glob or root would pass every rule below on an empty graph.
  expect(imports.size).toBeGreaterThan(300);
  expect(imports.get('cloud/src/cli/main.ts')).toContain('cloud/src/db/migrate.ts');
}, 120_000);

/** `importer -> imported` for every import from a file matching `from` of one matching `to`. */
function importsBetween(from: (file: string) => boolean, to: (file: string) => boolean): string[] {
  const found: string[] = [];
  for (const [file, deps] of imports)
    if (from(file)) for (const dep of deps) if (to(dep)) found.push(`${file} -> ${dep}`);
  return found.sort();
}

describe('the import graph of shared, edge-agent, cloud, firmware-sim and web', () => {
  it('has no cycle between files', () => {
    const cycles = dpdm.parseCircular(tree).map((c) => [...c, c[0]].join(' -> '));
    expect(cycles, `${cycles.length} import cycle(s):\n  ${cycles.join('\n  ')}\n`).toEqual([]);
  });

  it('keeps cloud/src/api the outermost layer: nothing else in cloud/src imports from it', () => {
    const inApi = (f: string) => f.startsWith('cloud/src/api/');
    // The process entry point wires every layer together, the API server included.
    const below = (f: string) => f.startsWith('cloud/src/') && !inApi(f) && f !== 'cloud/src/main.ts';
    const wrong = importsBetween(below, inApi);
    expect(wrong, `imports of the API layer from below it:\n  ${wrong.join('\n  ')}\n`).toEqual([]);
  });

  it('keeps shared/ free of imports from the packages that use it', () => {
    const others = PACKAGES.filter((p) => p !== 'shared').map((p) => `${p}/`);
    const wrong = importsBetween(
      (f) => f.startsWith('shared/'),
      (dep) => others.some((p) => dep.startsWith(p)),
    );
    expect(wrong, `shared/ imports another workspace package:\n  ${wrong.join('\n  ')}\n`).toEqual([]);
  });
});
