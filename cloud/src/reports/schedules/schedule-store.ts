/**
 * Report schedules and runs in the database, as the tenant (every function takes a client inside
 * inTenant(): RLS scopes it). The runner's cross-tenant claim is in runner.ts.
 */
import type pg from 'pg';
import { z } from 'zod';
import { CloudError, CloudErrorCode } from '../../errors.ts';
import { nextRun, Recurrence, reportPeriod, TimeZone } from './recurrence.ts';
import { type ReportSpec, ReportSpec as ReportSpecSchema, specOf, specPeriod } from './report-spec.ts';

type Db = Pick<pg.ClientBase, 'query'>;

export const DELIVERIES = ['attachment', 'link'] as const;

export const ScheduleInput = z.object({
  name: z.string().trim().min(1).max(120),
  report: ReportSpecSchema,
  recurrence: Recurrence,
  recipients: z.array(z.email().max(320)).min(1).max(20),
  /** The file in the e-mail, or a signed link to it that works for `linkTtlHours`. */
  delivery: z.enum(DELIVERIES),
  linkTtlHours: z.number().int().min(1).max(720).default(168),
  enabled: z.boolean().default(true),
});
export type ScheduleInput = z.input<typeof ScheduleInput>;

export interface ReportSchedule {
  id: number;
  name: string;
  report: ReportSpec;
  recurrence: Recurrence;
  recipients: string[];
  delivery: (typeof DELIVERIES)[number];
  linkTtlHours: number;
  enabled: boolean;
  /** Epoch ms of the next run (null when disabled). */
  nextRunAt: number | null;
  timeZone: string;
}

export interface ReportRun {
  id: number;
  scheduleId: number | null;
  trigger: 'schedule' | 'manual' | 'api';
  dueAt: number;
  kind: string;
  format: string;
  periodFrom: number;
  periodTo: number;
  status: 'queued' | 'running' | 'sent' | 'ready' | 'failed';
  attempts: number;
  rowsDone: number;
  rowsTotal: number | null;
  bytes: number | null;
  error: string | null;
  startedAt: number | null;
  finishedAt: number | null;
}

const ms = (d: Date | null) => (d === null ? null : d.getTime());

export async function tenantTimeZone(c: Db, tenantId: string): Promise<string> {
  const { rows } = await c.query<{ time_zone: string }>('SELECT time_zone FROM tenants WHERE id = $1', [
    tenantId,
  ]);
  return rows[0]?.time_zone ?? 'UTC';
}

interface ScheduleRow {
  id: string;
  name: string;
  kind: string;
  params: unknown;
  format: string;
  recurrence: unknown;
  recipients: string[];
  delivery: 'attachment' | 'link';
  link_ttl_hours: number;
  enabled: boolean;
  next_run_at: Date | null;
  time_zone: string;
}

const SCHEDULE_COLUMNS = `s.id, s.name, s.kind, s.params, s.format, s.recurrence, s.recipients, s.delivery,
  s.link_ttl_hours, s.enabled, s.next_run_at, t.time_zone`;

export function scheduleOf(r: ScheduleRow): ReportSchedule {
  return {
    id: Number(r.id),
    name: r.name,
    report: specOf(r),
    recurrence: Recurrence.parse(r.recurrence),
    recipients: r.recipients,
    delivery: r.delivery,
    linkTtlHours: r.link_ttl_hours,
    enabled: r.enabled,
    nextRunAt: ms(r.next_run_at),
    timeZone: r.time_zone,
  };
}

export async function listSchedules(c: Db): Promise<ReportSchedule[]> {
  const { rows } = await c.query<ScheduleRow>(
    `SELECT ${SCHEDULE_COLUMNS} FROM report_schedules s JOIN tenants t ON t.id = s.tenant_id ORDER BY s.id`,
  );
  return rows.map(scheduleOf);
}

export async function getSchedule(c: Db, id: number): Promise<ReportSchedule | null> {
  const { rows } = await c.query<ScheduleRow>(
    `SELECT ${SCHEDULE_COLUMNS} FROM report_schedules s JOIN tenants t ON t.id = s.tenant_id WHERE s.id = $1`,
    [id],
  );
  return rows[0] ? scheduleOf(rows[0]) : null;
}

function parseInput(input: unknown): z.output<typeof ScheduleInput> {
  const r = ScheduleInput.safeParse(input);
  if (!r.success)
    throw new CloudError(CloudErrorCode.ReportScheduleInvalid, `schedule: ${z.prettifyError(r.error)}`);
  return r.data;
}

