/**
 * `fleet-cloud reports ...`: what finance and compliance file (cloud/src/reports/).
 *
 *   reports boundaries import FILE [--source TEXT]     GeoJSON (code per feature) replaces the default set
 *   reports rates import FILE --quarter 2026Q3         the IFTA, Inc. rate matrix (CSV) for a quarter
 *   reports distance --tenant T --from D --to D        telemetry → daily distance, trip records, gaps
 *   reports ifta --tenant T --quarter 2026Q3 [--out F.xlsx|F.csv|F.pdf] [--trips-csv F]
 *   reports carbon --tenant T --from D --to D [--dataset ID] [--gwp AR5|AR4]
 *
 * Every command takes --json (one JSON document on stdout). Exit status: 0 done, 1 done with
 * data-quality findings (ifta), 2 could not run (the reason on stderr).
 */

import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import type pg from 'pg';
import { inTenant } from '../db/tenant.ts';
import { CloudError, CloudErrorCode } from '../errors.ts';
import { loadCarbonReport } from '../reports/carbon/carbon-service.ts';
import { formatCents } from '../reports/decimal.ts';
import { rollupDailyDistance } from '../reports/distance/daily-distance.ts';
import {
  iftaPdf,
  iftaReturnCsv,
  writeIftaXlsx,
  writeTripRecordsCsv,
} from '../reports/exports/ifta-exports.ts';
import { loadIftaReturn, tripRecordRows } from '../reports/ifta/ifta-report.ts';
import { parseRateMatrix } from '../reports/ifta/rate-matrix.ts';
import { IFTA_JURISDICTIONS } from '../reports/jurisdictions/default-map.ts';
import { formatQuarter, parseQuarter, quarterRange } from '../reports/quarter.ts';
import { loadJurisdictionMap, storeBoundaries, storeTaxRates } from '../reports/store/reference-store.ts';
import { type CliIo, withPool } from './io.ts';
import { registerReportScheduleCommands } from './report-schedules.ts';

interface ReportOptions {
  databaseUrl: string;
  schema?: string;
  tenant: string;
  json?: boolean;
  [key: string]: string | boolean | undefined;
}

function day(name: string, text: string | undefined): number {
  const t = text === undefined ? Number.NaN : Date.parse(text);
  if (Number.isNaN(t))
    throw new CloudError(CloudErrorCode.ConfigInvalid, `${name} must be a date (2026-07-01): ${text}`);
  return t;
}

