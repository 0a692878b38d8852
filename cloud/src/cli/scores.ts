/**
 * `fleet-cloud drivers rescore`: the daily driver rescore by hand (the cloud process runs it
 * every FLEET_SCORE_SWEEP_MS, drivers/scoring/score-sweep.ts), e.g. after changing the weights or
 * importing a backlog of events.
 *
 *   fleet-cloud drivers rescore [--day YYYY-MM-DD] [--days N] [--tenant T] [--json]
 */
import type { Command } from 'commander';
import { addDays, dayOf, parseDay } from '../drivers/scoring/rescore.ts';
import { rescoreTenants } from '../drivers/scoring/score-sweep.ts';
import { CloudError, CloudErrorCode } from '../errors.ts';
import { type CliIo, withPool } from './io.ts';

interface Options {
  databaseUrl: string;
  schema?: string;
  tenant?: string;
  day?: string;
  days: string;
  json?: boolean;
}

/** Adds `rescore` to the `drivers` command (cli/register.ts), or makes one. */
export function registerScoreCommands(program: Command, io: CliIo): void {
  const drivers =
    program.commands.find((c) => c.name() === 'drivers') ?? program.command('drivers').description('drivers');
  drivers
    .command('rescore')
    .description(
      "recompute the stored driver scores (rolling window, percentile in the peer group) of a day, or of the N days ending with it; replaces that day's rows, so running it again is harmless",
    )
    .option('--day <YYYY-MM-DD>', 'the (UTC) day the window ends with', dayOf(Date.now()))
    .option('--days <n>', 'also the n-1 days before it', '1')
    .option('--tenant <id>', 'only this tenant (default: every tenant with drivers)')
    .option('--json', 'one JSON document: {tenants, days, drivers, scored}')
    .action(async (_o, cmd: Command) => {
      const o = { ...program.opts(), ...cmd.opts() } as Options;
      await withPool(io, o, async (pool) => {
        const last = o.day ?? dayOf(Date.now());
        parseDay(last);
        const n = Number(o.days);
        if (!Number.isInteger(n) || n < 1 || n > 366)
          throw new CloudError(CloudErrorCode.ScoreDayInvalid, `--days must be 1 to 366, not ${o.days}`);
        const days = Array.from({ length: n }, (_, i) => addDays(last, i - n + 1));
        const r = await rescoreTenants(pool, days, o.tenant ? [o.tenant] : undefined);
        io.out(
          o.json
            ? JSON.stringify(r)
            : `rescored ${r.days.length} day(s) ${days[0]}..${last} for ${r.tenants} tenant(s): ${r.drivers} driver-days, ${r.scored} with a score (the others under the minimum distance)`,
        );
        return 0;
      });
    });
}
