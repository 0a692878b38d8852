'use client';

/**
 * Drivers as a manager runs them: who drives what now, their groups (which vehicles they may
 * check in to), assigning a vehicle from now on, and the history of every assignment.
 */
import { type FormEvent, useState } from 'react';
import { DataTable } from '../../../components/data-table.tsx';
import { ChoiceField } from '../../../components/form-field.tsx';
import { PageMessages } from '../../../components/page-messages.tsx';
import { Pager } from '../../../components/pager.tsx';
import { useAuthRedirect } from '../../../lib/auth-redirect.ts';
import { MISSING } from '../../../lib/format.ts';
import { trpc } from '../../../lib/trpc.ts';
import { usePagedQuery, useQuery } from '../../../lib/use-query.ts';
import { AssignmentHistory } from './assignment-history.tsx';

type Driver = Awaited<ReturnType<typeof trpc.roster.list.query>>['items'][number];

export function DriversAdmin() {
  const [message, setMessage] = useState('');
  const [error, setError] = useState<string | null>(null);
  const onError = useAuthRedirect(setError);
  const [changes, setChanges] = useState(0);
  const roster = usePagedQuery(changes, (cursor, signal) =>
    trpc.roster.list.query({ limit: 100, ...(cursor ? { cursor } : {}) }, { signal }),
  );
  const drivers = roster.pages?.flatMap((p) => p.items) ?? null;
  const groups = useQuery(null, (signal) => trpc.groups.list.query(undefined, { signal }));
  const vehicles = useQuery(changes, (signal) => trpc.registry.list.query({ limit: 500 }, { signal }));

  const [assignDriver, setAssignDriver] = useState('');
  const [assignVehicle, setAssignVehicle] = useState('');
  const [assignErrors, setAssignErrors] = useState<{ driver?: string; vehicle?: string }>({});
  const [editing, setEditing] = useState<Driver | null>(null);
  const [groupChoice, setGroupChoice] = useState<number[]>([]);

  const done = (text: string) => {
    setMessage(text);
    setError(null);
    setChanges((n) => n + 1);
  };

  const assign = async (e: FormEvent) => {
    e.preventDefault();
    const problems = {
      ...(assignDriver ? {} : { driver: 'Choose a driver.' }),
      ...(assignVehicle ? {} : { vehicle: 'Choose a vehicle.' }),
    };
    setAssignErrors(problems);
    if (Object.keys(problems).length) return;
    try {
      await trpc.assignments.assign.mutate({ vehicleId: assignVehicle, userId: assignDriver });
      const d = drivers?.find((x) => x.userId === assignDriver);
      done(`${d?.name ?? 'The driver'} drives ${assignVehicle} from now on.`);
      setAssignDriver('');
      setAssignVehicle('');
    } catch (err) {
      onError(err);
    }
  };

  const end = async (d: Driver) => {
    if (!d.vehicleId) return;
    try {
      await trpc.assignments.end.mutate({ vehicleId: d.vehicleId });
      done(`${d.name} no longer drives ${d.vehicleId}.`);
    } catch (err) {
      onError(err);
    }
  };

  const saveGroups = async (e: FormEvent) => {
    e.preventDefault();
    if (!editing) return;
    try {
      await trpc.roster.setGroups.mutate({ userId: editing.userId, groupIds: groupChoice });
      done(`Groups of ${editing.name} saved.`);
      setEditing(null);
    } catch (err) {
      onError(err);
    }
  };

  return (
    <>
      <PageMessages message={message} error={error} />

      <section aria-labelledby="assign-heading">
        <h2 id="assign-heading">Assign a driver to a vehicle</h2>
        <form onSubmit={assign} noValidate aria-labelledby="assign-heading">
          <fieldset className="register-form">
            <legend>
              From now on (the vehicle's current driver and the driver's current vehicle end now)
            </legend>
            <ChoiceField
              id="assign-driver"
              label="Driver"
              value={assignDriver}
              onChange={setAssignDriver}
              error={assignErrors.driver ?? null}
              options={[
                ['', 'Choose a driver'],
                ...(drivers ?? []).map((d) => [d.userId, `${d.name} (${d.email})`] as const),
              ]}
            />
            <ChoiceField
              id="assign-vehicle"
              label="Vehicle"
              value={assignVehicle}
              onChange={setAssignVehicle}
              error={assignErrors.vehicle ?? null}
              options={[
                ['', 'Choose a vehicle'],
                ...(vehicles.data?.items ?? []).map(
                  (v) => [v.id, `${v.plate ?? v.id}${v.driverName ? ` — now ${v.driverName}` : ''}`] as const,
                ),
              ]}
            />
            <p className="actions">
              <button type="submit">Assign</button>
            </p>
          </fieldset>
        </form>
      </section>

      {editing ? (
        <section aria-labelledby="groups-heading">
          <h2 id="groups-heading">Groups of {editing.name}</h2>
          <form onSubmit={saveGroups} aria-labelledby="groups-heading">
            <fieldset className="register-form">
              <legend>The driver may check in to the vehicles of these groups</legend>
              {(groups.data ?? []).length === 0 ? (
                <p className="wide">No groups yet: add one on the Groups page.</p>
              ) : null}
              {(groups.data ?? []).map((g) => (
                <label key={g.id} className="facet-value">
                  <input
                    type="checkbox"
                    checked={groupChoice.includes(g.id)}
                    onChange={(e) =>
                      setGroupChoice((c) => (e.target.checked ? [...c, g.id] : c.filter((x) => x !== g.id)))
                    }
                  />
                  {g.name}
                </label>
              ))}
              <p className="actions">
                <button type="submit">Save groups</button>
                <button type="button" className="button--secondary" onClick={() => setEditing(null)}>
                  Cancel
                </button>
              </p>
            </fieldset>
          </form>
        </section>
      ) : null}

      <section aria-labelledby="roster-heading">
        <h2 id="roster-heading">Drivers</h2>
        {roster.error && <p className="error-text">Could not load the drivers: {roster.error}</p>}
        {drivers &&
          (drivers.length === 0 ? (
            <p>No drivers yet: import them from a spreadsheet on the Import page.</p>
          ) : (
            <DataTable
              data-table="drivers"
              caption="Drivers by name, with the vehicle they drive now and their groups"
              columns={['Driver', 'E-mail', 'Vehicle now', 'Groups', 'Actions']}
            >
              {drivers.map((d) => (
                <tr key={d.userId} data-driver-id={d.userId}>
                  <th scope="row">{d.name}</th>
                  <td>{d.email}</td>
                  <td>{d.vehicleId ? (d.plate ? `${d.plate} (${d.vehicleId})` : d.vehicleId) : MISSING}</td>
                  <td>{d.groups.map((g) => g.name).join(', ') || MISSING}</td>
                  <td>
                    <span className="actions">
                      <button
                        type="button"
                        className="button--secondary"
                        onClick={() => {
                          setEditing(d);
                          setGroupChoice(d.groups.map((g) => g.id));
                        }}
                      >
                        Groups<span className="visually-hidden"> of {d.name}</span>
                      </button>
                      {d.vehicleId ? (
                        <button type="button" className="button--secondary" onClick={() => void end(d)}>
                          End assignment<span className="visually-hidden"> of {d.name}</span>
                        </button>
                      ) : null}
                    </span>
                  </td>
                </tr>
              ))}
            </DataTable>
          ))}
        <Pager hasMore={roster.hasMore} onMore={roster.more} what="drivers" />
      </section>

      <section aria-labelledby="assignments-heading">
        <h2 id="assignments-heading">Assignment history</h2>
        <AssignmentHistory reloadKey={changes} />
      </section>
    </>
  );
}
