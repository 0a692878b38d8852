'use client';

/**
 * /reports: pick a report, its period, filters, columns and units; run it; read it as a chart and
 * as tables; download it; save it. The chart, its table alternative, the full table and the
 * download all come from one `reports.run` answer (or, for the file, the same query on the cloud:
 * `reports.export`), so their numbers are the same.
 */
import { type FormEvent, useCallback, useState } from 'react';
import { BarChart, BarChartTable, type BarRow, formatValue } from '../../components/bar-chart.tsx';
import { DataTable, numeric } from '../../components/data-table.tsx';
import { CheckboxGroup, DateRangeFields, TextField } from '../../components/filter-bar.tsx';
import { ChoiceField, InputField } from '../../components/form-field.tsx';
import { NotAllowed } from '../../components/not-allowed.tsx';
import { PageMessages } from '../../components/page-messages.tsx';
import { useAuthRedirect } from '../../lib/auth-redirect.ts';
import { type DateInputs, utcDayInputs, utcDaySpan } from '../../lib/format.ts';
import { trpc } from '../../lib/trpc.ts';
import { usePermissions } from '../../lib/use-permissions.ts';
import { useQuery } from '../../lib/use-query.ts';
import { BudgetsEditor } from './budgets-editor.tsx';
import { DetailExport } from './detail-export.tsx';
import { lastQuarter, PRESETS, type Preset, presetRange } from './period.ts';
import { ReportSchedules } from './schedules.tsx';

type RunInput = Extract<Parameters<typeof trpc.reports.run.query>[0], object>;
type Kind = NonNullable<RunInput['kind']>;
type Scope = NonNullable<RunInput['scope']>;
type Units = NonNullable<RunInput['units']>;
type Table = Awaited<ReturnType<typeof trpc.reports.run.query>>;
type Saved = Awaited<ReturnType<typeof trpc.reports.savedList.query>>[number];

const KINDS: readonly (readonly [Kind, string])[] = [
  ['cost', 'Fuel cost against budget'],
  ['consumption', 'Consumption trend (weekly, against class median)'],
  ['idling', 'Idling: hours, fuel and cost'],
  ['drivers', 'Driver performance'],
  ['carbon', 'Carbon (scope 1)'],
  ['ifta', 'IFTA quarterly return'],
];
const SCOPES: readonly (readonly [Scope, string])[] = [
  ['vehicle', 'Per vehicle'],
  ['group', 'Per group'],
  ['cost_centre', 'Per cost centre'],
  ['fleet', 'Whole fleet'],
];
const UNITS: readonly (readonly [Units, string])[] = [
  ['metric', 'Metric (km, litres, L/100 km)'],
  ['us', 'US (miles, US gallons, mpg)'],
];

interface Form {
  kind: Kind;
  preset: Preset;
  dates: DateInputs;
  quarter: string;
  scope: Scope;
  units: Units;
  vehicles: string;
  drivers: string;
  groups: string;
  columns: string[];
}

const ids = (text: string) =>
  text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);

/** The API input of a form at `now`. */
function inputOf(f: Form, now: number): RunInput {
  const range =
    f.preset === 'custom' ? utcDaySpan(f.dates) : presetRange(f.preset as Exclude<Preset, 'custom'>, now);
  const groupIds = ids(f.groups)
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
  return {
    kind: f.kind,
    ...(range.from !== undefined ? { from: range.from } : {}),
    ...(range.to !== undefined ? { to: range.to } : {}),
    ...(f.kind === 'ifta' && f.quarter.trim() ? { quarter: f.quarter.trim() } : {}),
    ...(f.kind === 'cost' ? { scope: f.scope } : {}),
    units: f.units,
    ...(ids(f.vehicles).length ? { vehicleIds: ids(f.vehicles) } : {}),
    ...(ids(f.drivers).length ? { driverIds: ids(f.drivers) } : {}),
    ...(groupIds.length ? { groupIds } : {}),
    ...(f.columns.length ? { columns: f.columns } : {}),
  };
}

