'use client';

/**
 * Service programs: intervals by distance, engine hours and the calendar (whichever first), from a
 * template, applied to a group or to vehicles.
 */
import { type FormEvent, useState } from 'react';
import { DataTable, numeric } from '../../../components/data-table.tsx';
import { ChoiceField, InputField } from '../../../components/form-field.tsx';
import { NotAllowed } from '../../../components/not-allowed.tsx';
import { PageMessages } from '../../../components/page-messages.tsx';
import { formErrorsOf } from '../../../lib/field-errors.ts';
import { formatNumber, MISSING } from '../../../lib/format.ts';
import { trpc } from '../../../lib/trpc.ts';
import { usePermissions } from '../../../lib/use-permissions.ts';
import { useQuery } from '../../../lib/use-query.ts';

export function ProgramsAdmin() {
  const permissions = usePermissions(true);
  const programs = useQuery(null, (signal) => trpc.maintenance.programs.query(undefined, { signal }));
  const groups = useQuery(null, (signal) => trpc.groups.list.query(undefined, { signal }).catch(() => []));
  const [template, setTemplate] = useState('oil');
  const [name, setName] = useState('');
  const [groupId, setGroupId] = useState('');
  const [vehicles, setVehicles] = useState('');
  const [fieldError, setFieldError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  if (permissions && !permissions.has('maintenance:read')) return <NotAllowed what="maintenance" />;
  const canWrite = permissions?.has('maintenance:write') ?? false;
  const templates = programs.data?.templates ?? [];
  const groupNames = new Map((groups.data ?? []).map((g) => [g.id, g.name]));

  const create = async (e: FormEvent) => {
    e.preventDefault();
    const vehicleIds = vehicles
      .split(/[\s,]+/)
      .map((v) => v.trim())
      .filter(Boolean);
    if (!groupId && vehicleIds.length === 0) {
      setFieldError('Choose a group or enter vehicle ids.');
      return;
    }
    try {
      const chosen = templates.find((t) => t.id === template);
      await trpc.maintenance.createProgram.mutate({
        template,
        name: name.trim() || chosen?.name || template,
        targets: { groupIds: groupId ? [Number(groupId)] : [], vehicleIds },
      });
      setMessage(`Program “${name.trim() || chosen?.name}” created.`);
      setFieldError(null);
      setError(null);
      setName('');
      await programs.reload();
    } catch (err) {
      const f = formErrorsOf(err);
      setError(f.form ?? Object.values(f.fields)[0] ?? null);
    }
  };

  const interval = (p: { intervalMonths: number | null; intervalDays: number | null }) =>
    [p.intervalMonths ? `${p.intervalMonths} months` : null, p.intervalDays ? `${p.intervalDays} days` : null]
      .filter(Boolean)
      .join(' or ') || MISSING;

  return (
    <>
      <PageMessages message={message} error={error ?? programs.error} />
      {canWrite && templates.length > 0 ? (
        <form onSubmit={create} noValidate aria-label="New service program">
          <fieldset className="register-form">
            <legend>New service program</legend>
            <ChoiceField
              id="program-template"
              label="Template"
              value={template}
              onChange={setTemplate}
              options={templates.map((t) => [t.id, t.name] as const)}
            />
            <InputField
              id="program-name"
              label="Name"
              value={name}
              onChange={setName}
              maxLength={120}
              hint="Empty: the template's name."
            />
            <ChoiceField
              id="program-group"
              label="Apply to group"
              value={groupId}
              onChange={setGroupId}
              options={[['', 'No group'], ...(groups.data ?? []).map((g) => [String(g.id), g.name] as const)]}
            />
            <InputField
              id="program-vehicles"
              label="Apply to vehicles"
              value={vehicles}
              onChange={setVehicles}
              hint="Vehicle ids, separated by commas."
              error={fieldError}
            />
            <p className="actions">
              <button type="submit">Create program</button>
            </p>
          </fieldset>
        </form>
      ) : null}
      {programs.data === null ? (
        <p>Loading programs…</p>
      ) : (
        <DataTable
          caption="Service programs"
          columns={[
            'Program',
            numeric('Every km'),
            numeric('Every engine hours'),
            'Every (calendar)',
            'Applies to',
          ]}
        >
          {programs.data.programs.map((p) => (
            <tr key={p.id}>
              <td>{p.name}</td>
              <td className="num">{formatNumber(p.intervalKm)}</td>
              <td className="num">{formatNumber(p.intervalHours)}</td>
              <td>{interval(p)}</td>
              <td>
                {[...p.groupIds.map((g) => `Group ${groupNames.get(g) ?? g}`), ...p.vehicleIds].join(', ') ||
                  MISSING}
              </td>
            </tr>
          ))}
        </DataTable>
      )}
    </>
  );
}
