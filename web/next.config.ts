import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NextConfig } from 'next';

// The pnpm workspace root: Turbopack must see ../shared (and the hoisted store) to resolve
// @fleet/shared, and output tracing must copy files from there into a standalone build.
const monorepoRoot = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

const nextConfig: NextConfig = {
  turbopack: { root: monorepoRoot },
  outputFileTracingRoot: monorepoRoot,
  // @fleet/shared ships TypeScript sources (no build step), so Next compiles it like app code.
  transpilePackages: ['@fleet/shared'],
  // A second build beside the usual .next (the dashboard e2e test builds its own, so a parallel
  // `next build` elsewhere never swaps the files under its running server).
  distDir: process.env.FLEET_WEB_DIST_DIR || '.next',
  compiler: {
    // The driver PWA's service worker, built into this build's folder from this build's files
    // (web/sw/build.ts; why not a plugin: see there). Every `next build` runs it, whoever calls it.
    runAfterProductionCompile: async ({ distDir }) => {
      execFileSync(process.execPath, ['--import', 'tsx', 'sw/build.ts', '--dist-dir', distDir], {
        cwd: path.join(monorepoRoot, 'web'),
        stdio: 'inherit',
      });
    },
  },
  poweredByHeader: false,
  reactStrictMode: true,
};

export default nextConfig;