/** The rows the chart draws (and its table alternative lists): the first 40. */
export const CHART_ROWS = 40;
function chartRows(t: Table): BarRow[] {
  if (!t.chart) return [];
  const chart = t.chart;
  return t.rows.slice(0, CHART_ROWS).map((r) => ({
    label: chart.labelKeys.map((k) => String(r[k] ?? '—')).join(' · '),
    values: Object.fromEntries(
      chart.series.map((s) => [s.key, typeof r[s.key] === 'number' ? (r[s.key] as number) : null]),
    ),
  }));
}

function download(file: { filename: string; mime: string; base64: string }) {
  const bytes = Uint8Array.from(atob(file.base64), (c) => c.charCodeAt(0));
  const url = URL.createObjectURL(new Blob([bytes], { type: file.mime }));
  const a = document.createElement('a');
  a.href = url;
  a.download = file.filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function ReportBuilder() {
  const permissions = usePermissions(true);
  if (permissions === null) return <p>Loading…</p>;
  if (!permissions.has('reports:fleet')) return <NotAllowed what="reports" />;
  return (
    <>
      <Builder
        canFile={permissions.has('reports:read')}
        canBudget={permissions.has('reports:budgets')}
        canSchedule={permissions.has('reports:schedule')}
      />
      {permissions.has('reports:schedule') && (
        <ReportSchedules canSetZone={permissions.has('tenant:settings')} />
      )}
    </>
  );
}

function Builder({
  canFile,
  canBudget,
  canSchedule,
}: {
  canFile: boolean;
  canBudget: boolean;
  canSchedule: boolean;
}) {
  const [form, setForm] = useState<Form>(() => ({
    kind: 'cost',
    preset: 'this-month',
    dates: utcDayInputs({ from: Date.now() - 30 * 86_400_000, to: Date.now() }),
    quarter: lastQuarter(Date.now()),
    scope: 'vehicle',
    units: 'metric',
    vehicles: '',
    drivers: '',
    groups: '',
    columns: [],
  }));
  const [table, setTable] = useState<Table | null>(null);
  const [ranWith, setRanWith] = useState<RunInput | null>(null);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [saveName, setSaveName] = useState('');
  const onError = useAuthRedirect(setError);
  const saved = useQuery(null, (signal) => trpc.reports.savedList.query(undefined, { signal }));
  const edit = useCallback((change: Partial<Form>) => setForm((f) => ({ ...f, ...change })), []);
  const kinds = KINDS.filter(([k]) => canFile || (k !== 'ifta' && k !== 'carbon'));

  const run = async (f: Form) => {
    const input = inputOf(f, Date.now());
    setBusy(true);
    try {
      const t = await trpc.reports.run.query(input);
      setTable(t);
      setRanWith(input);
      setError(null);
      setMessage(`${t.title}: ${t.rows.length} row(s).`);
    } catch (err) {
      onError(err);
    } finally {
      setBusy(false);
    }
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(form);
  };
  const exportAs = async (format: 'csv' | 'xlsx' | 'pdf') => {
    if (!ranWith) return;
    try {
      const file = await trpc.reports.export.query({ ...ranWith, format });
      download(file);
      setMessage(`Downloaded ${file.filename}.`);
    } catch (err) {
      onError(err);
    }
  };
  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (!saveName.trim()) {
      setError('Enter a name to save the report under.');
      return;
    }
    const period =
      form.kind === 'ifta'
        ? { quarter: form.quarter.trim() }
        : form.preset === 'custom'
          ? (() => {
              const r = utcDaySpan(form.dates);
              return { from: r.from ?? Date.now() - 30 * 86_400_000, to: r.to ?? Date.now() };
            })()
          : { preset: form.preset as Exclude<Preset, 'custom'> };
    try {
      const input = inputOf(form, Date.now());
      await trpc.reports.savedCreate.mutate({
        name: saveName.trim(),
        kind: form.kind,
        period,
        filters: {
          ...(input.groupIds ? { groupIds: input.groupIds } : {}),
          ...(input.vehicleIds ? { vehicleIds: input.vehicleIds } : {}),
          ...(input.driverIds ? { driverIds: input.driverIds } : {}),
        },
        columns: form.columns,
        units: form.units,
      });
      setMessage(`Saved “${saveName.trim()}”.`);
      setSaveName('');
      setError(null);
      await saved.reload();
    } catch (err) {
      onError(err);
    }
  };
  const open = (s: Saved) => {
    const p = s.period as { preset?: Preset; from?: number; to?: number; quarter?: string };
    const next: Form = {
      ...form,
      kind: s.kind,
      preset: p.preset ?? 'custom',
      dates: p.from !== undefined ? utcDayInputs({ from: p.from, to: p.to }) : form.dates,
      quarter: p.quarter ?? form.quarter,
      units: s.units,
      vehicles: (s.filters.vehicleIds ?? []).join(', '),
      drivers: (s.filters.driverIds ?? []).join(', '),
      groups: (s.filters.groupIds ?? []).join(', '),
      columns: s.columns,
    };
    setForm(next);
    void run(next);
  };
  const remove = async (s: Saved) => {
    try {
      await trpc.reports.savedDelete.mutate({ id: s.id });
      setMessage(`Deleted “${s.name}”.`);
      await saved.reload();
    } catch (err) {
      onError(err);
    }
  };

  const rows = table ? chartRows(table) : [];
  const shownColumns = table?.columns ?? [];
  return (
    <>
      <PageMessages message={message} error={error} />
      <form onSubmit={submit} aria-label="Choose a report">
        <fieldset className="filters">
          <legend>Report</legend>
          <ChoiceField
            id="report-kind"
            label="Report"
            value={form.kind}
            onChange={(v) => {
              edit({ kind: v as Kind, columns: [] });
              setTable(null);
            }}
            options={kinds}
          />
          {form.kind === 'ifta' ? (
            <TextField
              id="report-quarter"
              label="Quarter (e.g. 2026Q2)"
              value={form.quarter}
              onChange={(quarter) => edit({ quarter })}
            />
          ) : (
            <ChoiceField
              id="report-period"
              label="Period"
              value={form.preset}
              onChange={(v) => edit({ preset: v as Preset })}
              options={PRESETS}
            />
          )}
          {form.kind !== 'ifta' && form.preset === 'custom' && (
            <DateRangeFields
              idPrefix="report"
              value={form.dates}
              onChange={(c) => edit({ dates: { ...form.dates, ...c } })}
            />
          )}
          {form.kind === 'cost' && (
            <ChoiceField
              id="report-scope"
              label="Spend"
              value={form.scope}
              onChange={(v) => edit({ scope: v as Scope })}
              options={SCOPES}
            />
          )}
          <ChoiceField
            id="report-units"
            label="Units"
            value={form.units}
            onChange={(v) => edit({ units: v as Units })}
            options={UNITS}
          />
        </fieldset>
        <fieldset className="filters">
          <legend>Filters (empty: all)</legend>
          <TextField
            id="report-groups"
            label="Group ids"
            autoComplete="off"
            value={form.groups}
            onChange={(groups) => edit({ groups })}
          />
          <TextField
            id="report-vehicles"
            label="Vehicle ids"
            autoComplete="off"
            value={form.vehicles}
            onChange={(vehicles) => edit({ vehicles })}
          />
          <TextField
            id="report-drivers"
            label="Driver ids (idling, drivers)"
            autoComplete="off"
            value={form.drivers}
            onChange={(drivers) => edit({ drivers })}
          />
          {table && table.kind === form.kind && (
            <CheckboxGroup
              id="report-columns"
              legend="Columns (none ticked: all)"
              options={(table.allColumns ?? table.columns).map((c) => ({
                value: c.key,
                label: c.label,
              }))}
              value={form.columns}
              onChange={(columns) => edit({ columns })}
            />
          )}
          <button type="submit" disabled={busy}>
            {busy ? 'Running…' : 'Run report'}
          </button>
        </fieldset>
      </form>

      {canFile && (
        <DetailExport
          canWatch={canSchedule}
          span={() => {
            const input = inputOf(form, Date.now());
            return { from: input.from, to: input.to, vehicleIds: input.vehicleIds };
          }}
        />
      )}

      {table && (
        <section aria-labelledby="report-title" data-report={table.kind}>
          <h2 id="report-title">{table.title}</h2>
          <ul className="muted">
            {table.notes.map((n) => (
              <li key={n}>{n}</li>
            ))}
          </ul>
          <p className="actions">
            <button type="button" onClick={() => void exportAs('csv')}>
              Download CSV
            </button>
            <button type="button" onClick={() => void exportAs('xlsx')}>
              Download XLSX
            </button>
            {table.kind === 'ifta' && (
              <button type="button" onClick={() => void exportAs('pdf')}>
                Download PDF
              </button>
            )}
          </p>
          {table.rows.length === 0 ? (
            <p>No data for this report in this period.</p>
          ) : (
            <>
              {table.chart && (
                <>
                  <BarChart
                    id={`chart-${table.kind}`}
                    title={table.chart.title}
                    unit={table.chart.unit}
                    series={table.chart.series}
                    rows={rows}
                  />
                  <BarChartTable
                    id="chart-data"
                    caption={`Chart data: ${table.chart.title}${table.rows.length > CHART_ROWS ? ` (first ${CHART_ROWS} rows)` : ''}`}
                    labelHeader={table.chart.labelKeys
                      .map((k) => table.columns.find((c) => c.key === k)?.label ?? k)
                      .join(' · ')}
                    series={table.chart.series}
                    rows={rows}
                  />
                </>
              )}
              <DataTable
                data-table="report-rows"
                caption={`${table.title}: every row`}
                columns={shownColumns.map((c) => (c.numeric ? numeric(c.label) : c.label))}
              >
                {table.rows.map((r, i) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: rows have no id of their own; the order is the report's.
                  <tr key={i}>
                    {shownColumns.map((c, ci) =>
                      ci === 0 ? (
                        <th scope="row" key={c.key}>
                          {c.numeric ? formatValue(r[c.key] as number | null) : String(r[c.key] ?? '—')}
                        </th>
                      ) : (
                        <td key={c.key} className={c.numeric ? 'num' : undefined}>
                          {c.numeric ? formatValue(r[c.key] as number | null) : String(r[c.key] ?? '—')}
                        </td>
                      ),
                    )}
                  </tr>
                ))}
              </DataTable>
            </>
          )}
        </section>
      )}

      <h2>Saved reports</h2>
      <form onSubmit={save} aria-label="Save this report">
        <fieldset className="filters">
          <legend>Save the report as set above</legend>
          <InputField
            id="report-save-name"
            label="Name"
            value={saveName}
            onChange={setSaveName}
            maxLength={100}
          />
          <button type="submit">Save report</button>
        </fieldset>
      </form>
      {saved.error && <p className="error-text">Could not load saved reports: {saved.error}</p>}
      {saved.data &&
        (saved.data.length === 0 ? (
          <p>No saved reports yet.</p>
        ) : (
          <DataTable
            data-table="saved-reports"
            caption="Saved reports by name"
            columns={['Name', 'Report', 'Actions']}
          >
            {saved.data.map((s) => (
              <tr key={s.id} data-saved-report={s.name}>
                <th scope="row">{s.name}</th>
                <td>{KINDS.find(([k]) => k === s.kind)?.[1] ?? s.kind}</td>
                <td>
                  <span className="actions">
                    <button type="button" onClick={() => open(s)} aria-label={`Open ${s.name}`}>
                      Open
                    </button>
                    <button
                      type="button"
                      className="button--secondary"
                      onClick={() => void remove(s)}
                      aria-label={`Delete ${s.name}`}
                    >
                      Delete
                    </button>
                  </span>
                </td>
              </tr>
            ))}
          </DataTable>
        ))}

      <h2>Fuel budgets</h2>
      <BudgetsEditor canEdit={canBudget} />
    </>
  );
}
