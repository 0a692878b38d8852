'use client';

import { type FormEvent, useState } from 'react';
import { DataTable } from '../../../components/data-table.tsx';
import { CheckboxGroup, SelectField, TextField } from '../../../components/filter-bar.tsx';
import { PageMessages } from '../../../components/page-messages.tsx';
import { useAuthRedirect } from '../../../lib/auth-redirect.ts';
import { formatCount } from '../../../lib/format.ts';
import { severityBadge } from '../../../lib/labels.ts';
import { trpc } from '../../../lib/trpc.ts';
import { useQuery } from '../../../lib/use-query.ts';

type RuleInput = Parameters<typeof trpc.alertRules.create.mutate>[0];
type Rule = Awaited<ReturnType<typeof trpc.alertRules.list.query>>[number];
type Preview = Awaited<ReturnType<typeof trpc.alertRules.preview.query>>;

const SOURCES: Record<string, string> = {
  fuel_drain: 'Fuel drain or theft',
  refuel: 'Refuel',
  fuel_leak: 'Slow fuel leak',
  low_fuel: 'Low fuel',
  overspeed: 'Overspeed',
  long_idle: 'Idling too long',
  off_hours: 'Use outside working hours',
  harsh: 'Harsh driving (count in a window)',
  dtc: 'New trouble code',
  battery: 'Low battery',
  engine_anomaly: 'Engine anomaly',
  geofence_enter: 'Geofence entry',
  geofence_exit: 'Geofence exit',
  device_offline: 'Device offline',
};
const SEVERITIES = { critical: 'Critical', major: 'Major', minor: 'Minor', warning: 'Warning', info: 'Info' };
const ROLES = [
  { value: 'admin', label: 'Admins' },
  { value: 'fleet_manager', label: 'Fleet managers' },
  { value: 'technician', label: 'Technicians' },
  { value: 'driver', label: 'Drivers' },
] as const;
const CHANNELS = [
  { value: 'email', label: 'E-mail' },
  { value: 'webhook', label: 'Webhook' },
  { value: 'push', label: 'Push' },
  { value: 'sms', label: 'SMS' },
] as const;
type Role = (typeof ROLES)[number]['value'];
type Channel = (typeof CHANNELS)[number]['value'];

/** The condition fields each source asks for (label, key, unit). */
const FIELDS: Record<string, { key: string; label: string }[]> = {
  fuel_drain: [{ key: 'minLitres', label: 'At least (litres)' }],
  refuel: [{ key: 'minLitres', label: 'At least (litres)' }],
  fuel_leak: [{ key: 'minLitres', label: 'At least (litres)' }],
  low_fuel: [{ key: 'belowPct', label: 'Tank below (%)' }],
  overspeed: [
    { key: 'thresholdKmh', label: 'Above (km/h)' },
    { key: 'minDurationS', label: 'For at least (seconds)' },
  ],
  long_idle: [{ key: 'minutes', label: 'Longer than (minutes)' }],
  harsh: [
    { key: 'count', label: 'Events' },
    { key: 'windowMin', label: 'Within (minutes)' },
  ],
  device_offline: [{ key: 'minutes', label: 'Offline for (minutes)' }],
};

interface Draft {
  name: string;
  source: string;
  severity: string;
  values: Record<string, string>;
  hoursFrom: string;
  hoursTo: string;
  roles: Role[];
  emails: string;
  channels: Channel[];
  escalateAfter: string;
}
const EMPTY: Draft = {
  name: '',
  source: 'fuel_drain',
  severity: 'critical',
  values: {},
  hoursFrom: '07:00',
  hoursTo: '18:00',
  roles: ['fleet_manager'],
  emails: '',
  channels: ['email'],
  escalateAfter: '',
};