export function registerReportsCommands(program: Command, io: CliIo, operator: string): void {
  const opts = (cmd: Command) => ({ ...program.opts(), ...cmd.opts() }) as ReportOptions;
  const run = (o: ReportOptions, fn: (pool: pg.Pool) => Promise<number>) => withPool(io, o, fn);

  const reports = program
    .command('reports')
    .description('IFTA quarterly return, carbon report, and the data they are made from');
  // Schedules and streamed exports: cli/report-schedules.ts.
  registerReportScheduleCommands(reports, program, io, operator);

  const boundaries = reports
    .command('boundaries')
    .description('IFTA jurisdiction boundaries (data, not code)');
  boundaries
    .command('import <file>')
    .description(
      'replace the default boundaries (us-atlas 1:10M + Natural Earth provinces) with a GeoJSON FeatureCollection ' +
        'of Polygon/MultiPolygon features, properties.code (or STUSPS) = the jurisdiction (CO, ON, ...); ' +
        'e.g. Census 1:500k states and Statistics Canada provinces',
    )
    .option('--source <text>', 'what the file is, named in every return (default: the file name)')
    .option('--json', 'one JSON document: {jurisdictions, source}')
    .action(async (file: string, _o, cmd: Command) => {
      const o = opts(cmd);
      await run(o, async (pool) => {
        const source = (o.source as string | undefined) ?? path.basename(file);
        let doc: unknown;
        try {
          doc = JSON.parse(await readFile(file, 'utf8'));
        } catch (err) {
          throw new CloudError(
            CloudErrorCode.ReportInputInvalid,
            `${file}: not JSON: ${(err as Error).message}`,
          );
        }
        const map = await storeBoundaries(pool, doc, source, `user:${operator}`);
        const codes = map.jurisdictions.map((j) => j.code);
        const missing = IFTA_JURISDICTIONS.filter((j) => !codes.includes(j.code)).map((j) => j.code);
        if (o.json) io.out(JSON.stringify({ jurisdictions: codes, missing, source }));
        else
          io.out(
            `${codes.length} jurisdictions imported from ${source}${missing.length ? `; not in the file: ${missing.join(' ')}` : ''}`,
          );
        return 0;
      });
    });

  const rates = reports.command('rates').description('IFTA tax rates per quarter');
  rates
    .command('import <file>')
    .description(
      "import the quarter's IFTA, Inc. tax rate matrix (CSV, U.S. $/gallon rows); replaces that quarter's rates",
    )
    .requiredOption('--quarter <q>', 'the quarter the matrix is for, e.g. 2026Q3')
    .option('--json', 'one JSON document: {quarter, rates}')
    .action(async (file: string, _o, cmd: Command) => {
      const o = opts(cmd);
      await run(o, async (pool) => {
        const quarter = parseQuarter(String(o.quarter));
        const parsed = parseRateMatrix(await readFile(file, 'utf8'), quarter, IFTA_JURISDICTIONS);
        const c = await pool.connect();
        try {
          await storeTaxRates(c, formatQuarter(quarter), parsed, path.basename(file));
        } finally {
          c.release();
        }
        if (o.json) io.out(JSON.stringify({ quarter: formatQuarter(quarter), rates: parsed.length }));
        else
          io.out(`${parsed.length} rates for ${formatQuarter(quarter)} imported from ${path.basename(file)}`);
        return 0;
      });
    });

  reports
    .command('distance')
    .description(
      'compute the daily distance (odometer and filtered GPS, split by jurisdiction), the trip detail records and ' +
        'the gaps from telemetry; days without telemetry keep what was stored',
    )
    .requiredOption('--tenant <id>', 'tenant')
    .requiredOption('--from <date>', 'first UTC day')
    .requiredOption('--to <date>', 'day after the last')
    .option('--json', 'one JSON document: {vehicles, days, records, gaps}')
    .action(async (_o, cmd: Command) => {
      const o = opts(cmd);
      await run(o, async (pool) => {
        const range = { from: day('--from', o.from as string), to: day('--to', o.to as string) };
        const s = await inTenant(pool, o.tenant, async (c) =>
          rollupDailyDistance(c, o.tenant, range, await loadJurisdictionMap(c)),
        );
        io.out(
          o.json
            ? JSON.stringify(s)
            : `${s.vehicles} vehicles, ${s.days} vehicle-days, ${s.records} trip records, ${s.gaps} gaps`,
        );
        return 0;
      });
    });

  reports
    .command('ifta')
    .description('the IFTA quarterly return per jurisdiction and fuel type, with its data-quality findings')
    .requiredOption('--tenant <id>', 'tenant')
    .requiredOption('--quarter <q>', 'e.g. 2026Q3')
    .option('--rollup', 'run `reports distance` over the quarter first')
    .option('--out <file>', 'write the return: .xlsx (return, trip records, data quality), .csv or .pdf')
    .option('--trips-csv <file>', 'write the trip detail records as CSV')
    .option('--json', 'one JSON document: the return')
    .action(async (_o, cmd: Command) => {
      const o = opts(cmd);
      await run(o, async (pool) => {
        const quarter = parseQuarter(String(o.quarter));
        if (o.rollup)
          await inTenant(pool, o.tenant, async (c) =>
            rollupDailyDistance(c, o.tenant, quarterRange(quarter), await loadJurisdictionMap(c)),
          );
        const ret = await inTenant(pool, o.tenant, (c) => loadIftaReturn(c, o.tenant, quarter));
        const out = o.out as string | undefined;
        if (out) {
          const ext = path.extname(out).toLowerCase();
          if (ext === '.xlsx')
            await inTenant(pool, o.tenant, (c) =>
              writeIftaXlsx(ret, tripRecordRows(c, o.tenant, quarter), out),
            );
          else if (ext === '.csv') await writeFile(out, iftaReturnCsv(ret));
          else if (ext === '.pdf') await writeFile(out, await iftaPdf(ret, o.tenant));
          else
            throw new CloudError(
              CloudErrorCode.ConfigInvalid,
              `--out must end in .xlsx, .csv or .pdf: ${out}`,
            );
        }
        const tripsCsv = o.tripsCsv as string | undefined;
        if (tripsCsv)
          await inTenant(pool, o.tenant, (c) =>
            writeTripRecordsCsv(tripRecordRows(c, o.tenant, quarter), tripsCsv),
          );
        const dq = ret.dataQuality;
        const findings =
          dq.gaps.length +
          dq.vehiclesWithoutOdometer.length +
          dq.purchasesWithoutJurisdiction.length +
          dq.missingRates.length +
          dq.odometerGpsMismatch.length;
        if (o.json) io.out(JSON.stringify(ret));
        else {
          io.out(`IFTA return ${ret.quarter} (boundaries: ${ret.boundariesSource})`);
          for (const f of ret.fuels)
            io.out(`  ${f.fuelType}: ${f.totalMiles} mi, ${f.totalGallons} gal, fleet MPG ${f.mpg ?? 'n/a'}`);
          for (const l of ret.lines)
            io.out(
              `  ${l.jurisdiction} ${l.fuelType}: ${l.totalMiles} mi, taxable ${l.taxableGallons ?? 'n/a'} gal, paid ${l.taxPaidGallons} gal, ` +
                `net ${l.netTaxableGallons ?? 'n/a'} × ${l.rate ?? 'no rate'} = ${l.dueCents === null ? 'n/a' : formatCents(l.dueCents)} US$`,
            );
          io.out(`  total due: ${formatCents(ret.totalDueCents)} US$`);
          io.out(
            `  data quality: ${dq.gaps.length} gaps, ${dq.vehiclesWithoutOdometer.length} vehicles without odometer, ` +
              `${dq.purchasesWithoutJurisdiction.length} purchases without jurisdiction, ${dq.missingRates.length} missing rates, ` +
              `${dq.odometerGpsMismatch.length} days where odometer and GPS disagree`,
          );
          if (out) io.out(`  written: ${out}`);
        }
        return findings > 0 ? 1 : 0;
      });
    });

  reports
    .command('carbon')
    .description(
      'scope 1 mobile combustion: CO2 from fuel, CH4/N2O from distance, CO2e per vehicle, group and month',
    )
    .requiredOption('--tenant <id>', 'tenant')
    .requiredOption('--from <date>', 'first day')
    .requiredOption('--to <date>', 'day after the last')
    .option('--dataset <id>', 'emission factor dataset (default epa-ghg-hub-2025)')
    .option('--gwp <set>', "GWP set of the dataset (default: the dataset's)")
    .option('--json', 'one JSON document: the report')
    .action(async (_o, cmd: Command) => {
      const o = opts(cmd);
      await run(o, async (pool) => {
        const range = { from: day('--from', o.from as string), to: day('--to', o.to as string) };
        const r = await inTenant(pool, o.tenant, (c) =>
          loadCarbonReport(c, o.tenant, range, {
            dataset: o.dataset as string | undefined,
            gwp: o.gwp as string | undefined,
          }),
        );
        if (o.json) io.out(JSON.stringify(r));
        else {
          io.out(
            `carbon ${o.from} .. ${o.to}: dataset ${r.dataset.name} (${r.dataset.id}), GWP ${r.dataset.gwp}`,
          );
          for (const v of r.byVehicle)
            io.out(`  ${v.vehicleId}: ${v.litres} L, ${v.miles} mi, CO2e ${(v.co2eG / 1000).toFixed(3)} kg`);
          io.out(
            `  total CO2e ${(r.total.co2eG / 1000).toFixed(3)} kg (CO2 ${r.total.co2G} g, CH4 ${r.total.ch4Mg} mg, N2O ${r.total.n2oMg} mg)`,
          );
          for (const x of r.rows.filter((x) => x.missing))
            io.out(`  ${x.vehicleId} ${x.month}: ${x.missing}`);
        }
        return 0;
      });
    });
}
