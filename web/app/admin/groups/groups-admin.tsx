'use client';

/**
 * Groups of vehicles (depots, vehicle classes): a vehicle belongs to one, a driver may check in to
 * the vehicles of theirs. Create, rename and delete (its vehicles stay, without a group).
 */
import Link from 'next/link';
import { type FormEvent, useState } from 'react';
import { DataTable, numeric } from '../../../components/data-table.tsx';
import { ChoiceField, InputField } from '../../../components/form-field.tsx';
import { PageMessages } from '../../../components/page-messages.tsx';
import { useAuthRedirect } from '../../../lib/auth-redirect.ts';
import { formErrorsOf } from '../../../lib/field-errors.ts';
import { formatNumber } from '../../../lib/format.ts';
import { trpc } from '../../../lib/trpc.ts';
import { usePermissions } from '../../../lib/use-permissions.ts';
import { useQuery } from '../../../lib/use-query.ts';

type Kind = 'depot' | 'class' | 'other';
const KINDS: readonly (readonly [Kind, string])[] = [
  ['depot', 'Depot'],
  ['class', 'Vehicle class'],
  ['other', 'Other'],
];
const kindLabel = (k: string) => KINDS.find(([v]) => v === k)?.[1] ?? k;

export function GroupsAdmin() {
  const groups = useQuery(null, (signal) => trpc.groups.list.query(undefined, { signal }));
  const canManage = usePermissions(true)?.has('groups:manage') ?? false;
  const [name, setName] = useState('');
  const [kind, setKind] = useState<Kind>('depot');
  const [nameError, setNameError] = useState<string | null>(null);
  const [renaming, setRenaming] = useState<{ id: number; name: string } | null>(null);
  const [message, setMessage] = useState('');
  const [error, setError] = useState<string | null>(null);
  const onError = useAuthRedirect(setError);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    if (!name.trim()) {
      setNameError('Enter a name.');
      return;
    }
    try {
      await trpc.groups.create.mutate({ name: name.trim(), kind });
      setMessage(`Group “${name.trim()}” created.`);
      setName('');
      setNameError(null);
      setError(null);
      await groups.reload();
    } catch (err) {
      const f = formErrorsOf(err);
      setNameError(f.fields.name ?? f.form);
    }
  };

  const rename = async (e: FormEvent) => {
    e.preventDefault();
    if (!renaming) return;
    try {
      await trpc.groups.update.mutate({ groupId: renaming.id, name: renaming.name.trim() });
      setMessage(`Group renamed to “${renaming.name.trim()}”.`);
      setRenaming(null);
      await groups.reload();
    } catch (err) {
      onError(err);
    }
  };

  const remove = async (id: number, groupName: string) => {
    try {
      await trpc.groups.delete.mutate({ groupId: id });
      setMessage(`Group “${groupName}” deleted; its vehicles have no group now.`);
      await groups.reload();
    } catch (err) {
      onError(err);
    }
  };

  return (
    <>
      <PageMessages message={message} error={error} />
      {canManage ? (
        <form onSubmit={create} noValidate aria-label="New group">
          <fieldset className="register-form">
            <legend>New group</legend>
            <InputField
              id="group-name"
              label="Name"
              value={name}
              onChange={setName}
              error={nameError}
              maxLength={100}
            />
            <ChoiceField
              id="group-kind"
              label="Kind"
              value={kind}
              onChange={(v) => setKind(v as Kind)}
              options={KINDS}
            />
            <p className="actions">
              <button type="submit">Create group</button>
            </p>
          </fieldset>
        </form>
      ) : null}
      {renaming ? (
        <form onSubmit={rename} aria-label="Rename a group">
          <fieldset className="register-form">
            <legend>Rename a group</legend>
            <InputField
              id="group-rename"
              label="New name"
              value={renaming.name}
              onChange={(v) => setRenaming({ ...renaming, name: v })}
              maxLength={100}
            />
            <p className="actions">
              <button type="submit">Save name</button>
              <button type="button" className="button--secondary" onClick={() => setRenaming(null)}>
                Cancel
              </button>
            </p>
          </fieldset>
        </form>
      ) : null}
      {groups.error && <p className="error-text">Could not load the groups: {groups.error}</p>}
      {groups.data &&
        (groups.data.length === 0 ? (
          <p>No groups yet.</p>
        ) : (
          <DataTable
            data-table="groups"
            caption="Groups by name, with their vehicles in service and the drivers who may check in to them"
            columns={[
              'Group',
              'Kind',
              numeric('Vehicles'),
              numeric('Drivers'),
              ...(canManage ? ['Actions'] : []),
            ]}
          >
            {groups.data.map((g) => (
              <tr key={g.id} data-group-id={g.id}>
                <th scope="row">
                  <Link href={`/admin/vehicles?group=${g.id}`} prefetch={false}>
                    {g.name}
                  </Link>
                </th>
                <td>{kindLabel(g.kind)}</td>
                <td className="num">{formatNumber(g.vehicles)}</td>
                <td className="num">{formatNumber(g.drivers)}</td>
                {canManage ? (
                  <td>
                    <span className="actions">
                      <button
                        type="button"
                        className="button--secondary"
                        onClick={() => setRenaming({ id: g.id, name: g.name })}
                      >
                        Rename<span className="visually-hidden"> {g.name}</span>
                      </button>
                      <button
                        type="button"
                        className="button--secondary"
                        onClick={() => void remove(g.id, g.name)}
                      >
                        Delete<span className="visually-hidden"> {g.name}</span>
                      </button>
                    </span>
                  </td>
                ) : null}
              </tr>
            ))}
          </DataTable>
        ))}
    </>
  );
}