function toInput(d: Draft): RuleInput {
  const condition: Record<string, unknown> = {};
  for (const f of FIELDS[d.source] ?? []) {
    const v = d.values[f.key]?.trim();
    if (v) condition[f.key] = Number(v);
  }
  if (d.source === 'off_hours') {
    condition.workingHours = {
      timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone,
      periods: [{ days: [1, 2, 3, 4, 5], from: d.hoursFrom, to: d.hoursTo }],
    };
  }
  const emails = d.emails
    .split(/[\s,;]+/)
    .map((e) => e.trim())
    .filter(Boolean);
  return {
    name: d.name,
    source: d.source,
    severity: d.severity as RuleInput['severity'],
    condition: condition as RuleInput['condition'],
    recipients: { roles: d.roles, emails },
    channels: { [d.severity]: ['in_app', ...d.channels] },
    escalation: d.escalateAfter.trim()
      ? [{ afterMinutes: Number(d.escalateAfter), recipients: { roles: ['admin'] } }]
      : [],
  } as RuleInput;
}

/** zod issues from the API's message, by dotted path ("condition.thresholdKmh"). */
function fieldErrors(err: unknown): Record<string, string> | null {
  try {
    const issues = JSON.parse((err as Error).message) as { path: (string | number)[]; message: string }[];
    if (!Array.isArray(issues)) return null;
    return Object.fromEntries(issues.map((i) => [i.path.join('.'), i.message]));
  } catch {
    return null;
  }
}

