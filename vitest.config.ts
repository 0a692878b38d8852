import { defineConfig } from 'vitest/config';

const packages = '{shared,edge-agent,cloud,firmware-sim,web}';

export default defineConfig({
  test: {
    // Two files at a time for a plain `vitest run` (vitest's default on 2 cores is 1): most
    // integration files wait on ptys, brokers and timers (sync-faults holds a 3-minute outage).
    // The e2e project stays at one file at a time. scripts/test.sh (CI) instead runs the e2e files
    // in a second vitest process alongside, with this lane at one file at a time.
    maxWorkers: 2,
    env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn', NEXT_TELEMETRY_DISABLED: '1' },
    projects: [
      {
        extends: true,
        // Some unit tests do real work (SQLite files, fuzz loops): on 2 busy cores 5 s is too tight.
        test: {
          name: 'unit',
          // test/*.test.ts: checks over the whole repository (the import graph), no services.
          include: [`${packages}/{src,lib,app}/**/*.test.ts`, 'bench/**/*.test.ts', 'test/*.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        // Real ptys, sockets and services: slower, so longer timeouts. test/integration: the ones
        // that join packages (an edge-agent against the cloud), which belong to neither.
        extends: true,
        test: {
          name: 'integration',
          include: [`${packages}/test/**/*.test.ts`, 'test/integration/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        // Whole-system runs start many processes each: one file at a time on a 2-core machine.
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
