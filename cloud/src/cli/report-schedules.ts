/**
 * `fleet-cloud reports schedule ...` and `fleet-cloud reports export`: report schedules and
 * streamed exports (cloud/src/reports/schedules/, exports/detail-export.ts).
 *
 *   reports schedule list --tenant T
 *   reports schedule create --tenant T --name N --report detail --format csv --every weekly --weekday mon
 *                           --at 07:00 --to a@x.test,b@x.test [--link [--link-hours 168]] [--params JSON]
 *   reports schedule delete|run-now ID --tenant T
 *   reports schedule runs --tenant T [--schedule ID]
 *   reports schedule timezone ZONE --tenant T          the tenant's IANA zone (schedules keep their local hour)
 *   reports export --tenant T --report detail --from D --to D --out F.csv|F.xlsx|F.pdf [--vehicles a,b]
 *
 * Every command takes --json. Exit status: 0 done, 2 could not run (the reason on stderr).
 * Progress of an export goes to stderr ("rows 1200000 / ~5000000"), the result to stdout.
 */

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type pg from 'pg';
import { appendAudit } from '../db/queries/audit-log.ts';
import { inTenant } from '../db/tenant.ts';
import { CloudError, CloudErrorCode } from '../errors.ts';
import { ReportSpec, specPeriod, writeReport } from '../reports/schedules/report-spec.ts';
import {
  createSchedule,
  deleteSchedule,
  getSchedule,
  listRuns,
  listSchedules,
  manualPeriod,
  queueRun,
  type ReportSchedule,
  setTenantTimeZone,
  tenantTimeZone,
} from '../reports/schedules/schedule-store.ts';
import { type CliIo, withPool } from './io.ts';

interface Options {
  databaseUrl: string;
  schema?: string;
  tenant: string;
  json?: boolean;
  [key: string]: string | boolean | undefined;
}

const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

function bad(message: string): never {
  throw new CloudError(CloudErrorCode.ReportScheduleInvalid, message);
}

function parseJson(name: string, text: string | undefined): unknown {
  if (text === undefined) return {};
  try {
    return JSON.parse(text);
  } catch {
    return bad(`${name} is not JSON: ${text}`);
  }
}

function report(o: Options): ReportSpec {
  const r = ReportSpec.safeParse({
    kind: o.report,
    format: o.format,
    params: o.vehicles
      ? { vehicleIds: String(o.vehicles).split(',').filter(Boolean) }
      : parseJson('--params', o.params as string | undefined),
  });
  if (!r.success)
    bad(`report: ${r.error.issues.map((i) => `${i.path.join('.') || 'report'}: ${i.message}`).join('; ')}`);
  return r.data;
}

function day(name: string, text: unknown): number {
  const t = typeof text === 'string' ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(t)) bad(`${name} must be a date or time (2026-07-01, 2026-07-01T06:00Z): ${String(text)}`);
  return t;
}

const local = (t: number | null, zone: string) =>
  t === null
    ? 'disabled'
    : `${new Intl.DateTimeFormat('sv-SE', { timeZone: zone, dateStyle: 'short', timeStyle: 'short' }).format(t)} ${zone}`;

function describe(s: ReportSchedule): string {
  const r = s.recurrence;
  const when =
    r.frequency === 'weekly'
      ? `weekly ${WEEKDAYS[r.weekday!]}`
      : r.frequency === 'daily'
        ? 'daily'
        : `${r.frequency} day ${r.dayOfMonth}`;
  const hhmm = `${String(r.hour).padStart(2, '0')}:${String(r.minute).padStart(2, '0')}`;
  return `#${s.id} ${s.name}: ${s.report.kind} ${s.report.format}, ${when} ${hhmm}, ${s.delivery} to ${s.recipients.join(' ')}; next ${local(s.nextRunAt, s.timeZone)}`;
}

