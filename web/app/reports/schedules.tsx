'use client';

/**
 * /reports' schedules (issue 17 §6), for people with `reports:schedule`: the schedules that mail a
 * report daily, weekly, monthly or quarterly at a local time of the tenant's zone, a form to add
 * one, run one now, delete one; and the latest runs with their status and the export's progress
 * (rows done of the planner's estimate), read again every second while one is queued or running
 * (every 30 s otherwise, for the runs the calendar starts).
 * A finished run's file can be fetched again through a fresh signed link (made anew as it downloads). An administrator
 * (`tenant:settings`) sets the tenant's zone here; the schedules keep their local time in it.
 */
import { type FormEvent, useRef, useState } from 'react';
import { DataTable } from '../../components/data-table.tsx';
import { fieldErrorBindings } from '../../components/field-errors.tsx';
import { PageMessages } from '../../components/page-messages.tsx';
import { formErrorsOf } from '../../lib/field-errors.ts';
import { trpc } from '../../lib/trpc.ts';
import { useQuery } from '../../lib/use-query.ts';
import {
  FREQUENCY_WORDS,
  type Frequency,
  formatInZone,
  recurrenceInWords,
  type ScheduleForm,
  scheduleInputOf,
  WEEKDAYS,
} from './schedule-words.ts';

type Listed = Awaited<ReturnType<typeof trpc.reportSchedules.list.query>>;
type Schedule = Listed['schedules'][number];
type Run = Awaited<ReturnType<typeof trpc.reportSchedules.runs.query>>[number];

const KIND_WORDS = {
  ifta: 'IFTA quarterly return',
  carbon: 'Carbon (scope 1)',
  detail: 'Detail (raw samples)',
};
const EMPTY: ScheduleForm = {
  name: '',
  kind: 'ifta',
  format: 'xlsx',
  quarter: '',
  vehicles: '',
  frequency: 'weekly',
  time: '07:00',
  weekday: '1',
  dayOfMonth: '1',
  recipients: '',
  delivery: 'attachment',
  linkTtlHours: '168',
};
/** Runs shown, newest first. */
const RUNS_SHOWN = 10;
const ACTIVE = new Set(['queued', 'running']);

