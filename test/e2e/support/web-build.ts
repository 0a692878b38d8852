/**
 * A production build of the web app of its own, in web/.next-e2e (next.config.ts distDir), for
 * the dashboard e2e test and bench/lighthouse.ts: a `next build` running elsewhere meanwhile then
 * cannot swap the files under their running server. Rebuilt only when a source file is newer than
 * the build (the first run on a checkout takes a minute or two more).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../../scripts/lib/processes.ts';

export const WEB_DIST_DIR = '.next-e2e';

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * Builds when stale, and sets FLEET_WEB_DIST_DIR in this process's environment, so the stack's
 * `next start` (which inherits it) serves this build.
 */
export function ensureWebBuild(options: { force?: boolean; quiet?: boolean } = {}): void {
  process.env.FLEET_WEB_DIST_DIR = WEB_DIST_DIR;
  const web = path.join(REPO_ROOT, 'web');
  const buildId = path.join(web, WEB_DIST_DIR, 'BUILD_ID');
  const sources = Math.max(
    ...['app', 'components', 'lib', 'proxy.ts', 'next.config.ts'].map((p) => {
      const full = path.join(web, p);
      if (!existsSync(full)) return 0;
      return statSync(full).isDirectory() ? newestMtime(full) : statSync(full).mtimeMs;
    }),
  );
  if (!options.force && existsSync(buildId) && statSync(buildId).mtimeMs > sources) return;
  // next build points next-env.d.ts at its distDir: put the committed file back afterwards.
  const nextEnv = path.join(web, 'next-env.d.ts');
  const nextEnvText = readFileSync(nextEnv, 'utf8');
  try {
    execFileSync(path.join(web, 'node_modules', '.bin', 'next'), ['build'], {
      cwd: web,
      stdio: options.quiet ? 'ignore' : 'inherit',
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
    });
  } finally {
    writeFileSync(nextEnv, nextEnvText);
  }
}
