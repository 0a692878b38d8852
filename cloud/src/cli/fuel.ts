/**
 * `fleet-cloud fuel import|reconcile|forecast`: fuel-card purchases, their reconciliation with
 * the refuels vehicles detected, and the consumption/spend forecast (cloud/src/fuel/).
 *
 *   fuel import FILE --tenant T [--json]     CSV export -> fuel_transactions; exit 1 if rows were bad
 *   fuel reconcile --tenant T [--from ISO] [--to ISO] [--window-min N] [--distance-m N] [--json]
 *   fuel forecast --tenant T [--weeks N] [--history-days N] [--json]
 *
 * Exit status: 0 done, 1 done but some input rows were refused (import), 2 could not run.
 */

import type { Command } from 'commander';
import type pg from 'pg';
import { CloudError, CloudErrorCode } from '../errors.ts';
import { FUEL_CSV_COLUMNS, importFuelCsv } from '../fuel/csv-import.ts';
import { forecastTenant } from '../fuel/forecast.ts';
import { reconcileTenant } from '../fuel/reconcile.ts';
import { type CliIo, withPool } from './io.ts';

interface FuelDbOptions {
  databaseUrl: string;
  schema?: string;
  tenant: string;
  json?: boolean;
}

function bounded(name: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new CloudError(
      CloudErrorCode.ConfigInvalid,
      `${name} must be a number in [${min}...${max}]: ${text}`,
    );
  return n;
}

function time(name: string, text: string | undefined): Date | undefined {
  if (text === undefined) return undefined;
  const t = Date.parse(text);
  if (Number.isNaN(t))
    throw new CloudError(CloudErrorCode.ConfigInvalid, `${name} must be an ISO 8601 time: ${text}`);
  return new Date(t);
}

export function registerFuelCommands(program: Command, io: CliIo): void {
  const opts = (cmd: Command) =>
    ({ ...program.opts(), ...cmd.opts() }) as FuelDbOptions & Record<string, string>;
  const run = (o: FuelDbOptions, fn: (pool: pg.Pool) => Promise<number>) => withPool(io, o, fn);

  const fuel = program
    .command('fuel')
    .description('fuel-card purchases: CSV import, reconciliation with detected refuels, forecast');

  fuel
    .command('import <file>')
    .description(
      `import a fuel-card CSV export (header row; columns ${Object.keys(FUEL_CSV_COLUMNS).join(', ')}; ` +
        'external_id, ts and litres or gallons required; unknown columns kept as raw). Idempotent on external_id.',
    )
    .requiredOption('--tenant <id>', 'tenant the purchases belong to')
    .option('--batch-size <n>', 'rows per transaction [1...10000]', '1000')
    .option('--json', 'one JSON document: {rows, stored, duplicates, bad, errors: [{line, reason}]}')
    .action(async (file: string, _o, cmd: Command) => {
      const o = opts(cmd);
      await run(o, async (pool) => {
        const r = await importFuelCsv(pool, o.tenant, file, {
          batchSize: bounded('--batch-size', o.batchSize, 1, 10_000)!,
          onProgress: (p) =>
            io.err(
              `fuel import: ${p.rows.toLocaleString('en')} rows, ${p.totalBytes ? Math.round((100 * p.bytes) / p.totalBytes) : 100} % of ${(p.totalBytes / 1e6).toFixed(1)} MB`,
            ),
        });
        if (o.json) io.out(JSON.stringify(r));
        else {
          io.out(`${r.rows} rows: ${r.stored} stored, ${r.duplicates} already imported, ${r.bad} refused`);
          for (const e of r.errors) io.out(`  line ${e.line}: ${e.reason}`);
          if (r.bad > r.errors.length) io.out(`  ... and ${r.bad - r.errors.length} more`);
        }
        return r.bad > 0 ? 1 : 0;
      });
    });

  fuel
    .command('reconcile')
    .description(
      'match purchases with the refuels vehicles detected and flag the suspicious ones with reasons ' +
        '(no tank rise, over the free tank volume, volume mismatch, far from the station, refuel without purchase)',
    )
    .requiredOption('--tenant <id>', 'tenant to reconcile')
    .option('--from <iso>', 'purchases from this time (default: all)')
    .option('--to <iso>', 'purchases before this time (default: all)')
    .option('--window-min <n>', 'minutes either side of a refuel [1...240]', '30')
    .option('--distance-m <n>', 'metres between station and refuel [25...5000]', '500')
    .option('--json', 'one JSON document: {matched, flagged, unmatched, refuelsWithoutPurchase, verdicts}')
    .action(async (_o, cmd: Command) => {
      const o = opts(cmd);
      await run(o, async (pool) => {
        const s = await reconcileTenant(
          pool,
          o.tenant,
          { from: time('--from', o.from), to: time('--to', o.to) },
          {
            timeWindowMin: bounded('--window-min', o.windowMin, 1, 240),
            distanceM: bounded('--distance-m', o.distanceM, 25, 5000),
          },
        );
        if (o.json) io.out(JSON.stringify(s));
        else {
          io.out(
            `${s.matched} matched, ${s.flagged} flagged, ${s.unmatched} unmatched (${s.refuelsWithoutPurchase} refuels without a purchase)`,
          );
          for (const v of s.verdicts.filter((x) => x.status !== 'matched')) {
            const what =
              v.transactionId === null
                ? `refuel ${v.event!.vehicleId}#${v.event!.eventId}`
                : `purchase ${v.transactionId}`;
            io.out(`  ${v.status} ${what} ${new Date(v.ts).toISOString()}: ${v.reasons.join('; ')}`);
          }
        }
        return 0;
      });
    });

  fuel
    .command('forecast')
    .description(
      'fuel litres and spend for the next weeks, per vehicle and fleet, next to a seasonal naive ' +
        'baseline; both scored (MAE, MAPE) on the last 28 days held out',
    )
    .requiredOption('--tenant <id>', 'tenant to forecast')
    .option('--weeks <n>', 'weeks ahead [1...52]', '4')
    .option('--history-days <n>', 'days of history to learn from [28...1100]', '400')
    .option('--json', 'one JSON document')
    .action(async (_o, cmd: Command) => {
      const o = opts(cmd);
      await run(o, async (pool) => {
        const f = await forecastTenant(pool, o.tenant, {
          weeks: bounded('--weeks', o.weeks, 1, 52),
          historyDays: bounded('--history-days', o.historyDays, 28, 1100),
        });
        if (o.json) {
          io.out(JSON.stringify(f));
          return 0;
        }
        const price = f.pricePerLitre === null ? 'no priced purchases' : `${f.pricePerLitre} ${f.currency}/L`;
        io.out(`price: ${price} (last 90 days)`);
        for (const x of [f.fleet, ...f.vehicles]) {
          const h = x.holdout;
          const held = h
            ? `held-out ${h.days} d: model MAE ${h.model.mae.toFixed(1)} L/d, naive ${h.naiveWeek.mae.toFixed(1)} L/d -> ${h.better}`
            : 'too little history to score';
          io.out(`${x.scope} (${x.source}, ${x.historyDays} d; ${held})`);
          for (const w of x.weeks)
            io.out(
              `  week of ${w.weekStart}: ${w.litres} L (naive ${w.baselineLitres} L)${w.spend === null ? '' : `, ${w.spend} ${f.currency}`}`,
            );
        }
        return 0;
      });
    });
}
