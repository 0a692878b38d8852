/**
 * The streamed detail export (issue 17 §6, must-show 6) against PostgreSQL's own COPY TO.
 *
 *   1. generate N telemetry rows (default 5,000,000: 1,000 vehicles over a year, daily
 *      partitions, the real migrated schema) in a scratch schema with generate_series;
 *   2. the physical limit: `COPY (<the export's own query>) TO STDOUT (FORMAT csv)` through
 *      pg-copy-streams into a counting sink;
 *   3. the export: cloud/src/reports/exports/detail-export.ts writeDetailCsv (server cursor, FETCH
 *      5,000, RFC 4180 lines, backpressure) into the same kind of sink;
 *   4. the XLSX export (exceljs streaming WorkbookWriter) on a slice of the vehicles (exceljs
 *      zips and writes XML per cell: an order of magnitude slower than CSV; --xlsx-rows).
 *
 * Both run as the tenant (inTenant: fleet_app + RLS), as the API's downloads do. Node's RSS is
 * sampled every 50 ms during each phase (the export must stay under 300 MB whatever N is).
 *
 *   pnpm exec tsx bench/export-stream.ts [--rows 5000000] [--vehicles 1000] [--xlsx-rows 500000] [--keep] [--json]
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { to as copyTo } from 'pg-copy-streams';
import { migrate } from '../cloud/src/db/migrate.ts';
import { openPool } from '../cloud/src/db/pool.ts';
import { inTenant } from '../cloud/src/db/tenant.ts';
import { detailSql, writeDetailCsv, writeDetailXlsx } from '../cloud/src/reports/exports/detail-export.ts';
import { createLogger } from '../shared/src/log.ts';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '5000000' },
    vehicles: { type: 'string', default: '1000' },
    'xlsx-rows': { type: 'string', default: '500000' },
    keep: { type: 'boolean' },
    json: { type: 'boolean' },
  },
});
const ROWS = Number(values.rows);
const VEHICLES = Math.min(Number(values.vehicles), ROWS);
const PER_VEHICLE = Math.ceil(ROWS / VEHICLES);
const XLSX_ROWS = Math.min(Number(values['xlsx-rows']), ROWS);
const URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA = `bench_export_${randomBytes(4).toString('hex')}`;
const FROM = Date.UTC(2025, 0, 1);
const YEAR_MS = 365 * 86_400_000;
const TENANT = 'bench';
const log = createLogger('bench-export').child({}, { level: 'error' });
const say = (s: string) => {
  if (!values.json) console.log(s);
};

/** A sink that counts bytes and drops them (the network or disk is not what is measured). */
function countingSink() {
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      sink.bytes += chunk.length;
      cb();
    },
  }) as Writable & { bytes: number };
  sink.bytes = 0;
  return sink;
}

/** Peak RSS (MB) of this process while `fn` runs, sampled every 50 ms. */
async function measured<T>(fn: () => Promise<T>): Promise<{ result: T; seconds: number; peakRssMb: number }> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);
  const began = performance.now();
  try {
    const result = await fn();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { result, seconds: (performance.now() - began) / 1000, peakRssMb: peak / 2 ** 20 };
  } finally {
    clearInterval(timer);
  }
}

