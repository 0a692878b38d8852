import { buildCli } from '../../src/cli/main.ts';
import { POSTGRES_URL } from './services.ts';

/**
 * `fleet-cloud ARGS` in-process against the test's PostgreSQL schema: what it printed and its exit
 * code (commander's exit is overridden, so a usage error throws instead of ending the test run).
 */
export async function runCli(
  schema: string,
  ...args: string[]
): Promise<{ code: number | undefined; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  process.exitCode = undefined;
  await buildCli({ out: (l) => out.push(l), err: (l) => err.push(l) })
    .exitOverride()
    .parseAsync(['node', 'fleet-cloud', '--database-url', POSTGRES_URL, '--schema', schema, ...args]);
  const code = process.exitCode as number | undefined;
  process.exitCode = undefined;
  return { code, out, err };
}