export function ReportSchedules({ canSetZone }: { canSetZone: boolean }) {
  const [form, setForm] = useState<ScheduleForm>(EMPTY);
  const [fields, setFields] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [zoneInput, setZoneInput] = useState<string | null>(null);
  const [links, setLinks] = useState<Record<number, { url: string; expiresAt: number }>>({});
  const edit = (change: Partial<ScheduleForm>) => setForm((f) => ({ ...f, ...change }));

  const schedules = useQuery(null, (signal) => trpc.reportSchedules.list.query(undefined, { signal }));
  // Whether the last answer had a run in progress: asked right after each read, before React shows it.
  const active = useRef(false);
  const runs = useQuery(
    null,
    async (signal) => {
      const r = await trpc.reportSchedules.runs.query({ limit: RUNS_SHOWN }, { signal });
      active.current = r.some((run) => ACTIVE.has(run.status));
      return r;
    },
    // Every second while a run is in progress; otherwise a slow look for the calendar's runs.
    { refreshMs: () => (active.current ? 1000 : 30_000) },
  );
  const zone = schedules.data?.timeZone ?? 'UTC';
  const byId = new Map((schedules.data?.schedules ?? []).map((s) => [s.id, s]));

  const act = async (what: () => Promise<string>) => {
    setError(null);
    setMessage(null);
    try {
      setMessage(await what());
    } catch (err) {
      setError(formErrorsOf(err).form ?? 'Not done.');
    }
  };

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setMessage(null);
    const checked = scheduleInputOf(form);
    if (!checked.ok) {
      setFields(checked.errors);
      setError(`Check the ${Object.keys(checked.errors).length === 1 ? 'field' : 'fields'} marked below.`);
      return;
    }
    try {
      const s = await trpc.reportSchedules.create.mutate({ schedule: checked.input });
      setFields({});
      setError(null);
      setForm(EMPTY);
      setMessage(`Schedule “${s.name}” created: next run ${formatInZone(s.nextRunAt, s.timeZone)}.`);
      await schedules.reload();
    } catch (err) {
      const refused = formErrorsOf(err);
      // Nested fields come back flattened under "schedule": one message for the form.
      setFields({});
      setError(refused.form ?? Object.values(refused.fields)[0] ?? 'Not created.');
    }
  };

  const runNow = (s: Schedule) =>
    act(async () => {
      const { runId } = await trpc.reportSchedules.runNow.mutate({ scheduleId: s.id });
      active.current = true;
      await runs.reload();
      return `Run ${runId} of “${s.name}” queued: it is sent within the runner's next pass.`;
    });
  const remove = (s: Schedule) =>
    act(async () => {
      await trpc.reportSchedules.delete.mutate({ scheduleId: s.id });
      await schedules.reload();
      return `Schedule “${s.name}” deleted.`;
    });
  const linkFor = (run: Run) =>
    act(async () => {
      const link = await trpc.reportSchedules.downloadLink.mutate({ runId: run.id });
      setLinks((l) => ({ ...l, [run.id]: link }));
      return `A download link for run ${run.id} is ready below; it works until ${formatInZone(link.expiresAt, zone)}.`;
    });
  const setZone = (e: FormEvent) => {
    e.preventDefault();
    const timeZone = (zoneInput ?? zone).trim();
    return act(async () => {
      const r = await trpc.reportSchedules.setTimeZone.mutate({ timeZone });
      setZoneInput(null);
      await schedules.reload();
      return `Time zone set to ${r.timeZone}; ${r.schedulesMoved} schedule(s) keep their local time there.`;
    });
  };

  const { invalid, fieldError } = fieldErrorBindings(fields, 'schedule-');
  const monthly = form.frequency === 'monthly' || form.frequency === 'quarterly';
  const formats = form.kind === 'detail' ? (['xlsx', 'csv'] as const) : (['xlsx', 'csv', 'pdf'] as const);

  return (
    <section aria-labelledby="schedules-heading" data-section="report-schedules">
      <h2 id="schedules-heading">Report schedules</h2>
      <p>
        Schedules e-mail a report as an attachment, or as a signed link that expires, at a local time of the
        organisation's time zone: <strong data-testid="tenant-zone">{zone}</strong>. Each run covers the
        period before it (the day, the 7 days, the month or the quarter).
      </p>
      <PageMessages message={message} error={error ?? schedules.error ?? runs.error} />
      {canSetZone && (
        <form onSubmit={(e) => void setZone(e)} aria-label="Organisation time zone" className="admin-form">
          <p>
            <label htmlFor="schedule-zone">Time zone (IANA name, e.g. Europe/Berlin)</label>
            <input
              id="schedule-zone"
              autoComplete="off"
              maxLength={64}
              value={zoneInput ?? zone}
              onChange={(e) => setZoneInput(e.target.value)}
            />
          </p>
          <button type="submit" className="button--secondary">
            Set time zone
          </button>
        </form>
      )}

      {schedules.data &&
        (schedules.data.schedules.length === 0 ? (
          <p>No report schedules yet.</p>
        ) : (
          <DataTable
            data-table="report-schedules"
            caption="Report schedules"
            columns={['Name', 'Report', 'When', 'Recipients', 'Delivery', 'Next run', 'Actions']}
          >
            {schedules.data.schedules.map((s) => (
              <tr key={s.id} data-schedule={s.name}>
                <th scope="row">{s.name}</th>
                <td>
                  {KIND_WORDS[s.report.kind]}, {s.report.format.toUpperCase()}
                </td>
                <td>{recurrenceInWords(s.recurrence, s.timeZone)}</td>
                <td>{s.recipients.join(', ')}</td>
                <td>{s.delivery === 'link' ? `Link, valid ${s.linkTtlHours} h` : 'Attachment'}</td>
                <td data-next-run>
                  {s.enabled ? (
                    <time dateTime={s.nextRunAt ? new Date(s.nextRunAt).toISOString() : undefined}>
                      {formatInZone(s.nextRunAt, s.timeZone)}
                    </time>
                  ) : (
                    'Paused'
                  )}
                </td>
                <td>
                  <span className="actions">
                    <button type="button" onClick={() => void runNow(s)}>
                      Run now<span className="visually-hidden"> {s.name}</span>
                    </button>
                    <button type="button" className="button--secondary" onClick={() => void remove(s)}>
                      Delete<span className="visually-hidden"> {s.name}</span>
                    </button>
                  </span>
                </td>
              </tr>
            ))}
          </DataTable>
        ))}

      <h3>Latest runs</h3>
      {runs.data &&
        (runs.data.length === 0 ? (
          <p>No runs yet.</p>
        ) : (
          <DataTable
            data-table="report-runs"
            caption={`The latest ${RUNS_SHOWN} report runs, newest first`}
            columns={['Run', 'Report', 'Period', 'Status', 'Progress', 'File']}
          >
            {runs.data.map((r) => {
              const s = r.scheduleId === null ? undefined : byId.get(r.scheduleId);
              const label = `Run ${r.id} progress`;
              const total = r.rowsTotal ?? 0;
              // Any finished run's file can be had again: the link makes it anew from its report and period.
              const canLink = r.status === 'sent' || r.status === 'ready';
              return (
                <tr key={r.id} data-run={r.id} data-status={r.status}>
                  <th scope="row">
                    {r.id}
                    {s ? ` (${s.name})` : r.trigger === 'api' ? ' (export)' : ''}
                  </th>
                  <td>
                    {r.kind} {r.format.toUpperCase()}
                  </td>
                  <td>
                    {formatInZone(r.periodFrom, zone)} to {formatInZone(r.periodTo, zone)}
                  </td>
                  <td>
                    {r.status}
                    {r.bytes !== null ? ` (${r.bytes.toLocaleString('en-GB')} bytes)` : ''}
                    {r.error ? `: ${r.error}` : ''}
                  </td>
                  <td>
                    {/* Indeterminate while the planner's estimate is unknown. */}
                    <progress
                      aria-label={label}
                      max={Math.max(total, r.rowsDone, 1)}
                      value={
                        r.status === 'queued' || (r.status === 'running' && total === 0)
                          ? undefined
                          : r.rowsDone
                      }
                    />{' '}
                    {r.rowsDone.toLocaleString('en-GB')} of{' '}
                    {r.rowsTotal === null ? '?' : `~${r.rowsTotal.toLocaleString('en-GB')}`} rows
                  </td>
                  <td>
                    {links[r.id] ? (
                      <a href={links[r.id]!.url} data-download-link>
                        Download<span className="visually-hidden"> run {r.id}</span>
                      </a>
                    ) : canLink ? (
                      <button type="button" className="button--secondary" onClick={() => void linkFor(r)}>
                        Download link<span className="visually-hidden"> for run {r.id}</span>
                      </button>
                    ) : (
                      '—'
                    )}
                  </td>
                </tr>
              );
            })}
          </DataTable>
        ))}

      <h3 id="new-schedule-heading">New schedule</h3>
      <form
        className="admin-form"
        onSubmit={(e) => void create(e)}
        noValidate
        aria-labelledby="new-schedule-heading"
      >
        <p>
          <label htmlFor="schedule-name">Name (the e-mail's subject)</label>
          <input
            id="schedule-name"
            autoComplete="off"
            maxLength={120}
            value={form.name}
            onChange={(e) => edit({ name: e.target.value })}
            {...invalid('name')}
          />
          {fieldError('name')}
        </p>
        <p>
          <label htmlFor="schedule-kind">Report</label>
          <select
            id="schedule-kind"
            value={form.kind}
            onChange={(e) => {
              const kind = e.target.value as ScheduleForm['kind'];
              edit({ kind, format: kind === 'detail' && form.format === 'pdf' ? 'csv' : form.format });
            }}
          >
            {Object.entries(KIND_WORDS).map(([k, words]) => (
              <option key={k} value={k}>
                {words}
              </option>
            ))}
          </select>
        </p>
        <p>
          <label htmlFor="schedule-format">Format</label>
          <select
            id="schedule-format"
            value={form.format}
            onChange={(e) => edit({ format: e.target.value as ScheduleForm['format'] })}
            {...invalid('format')}
          >
            {formats.map((f) => (
              <option key={f} value={f}>
                {f.toUpperCase()}
              </option>
            ))}
          </select>
          {fieldError('format')}
        </p>
        {form.kind === 'ifta' && (
          <p>
            <label htmlFor="schedule-quarter">Quarter (empty: the last closed one at each run)</label>
            <input
              id="schedule-quarter"
              autoComplete="off"
              placeholder="2026Q2"
              value={form.quarter}
              onChange={(e) => edit({ quarter: e.target.value })}
              {...invalid('quarter')}
            />
            {fieldError('quarter')}
          </p>
        )}
        {form.kind === 'detail' && (
          <p>
            <label htmlFor="schedule-vehicles">Vehicle ids (empty: every vehicle)</label>
            <input
              id="schedule-vehicles"
              autoComplete="off"
              value={form.vehicles}
              onChange={(e) => edit({ vehicles: e.target.value })}
            />
          </p>
        )}
        <p>
          <label htmlFor="schedule-frequency">How often</label>
          <select
            id="schedule-frequency"
            value={form.frequency}
            onChange={(e) => edit({ frequency: e.target.value as Frequency })}
          >
            {Object.entries(FREQUENCY_WORDS).map(([k, words]) => (
              <option key={k} value={k}>
                {words}
              </option>
            ))}
          </select>
        </p>
        {form.frequency === 'weekly' && (
          <p>
            <label htmlFor="schedule-weekday">Weekday</label>
            <select
              id="schedule-weekday"
              value={form.weekday}
              onChange={(e) => edit({ weekday: e.target.value })}
            >
              {WEEKDAYS.map((d, i) => (
                <option key={d} value={String(i)}>
                  {d}
                </option>
              ))}
            </select>
          </p>
        )}
        {monthly && (
          <p>
            <label htmlFor="schedule-day">
              Day of the month{form.frequency === 'quarterly' ? ' (of the quarter’s first month)' : ''}
            </label>
            <input
              id="schedule-day"
              type="number"
              min={1}
              max={31}
              value={form.dayOfMonth}
              onChange={(e) => edit({ dayOfMonth: e.target.value })}
              {...invalid('dayOfMonth')}
            />
            {fieldError('dayOfMonth')}
          </p>
        )}
        <p>
          <label htmlFor="schedule-time">Local time ({zone})</label>
          <input
            id="schedule-time"
            type="time"
            value={form.time}
            onChange={(e) => edit({ time: e.target.value })}
            {...invalid('time')}
          />
          {fieldError('time')}
        </p>
        <p>
          <label htmlFor="schedule-recipients">Recipients (e-mail addresses, comma-separated)</label>
          <input
            id="schedule-recipients"
            type="text"
            inputMode="email"
            autoComplete="off"
            value={form.recipients}
            onChange={(e) => edit({ recipients: e.target.value })}
            {...invalid('recipients')}
          />
          {fieldError('recipients')}
        </p>
        <p>
          <label htmlFor="schedule-delivery">Delivery</label>
          <select
            id="schedule-delivery"
            value={form.delivery}
            onChange={(e) => edit({ delivery: e.target.value as ScheduleForm['delivery'] })}
          >
            <option value="attachment">The file attached to the e-mail</option>
            <option value="link">A signed download link that expires</option>
          </select>
        </p>
        {form.delivery === 'link' && (
          <p>
            <label htmlFor="schedule-ttl">Link valid for (hours, 1-720)</label>
            <input
              id="schedule-ttl"
              type="number"
              min={1}
              max={720}
              value={form.linkTtlHours}
              onChange={(e) => edit({ linkTtlHours: e.target.value })}
              {...invalid('linkTtlHours')}
            />
            {fieldError('linkTtlHours')}
          </p>
        )}
        <button type="submit">Create schedule</button>
      </form>
    </section>
  );
}