const pool = await openPool({ url: URL, schema: SCHEMA, max: 3 });
try {
  await migrate(pool, log);
  await pool.query(`INSERT INTO tenants (id, name) VALUES ($1, 'Bench Haulage')`, [TENANT]);
  await pool.query(
    `INSERT INTO vehicles (id, tenant_id, plate)
     SELECT 'veh-' || lpad(v::text, 5, '0'), $1, 'BX-' || v FROM generate_series(1, $2) v`,
    [TENANT, VEHICLES],
  );
  await pool.query(
    `SELECT telemetry_ensure_partitions(ARRAY(SELECT generate_series($1::date, $1::date + 365, '1 day')::date))`,
    [new Date(FROM).toISOString().slice(0, 10)],
  );
  // 1. The rows: each vehicle's samples spread evenly over the year, in chunks of vehicles.
  const gen = await measured(async () => {
    const chunk = Math.max(1, Math.floor(VEHICLES / 10));
    for (let v = 1; v <= VEHICLES; v += chunk) {
      await pool.query(
        `SET synchronous_commit = off;
         INSERT INTO telemetry (tenant_id, vehicle_id, seq, ts, lat, lon, speed_kmh, rpm, fuel_level_pct, coolant_c,
                                odometer_km, gps_distance_m)
         SELECT '${TENANT}', 'veh-' || lpad(v::text, 5, '0'), s,
                to_timestamp(${FROM / 1000} + s * ${YEAR_MS / 1000 / PER_VEHICLE}),
                40 + (v % 100) * 0.01 + s * 1e-5, -100 - (v % 50) * 0.01, (s % 120)::real, (800 + s % 2000)::real,
                (s % 100)::real, 90, 10000 + s * 0.5, s * 500.0
           FROM generate_series(${v}, ${Math.min(VEHICLES, v + chunk - 1)}) v, generate_series(1, ${PER_VEHICLE}) s`,
      );
      say(`  generated vehicles ${v}..${Math.min(VEHICLES, v + chunk - 1)}`);
    }
    await pool.query('ANALYZE telemetry');
  });
  const { rows: n } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM telemetry');
  const total = Number(n[0]!.n);
  say(`${total.toLocaleString('en')} rows generated in ${gen.seconds.toFixed(1)} s`);

  const q = { from: FROM, to: FROM + YEAR_MS + 86_400_000 };
  // 2. COPY TO of the export's own query (its parameters inlined: COPY takes none).
  const sql = detailSql(q);
  const inlined = sql.text.replace(
    /\$(\d)/g,
    (_m, i: string) => `'${(sql.values[Number(i) - 1] as Date).toISOString()}'::timestamptz`,
  );
  const copy = await measured(() =>
    inTenant(pool, TENANT, async (c) => {
      await c.query(`SET LOCAL TimeZone = 'UTC'`);
      const sink = countingSink();
      await pipeline(c.query(copyTo(`COPY (${inlined}) TO STDOUT WITH (FORMAT csv)`)), sink);
      return sink.bytes;
    }),
  );
  const copyRate = total / copy.seconds;
  say(
    `COPY TO (physical limit): ${copy.seconds.toFixed(1)} s, ${Math.round(copyRate).toLocaleString('en')} rows/s, ` +
      `${(copy.result / 2 ** 20).toFixed(0)} MiB`,
  );

  // 3. The streamed CSV export.
  let lastProgress = { rowsDone: 0, rowsTotal: null as number | null };
  const csv = await measured(() =>
    inTenant(pool, TENANT, async (c) => {
      const sink = countingSink();
      const done = await writeDetailCsv(c, q, sink, {
        onProgress: (p) => {
          lastProgress = p;
          say(`  csv rows ${p.rowsDone.toLocaleString('en')} / ~${p.rowsTotal?.toLocaleString('en')}`);
        },
        progressEveryMs: 5000,
      });
      return { ...done, bytes: sink.bytes };
    }),
  );
  if (csv.result.rowsDone !== total)
    throw new Error(`CSV export streamed ${csv.result.rowsDone} of ${total} rows`);
  const csvRate = total / csv.seconds;
  say(
    `CSV export: ${csv.seconds.toFixed(1)} s, ${Math.round(csvRate).toLocaleString('en')} rows/s = ` +
      `${(csvRate / copyRate).toFixed(2)} x COPY TO, ${(csv.result.bytes / 2 ** 20).toFixed(0)} MiB, ` +
      `peak RSS ${csv.peakRssMb.toFixed(0)} MB (estimate was ${lastProgress.rowsTotal})`,
  );

  // 4. XLSX on the first vehicles (about --xlsx-rows rows).
  const xlsxVehicles = Array.from(
    { length: Math.max(1, Math.round(XLSX_ROWS / PER_VEHICLE)) },
    (_, i) => `veh-${String(i + 1).padStart(5, '0')}`,
  );
  const xlsx = await measured(() =>
    inTenant(pool, TENANT, async (c) => {
      const sink = countingSink();
      const done = await writeDetailXlsx(c, { ...q, vehicleIds: xlsxVehicles }, sink);
      return { ...done, bytes: sink.bytes };
    }),
  );
  const xlsxRate = xlsx.result.rowsDone / xlsx.seconds;
  say(
    `XLSX export (${xlsxVehicles.length} vehicles, ${xlsx.result.rowsDone.toLocaleString('en')} rows): ` +
      `${xlsx.seconds.toFixed(1)} s, ${Math.round(xlsxRate).toLocaleString('en')} rows/s, ` +
      `${(xlsx.result.bytes / 2 ** 20).toFixed(0)} MiB, peak RSS ${xlsx.peakRssMb.toFixed(0)} MB`,
  );
  const maxRssMb = process.resourceUsage().maxRSS / 1024;
  say(`process peak RSS (whole run): ${maxRssMb.toFixed(0)} MB (target: under 300 MB)`);
  const report = {
    rows: total,
    copyRowsPerS: Math.round(copyRate),
    csvRowsPerS: Math.round(csvRate),
    csvRatioToCopy: Number((csvRate / copyRate).toFixed(3)),
    csvPeakRssMb: Math.round(csv.peakRssMb),
    xlsxRows: xlsx.result.rowsDone,
    xlsxRowsPerS: Math.round(xlsxRate),
    xlsxPeakRssMb: Math.round(xlsx.peakRssMb),
    maxRssMb: Math.round(maxRssMb),
  };
  if (values.json) console.log(JSON.stringify(report));
  if (maxRssMb >= 300) process.exitCode = 1;
} finally {
  if (!values.keep) await pool.query(`DROP SCHEMA ${SCHEMA} CASCADE`).catch(() => {});
  await pool.end();
}