export function registerReportScheduleCommands(
  reports: Command,
  program: Command,
  io: CliIo,
  operator: string,
) {
  const opts = (cmd: Command) => ({ ...program.opts(), ...cmd.opts() }) as Options;
  const run = (o: Options, fn: (pool: pg.Pool) => Promise<number>) => withPool(io, o, fn);
  const actor = `user:${operator}`;

  const schedule = reports
    .command('schedule')
    .description("reports e-mailed daily, weekly, monthly or quarterly at a local hour of the tenant's zone");

  schedule
    .command('list')
    .description('the schedules with their next run (local time)')
    .requiredOption('--tenant <id>', 'tenant')
    .option('--json', 'one JSON document: {timeZone, schedules}')
    .action(async (_o, cmd: Command) => {
      const o = opts(cmd);
      await run(o, async (pool) => {
        const r = await inTenant(pool, o.tenant, async (c) => ({
          timeZone: await tenantTimeZone(c, o.tenant),
          schedules: await listSchedules(c),
        }));
        if (o.json) io.out(JSON.stringify(r));
        else {
          io.out(`time zone ${r.timeZone}; ${r.schedules.length} schedule(s)`);
          for (const s of r.schedules) io.out(`  ${describe(s)}`);
        }
        return 0;
      });
    });

  schedule
    .command('create')
    .description('a new schedule; its first run is the next matching local time')
    .requiredOption('--tenant <id>', 'tenant')
    .requiredOption('--name <text>', 'what the e-mail subject calls it')
    .requiredOption(
      '--report <kind>',
      'ifta (the last closed quarter), carbon, or detail (raw telemetry rows)',
    )
    .requiredOption('--format <f>', 'xlsx, csv or pdf (detail: xlsx or csv)')
    .requiredOption('--every <frequency>', 'daily, weekly, monthly or quarterly')
    .requiredOption('--at <HH:MM>', "local time in the tenant's zone")
    .option('--weekday <day>', 'weekly: sun, mon, ... sat')
    .option('--day <n>', 'monthly/quarterly: day of the month (29-31: the last day of shorter months)')
    .requiredOption('--to <emails>', 'recipients, comma-separated')
    .option('--link', 'mail a signed download link instead of attaching the file')
    .option('--link-hours <n>', 'how long the link works (1-720, default 168)')
    .option(
      '--params <json>',
      'report parameters: ifta {"quarter":"2026Q3"}, carbon {"dataset":..,"gwp":"AR5"}',
    )
    .option('--vehicles <ids>', 'detail: only these vehicles, comma-separated')
    .option('--json', 'one JSON document: the schedule')
    .action(async (_o, cmd: Command) => {
      const o = opts(cmd);
      await run(o, async (pool) => {
        const at = /^(\d{1,2}):(\d{2})$/.exec(String(o.at));
        if (!at) bad(`--at must be HH:MM: ${o.at}`);
        const weekday =
          o.weekday === undefined ? undefined : WEEKDAYS.indexOf(String(o.weekday).slice(0, 3).toLowerCase());
        if (weekday === -1) bad(`--weekday must be one of ${WEEKDAYS.join(' ')}: ${o.weekday}`);
        const input = {
          name: o.name,
          report: report(o),
          recurrence: {
            frequency: o.every,
            hour: Number(at[1]),
            minute: Number(at[2]),
            ...(weekday === undefined ? {} : { weekday }),
            ...(o.day === undefined ? {} : { dayOfMonth: Number(o.day) }),
          },
          recipients: String(o.to)
            .split(',')
            .map((a) => a.trim())
            .filter(Boolean),
          delivery: o.link ? 'link' : 'attachment',
          ...(o.linkHours === undefined ? {} : { linkTtlHours: Number(o.linkHours) }),
        };
        const s = await inTenant(pool, o.tenant, async (c) => {
          const created = await createSchedule(c, o.tenant, input, actor, Date.now());
          await appendAudit(c, {
            tenantId: o.tenant,
            actor,
            action: 'report_schedule.create',
            entity: `report_schedule:${created.id}`,
            after: input,
          });
          return created;
        });
        io.out(o.json ? JSON.stringify(s) : `created ${describe(s)}`);
        return 0;
      });
    });

  schedule
    .command('delete <id>')
    .description('delete a schedule (its runs stay in the history)')
    .requiredOption('--tenant <id>', 'tenant')
    .option('--json', 'one JSON document: {deleted}')
    .action(async (id: string, _o, cmd: Command) => {
      const o = opts(cmd);
      await run(o, async (pool) => {
        const ok = await inTenant(pool, o.tenant, async (c) => {
          const gone = await deleteSchedule(c, Number(id));
          if (gone)
            await appendAudit(c, {
              tenantId: o.tenant,
              actor,
              action: 'report_schedule.delete',
              entity: `report_schedule:${id}`,
            });
          return gone;
        });
        if (!ok) bad(`no schedule ${id} in tenant ${o.tenant}`);
        io.out(o.json ? JSON.stringify({ deleted: Number(id) }) : `deleted schedule ${id}`);
        return 0;
      });
    });

  schedule
    .command('run-now <id>')
    .description('queue a run now (the period its next run would cover); the cloud sends it within its tick')
    .requiredOption('--tenant <id>', 'tenant')
    .option('--json', 'one JSON document: {runId}')
    .action(async (id: string, _o, cmd: Command) => {
      const o = opts(cmd);
      await run(o, async (pool) => {
        const runId = await inTenant(pool, o.tenant, async (c) => {
          const s = await getSchedule(c, Number(id));
          if (!s) bad(`no schedule ${id} in tenant ${o.tenant}`);
          const now = Date.now();
          return queueRun(c, o.tenant, {
            spec: s.report,
            period: manualPeriod(s, now),
            trigger: 'manual',
            scheduleId: s.id,
            createdBy: actor,
            now,
          });
        });
        io.out(o.json ? JSON.stringify({ runId }) : `run ${runId} queued`);
        return 0;
      });
    });

  schedule
    .command('runs')
    .description('recent runs: status, attempts, rows done of the estimated total, bytes, error')
    .requiredOption('--tenant <id>', 'tenant')
    .option('--schedule <id>', 'of one schedule')
    .option('--limit <n>', 'at most (default 20)', '20')
    .option('--json', 'one JSON document: the runs')
    .action(async (_o, cmd: Command) => {
      const o = opts(cmd);
      await run(o, async (pool) => {
        const runs = await inTenant(pool, o.tenant, (c) =>
          listRuns(c, {
            scheduleId: o.schedule === undefined ? undefined : Number(o.schedule),
            limit: Math.min(200, Math.max(1, Number(o.limit) || 20)),
          }),
        );
        if (o.json) io.out(JSON.stringify(runs));
        else
          for (const r of runs)
            io.out(
              `run ${r.id} ${r.trigger} due ${new Date(r.dueAt).toISOString()} ${r.kind} ${r.format}: ${r.status}` +
                ` (attempt ${r.attempts}, rows ${r.rowsDone}${r.rowsTotal === null ? '' : ` / ~${r.rowsTotal}`}` +
                `${r.bytes === null ? '' : `, ${r.bytes} bytes`})${r.error ? ` ${r.error}` : ''}`,
            );
        return 0;
      });
    });

  schedule
    .command('timezone <zone>')
    .description("set the tenant's time zone (IANA, e.g. America/New_York); schedules keep their local hour")
    .requiredOption('--tenant <id>', 'tenant')
    .option('--json', 'one JSON document: {timeZone, schedulesMoved}')
    .action(async (zone: string, _o, cmd: Command) => {
      const o = opts(cmd);
      await run(o, async (pool) => {
        const moved = await inTenant(pool, o.tenant, async (c) => {
          const n = await setTenantTimeZone(c, o.tenant, zone, Date.now());
          await appendAudit(c, {
            tenantId: o.tenant,
            actor,
            action: 'tenant.time_zone',
            entity: `tenant:${o.tenant}`,
            after: { timeZone: zone },
          });
          return n;
        });
        io.out(
          o.json
            ? JSON.stringify({ timeZone: zone, schedulesMoved: moved })
            : `time zone of ${o.tenant}: ${zone} (${moved} schedule(s) moved)`,
        );
        return 0;
      });
    });

  reports
    .command('export')
    .description(
      'write a report to a file as it is read (detail: raw telemetry rows, streamed with progress)',
    )
    .requiredOption('--tenant <id>', 'tenant')
    .requiredOption('--report <kind>', 'ifta, carbon or detail')
    .requiredOption('--from <date>', 'start (inclusive), e.g. 2026-01-01')
    .requiredOption('--to <date>', 'end (exclusive)')
    .requiredOption('--out <file>', 'F.csv, F.xlsx or F.pdf (the format is the extension)')
    .option('--vehicles <ids>', 'detail: only these vehicles, comma-separated')
    .option('--params <json>', 'report parameters (see `schedule create`)')
    .option('--json', 'one JSON document: {file, rowsDone, rowsTotal}')
    .action(async (_o, cmd: Command) => {
      const o = opts(cmd);
      await run(o, async (pool) => {
        const file = String(o.out);
        const spec = report({ ...o, format: path.extname(file).slice(1).toLowerCase() });
        const period = specPeriod(spec, Date.now(), { from: day('--from', o.from), to: day('--to', o.to) });
        if (period.from >= period.to) bad('--from must be before --to');
        const out = createWriteStream(file);
        const closed = once(out, 'close');
        const done = await inTenant(pool, o.tenant, (c) =>
          writeReport(c, o.tenant, spec, period, out, (p) => {
            if (!o.json) io.err(`rows ${p.rowsDone}${p.rowsTotal === null ? '' : ` / ~${p.rowsTotal}`}`);
          }),
        );
        await closed;
        io.out(o.json ? JSON.stringify({ file, ...done }) : `${done.rowsDone} rows written to ${file}`);
        return 0;
      });
    });
}
