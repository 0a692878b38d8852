import type { Command } from 'commander';
import { BUILTIN_SCENARIOS } from '../scenarios/builtin.ts';
import { scenarioOption } from './options.ts';

/** `firmware-sim scenarios`: the built-ins, one per line; `--show NAME|FILE`: one as JSON. */
export function addScenariosCommand(program: Command): void {
  program
    .command('scenarios')
    .description('List the built-in scenarios, or print one (or a validated file) as JSON')
    .option(
      '--show <name|file>',
      'print this scenario as JSON (a starting point for your own file)',
      scenarioOption,
    )
    .action((opts: { show?: ReturnType<typeof scenarioOption> }) => {
      if (opts.show) {
        process.stdout.write(`${JSON.stringify(opts.show, null, 2)}\n`);
        return;
      }
      const width = Math.max(...BUILTIN_SCENARIOS.map((s) => s.name.length));
      for (const s of BUILTIN_SCENARIOS)
        process.stdout.write(`${s.name.padEnd(width)}  ${s.description ?? ''}\n`);
    });
}