export async function createSchedule(
  c: Db,
  tenantId: string,
  input: unknown,
  createdBy: string,
  now: number,
): Promise<ReportSchedule> {
  const s = parseInput(input);
  const zone = await tenantTimeZone(c, tenantId);
  const next = s.enabled ? new Date(nextRun(s.recurrence, zone, now)) : null;
  const { rows } = await c.query<{ id: string }>(
    `INSERT INTO report_schedules (tenant_id, name, kind, params, format, recurrence, recipients, delivery,
                                   link_ttl_hours, enabled, next_run_at, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
    [
      tenantId,
      s.name,
      s.report.kind,
      JSON.stringify(s.report.params),
      s.report.format,
      JSON.stringify(s.recurrence),
      s.recipients,
      s.delivery,
      s.linkTtlHours,
      s.enabled,
      next,
      createdBy,
    ],
  );
  return (await getSchedule(c, Number(rows[0]!.id)))!;
}

/** Replaces the schedule's definition; the next run is computed again from `now`. Null: no such id. */
export async function updateSchedule(
  c: Db,
  tenantId: string,
  id: number,
  input: unknown,
  now: number,
): Promise<ReportSchedule | null> {
  const s = parseInput(input);
  const zone = await tenantTimeZone(c, tenantId);
  const next = s.enabled ? new Date(nextRun(s.recurrence, zone, now)) : null;
  const { rowCount } = await c.query(
    `UPDATE report_schedules SET name = $2, kind = $3, params = $4, format = $5, recurrence = $6, recipients = $7,
            delivery = $8, link_ttl_hours = $9, enabled = $10, next_run_at = $11, updated_at = now()
      WHERE id = $1`,
    [
      id,
      s.name,
      s.report.kind,
      JSON.stringify(s.report.params),
      s.report.format,
      JSON.stringify(s.recurrence),
      s.recipients,
      s.delivery,
      s.linkTtlHours,
      s.enabled,
      next,
    ],
  );
  return rowCount ? getSchedule(c, id) : null;
}

export async function deleteSchedule(c: Db, id: number): Promise<boolean> {
  const { rowCount } = await c.query('DELETE FROM report_schedules WHERE id = $1', [id]);
  return (rowCount ?? 0) > 0;
}

/** Sets the tenant's zone and moves every enabled schedule's next run to its local hour there. */
export async function setTenantTimeZone(c: Db, tenantId: string, zone: string, now: number): Promise<number> {
  const z = TimeZone.safeParse(zone);
  if (!z.success)
    throw new CloudError(
      CloudErrorCode.ReportScheduleInvalid,
      `time zone "${zone}": ${z.error.issues[0]?.message}`,
    );
  await c.query('UPDATE tenants SET time_zone = $2 WHERE id = $1', [tenantId, z.data]);
  const schedules = (await listSchedules(c)).filter((s) => s.enabled);
  for (const s of schedules)
    await c.query('UPDATE report_schedules SET next_run_at = $2 WHERE id = $1', [
      s.id,
      new Date(nextRun(s.recurrence, z.data, now)),
    ]);
  return schedules.length;
}

interface RunRow {
  id: string;
  schedule_id: string | null;
  trigger: ReportRun['trigger'];
  due_at: Date;
  kind: string;
  format: string;
  period_from: Date;
  period_to: Date;
  status: ReportRun['status'];
  attempts: number;
  rows_done: string;
  rows_total: string | null;
  bytes: string | null;
  error: string | null;
  started_at: Date | null;
  finished_at: Date | null;
}

export function runOf(r: RunRow): ReportRun {
  return {
    id: Number(r.id),
    scheduleId: r.schedule_id === null ? null : Number(r.schedule_id),
    trigger: r.trigger,
    dueAt: r.due_at.getTime(),
    kind: r.kind,
    format: r.format,
    periodFrom: r.period_from.getTime(),
    periodTo: r.period_to.getTime(),
    status: r.status,
    attempts: r.attempts,
    rowsDone: Number(r.rows_done),
    rowsTotal: r.rows_total === null ? null : Number(r.rows_total),
    bytes: r.bytes === null ? null : Number(r.bytes),
    error: r.error,
    startedAt: ms(r.started_at),
    finishedAt: ms(r.finished_at),
  };
}

const RUN_COLUMNS = `id, schedule_id, trigger, due_at, kind, format, period_from, period_to, status, attempts,
  rows_done, rows_total, bytes, error, started_at, finished_at`;

export async function listRuns(
  c: Db,
  opts: { scheduleId?: number | undefined; limit: number },
): Promise<ReportRun[]> {
  const { rows } = await c.query<RunRow>(
    `SELECT ${RUN_COLUMNS} FROM report_runs WHERE ($1::bigint IS NULL OR schedule_id = $1)
      ORDER BY id DESC LIMIT $2`,
    [opts.scheduleId ?? null, opts.limit],
  );
  return rows.map(runOf);
}

export async function getRun(c: Db, id: number): Promise<(ReportRun & { spec: ReportSpec }) | null> {
  const { rows } = await c.query<RunRow & { params: unknown }>(
    `SELECT ${RUN_COLUMNS}, params FROM report_runs WHERE id = $1`,
    [id],
  );
  const r = rows[0];
  return r ? { ...runOf(r), spec: specOf(r) } : null;
}

/**
 * A run outside the calendar: `manual` (runNow: the runner sends it to the schedule's
 * recipients at its next tick) or `api` (an export to download through a signed link, ready at
 * once: the file is made while it downloads).
 */
export async function queueRun(
  c: Db,
  tenantId: string,
  run: {
    spec: ReportSpec;
    period: { from: number; to: number };
    trigger: 'manual' | 'api';
    scheduleId?: number;
    createdBy: string;
    now: number;
  },
): Promise<number> {
  const period = specPeriod(run.spec, run.now, run.period);
  const { rows } = await c.query<{ id: string }>(
    `INSERT INTO report_runs (tenant_id, schedule_id, trigger, due_at, kind, params, format, period_from, period_to,
                              status, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
    [
      tenantId,
      run.scheduleId ?? null,
      run.trigger,
      new Date(run.now),
      run.spec.kind,
      JSON.stringify(run.spec.params),
      run.spec.format,
      new Date(period.from),
      new Date(period.to),
      run.trigger === 'api' ? 'ready' : 'queued',
      run.createdBy,
    ],
  );
  return Number(rows[0]!.id);
}

/** runNow: the period the schedule's next regular run would cover if it ran now. */
export function manualPeriod(s: ReportSchedule, now: number): { from: number; to: number } {
  return reportPeriod(s.recurrence.frequency, now, s.timeZone);
}
