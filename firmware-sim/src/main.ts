import { Command, CommanderError } from 'commander';
import { addFleetCommand } from './cli/fleet-command.ts';
import { addLogCommand } from './cli/log-command.ts';
import { addScenariosCommand } from './cli/scenarios-command.ts';
import { addVehicleCommand } from './cli/vehicle-command.ts';
import { isUsageError } from './errors.ts';

/** Exit code of a bad command line or an endpoint that cannot be opened (sysexits-style usage). */
const EXIT_USAGE = 2;

function buildProgram(): Command {
  const program = new Command()
    .name('firmware-sim')
    .description(
      'Virtual vehicles for the fleet edge agent: an ELM327 v1.5 OBD-II adapter and an NMEA 0183 GPS ' +
        'receiver per vehicle, on serial ptys or TCP, driven by a deterministic vehicle model; ' +
        'scenarios with ground-truth labels; fleets; fast-forward labelled CSV logs.',
    )
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  addVehicleCommand(program);
  addFleetCommand(program);
  addLogCommand(program);
  addScenariosCommand(program);
  // Subcommands inherit the overrides, so their errors reach the catch below too.
  for (const cmd of program.commands) cmd.exitOverride().showHelpAfterError('(add --help for usage)');
  return program;
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Commander already printed the message (or the help); only the exit code is ours.
    process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE);
  }
  if (isUsageError(err)) {
    console.error(`firmware-sim: ${err.message}`);
    process.exit(EXIT_USAGE);
  }
  console.error(
    `firmware-sim: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
  );
  process.exit(1);
}