export function RulesEditor() {
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState('');
  const [preview, setPreview] = useState<Preview | null>(null);
  const [actionError, setError] = useState<string | null>(null);
  const onError = useAuthRedirect(setError);
  const rules = useQuery(null, (signal) => trpc.alertRules.list.query(undefined, { signal }));
  const error = actionError ?? rules.error;
  const edit = (change: Partial<Draft>) => {
    setDraft((d) => ({ ...d, ...change }));
    setPreview(null);
  };
  const fail = (err: unknown) => {
    const fields = fieldErrors(err);
    if (fields) {
      setErrors(fields);
      setError(`The rule was not saved: ${Object.keys(fields).length} field(s) need attention.`);
    } else onError(err);
  };

  const runPreview = async () => {
    try {
      const p = await trpc.alertRules.preview.query({ rule: toInput(draft) });
      setErrors({});
      setError(null);
      setPreview(p);
      setMessage(
        p.unsupported
          ? `Preview not available: ${p.unsupported}.`
          : `Over the last 7 days this rule would have opened ${formatCount(p.alerts, 'alert')} (${formatCount(p.repeats, 'repeat')}).`,
      );
    } catch (err) {
      fail(err);
    }
  };

  const save = async (e: FormEvent) => {
    e.preventDefault();
    try {
      await trpc.alertRules.create.mutate(toInput(draft));
      setMessage(`Saved rule “${draft.name.trim()}”.`);
      setErrors({});
      setError(null);
      setDraft(EMPTY);
      setPreview(null);
      await rules.reload();
    } catch (err) {
      fail(err);
    }
  };

  const remove = async (r: Rule) => {
    try {
      await trpc.alertRules.delete.mutate({ id: r.id });
      setMessage(`Deleted rule “${r.name}”.`);
      await rules.reload();
    } catch (err) {
      onError(err);
    }
  };

  const errorOf = (path: string) =>
    errors[path] ? (
      <p className="error-text" id={`err-${path.replaceAll('.', '-')}`}>
        {errors[path]}
      </p>
    ) : null;
  const described = (path: string) =>
    errors[path] ? { 'aria-invalid': true, 'aria-describedby': `err-${path.replaceAll('.', '-')}` } : {};

  return (
    <>
      <p>
        A rule decides which alerts reach whom. Without a rule of its own for a source, the built-in alert of
        that source shows in the inbox only.
      </p>
      <PageMessages message={message} error={error} />
      <section aria-labelledby="new-rule-heading">
        <h2 id="new-rule-heading">New rule</h2>
        <form onSubmit={save} aria-label="New alert rule" noValidate>
          <TextField
            id="rule-name"
            label="Name"
            value={draft.name}
            onChange={(name) => edit({ name })}
            maxLength={120}
            {...described('name')}
          />
          {errorOf('name')}
          <SelectField
            id="rule-source"
            label="When"
            value={draft.source}
            onChange={(source) => edit({ source, values: {} })}
            anyLabel="Choose what fires the rule"
            options={SOURCES}
          />
          {errorOf('source')}
          {(FIELDS[draft.source] ?? []).map((f) => (
            <div key={f.key}>
              <TextField
                id={`rule-${f.key}`}
                label={f.label}
                inputMode="decimal"
                value={draft.values[f.key] ?? ''}
                onChange={(v) => edit({ values: { ...draft.values, [f.key]: v } })}
                {...described(`condition.${f.key}`)}
              />
              {errorOf(`condition.${f.key}`)}
            </div>
          ))}
          {draft.source === 'off_hours' && (
            <fieldset className="field">
              <legend className="label">Working hours, Monday to Friday (this browser's time zone)</legend>
              <TextField
                id="rule-hours-from"
                label="From (HH:MM)"
                value={draft.hoursFrom}
                onChange={(hoursFrom) => edit({ hoursFrom })}
              />
              <TextField
                id="rule-hours-to"
                label="To (HH:MM)"
                value={draft.hoursTo}
                onChange={(hoursTo) => edit({ hoursTo })}
              />
              {errorOf('condition.workingHours.periods.0.to')}
            </fieldset>
          )}
          <SelectField
            id="rule-severity"
            label="Severity"
            value={draft.severity}
            onChange={(severity) => edit({ severity })}
            anyLabel="Choose a severity"
            options={SEVERITIES}
          />
          {errorOf('severity')}
          <CheckboxGroup
            id="rule-roles"
            legend="Notify these roles"
            options={ROLES}
            value={draft.roles}
            onChange={(roles) => edit({ roles })}
          />
          <TextField
            id="rule-emails"
            label="And these e-mail addresses (comma separated)"
            value={draft.emails}
            onChange={(emails) => edit({ emails })}
            {...described('recipients.emails.0')}
          />
          {errorOf('recipients.emails.0')}
          {errorOf('recipients')}
          <CheckboxGroup
            id="rule-channels"
            legend="Besides the inbox, deliver by"
            options={CHANNELS}
            value={draft.channels}
            onChange={(channels) => edit({ channels })}
          />
          <TextField
            id="rule-escalate"
            label="Escalate to admins after (minutes unacknowledged; empty: never)"
            inputMode="numeric"
            value={draft.escalateAfter}
            onChange={(escalateAfter) => edit({ escalateAfter })}
            {...described('escalation.0.afterMinutes')}
          />
          {errorOf('escalation.0.afterMinutes')}
          <div className="actions">
            <button type="button" className="button--secondary" onClick={() => void runPreview()}>
              Preview the last 7 days
            </button>
            <button type="submit">Save rule</button>
          </div>
        </form>
        {preview && !preview.unsupported && preview.first.length > 0 && (
          <DataTable
            data-table="rule-preview"
            caption="First alerts the rule would have opened"
            columns={['Vehicle', 'When (UTC)', 'Alert']}
          >
            {preview.first.map((f) => (
              <tr key={`${f.vehicleId}-${f.ts}`}>
                <th scope="row">{f.vehicleId}</th>
                <td>{new Date(f.ts).toISOString().slice(0, 16).replace('T', ' ')}</td>
                <td>{f.title}</td>
              </tr>
            ))}
          </DataTable>
        )}
      </section>

      <section aria-labelledby="rules-heading">
        <h2 id="rules-heading">Rules</h2>
        {!rules.data ? null : rules.data.length === 0 ? (
          <p>No rules yet: alerts show in the inbox only.</p>
        ) : (
          <DataTable
            data-table="rules"
            caption="The tenant's alert rules"
            columns={['Name', 'When', 'Severity', 'Notifies', 'Actions']}
          >
            {rules.data.map((r) => (
              <tr key={r.id} data-rule={r.name}>
                <th scope="row">{r.name}</th>
                <td>{SOURCES[r.source] ?? r.source}</td>
                <td>
                  <span className={severityBadge(r.severity).className}>
                    {severityBadge(r.severity).text}
                  </span>
                </td>
                <td>
                  {[
                    ...r.recipients.roles.map((role) => ROLES.find((x) => x.value === role)?.label ?? role),
                    ...r.recipients.emails,
                  ].join(', ') || '—'}
                </td>
                <td>
                  <button type="button" className="button--secondary" onClick={() => void remove(r)}>
                    Delete<span className="visually-hidden"> {r.name}</span>
                  </button>
                </td>
              </tr>
            ))}
          </DataTable>
        )}
      </section>
    </>
  );
}
