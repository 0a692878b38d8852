'use client';

import { type FormEvent, useState } from 'react';
import { DataTable } from '../../../components/data-table.tsx';
import { fieldErrorBindings } from '../../../components/field-errors.tsx';
import { NotAllowed } from '../../../components/not-allowed.tsx';
import { UtcTime } from '../../../components/utc-time.tsx';
import { allowedTo, useMe } from '../../../lib/access.ts';
import { formErrorsOf } from '../../../lib/field-errors.ts';
import { trpc } from '../../../lib/trpc.ts';
import { useQuery } from '../../../lib/use-query.ts';

const ROLE_LABELS: Record<string, string> = {
  admin: 'Administrator',
  fleet_manager: 'Fleet manager',
  finance: 'Finance',
  compliance: 'Compliance officer',
  technician: 'Technician',
  driver: 'Driver',
};
const ROLES = Object.keys(ROLE_LABELS);

/** A link to hand over (invitation or password reset), shown to the admin once. */
interface Handover {
  kind: 'invitation' | 'password reset';
  email: string;
  link: string;
}

/** The zod field errors the API sends back, by field name. */
const absolute = (link: string) => (link.startsWith('/') ? `${window.location.origin}${link}` : link);

export function UsersAdmin() {
  const me = useMe();
  const role = me.data?.role;
  const users = useQuery(role === 'admin' ? 'users' : null, (signal) =>
    allowedTo(role, '/admin/users') ? trpc.users.list.query(undefined, { signal }) : Promise.resolve([]),
  );
  const invites = useQuery(role === 'admin' ? 'invites' : null, (signal) =>
    allowedTo(role, '/admin/users') ? trpc.users.invites.query(undefined, { signal }) : Promise.resolve([]),
  );
  // Every vehicle of the tenant (with or without a device): what a driver can be given.
  const vehicles = useQuery(role === 'admin' ? 'vehicles' : null, (signal) =>
    allowedTo(role, '/admin/users')
      ? trpc.devices.list.query(undefined, { signal })
      : Promise.resolve({ manageable: false, devices: [] }),
  );
  const vehicleIds = (vehicles.data?.devices ?? []).map((d) => d.vehicleId);
  const [handover, setHandover] = useState<Handover | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState('');
  const [inviteRole, setInviteRole] = useState('fleet_manager');

  if (me.error) return <p className="error-text">Could not load your account: {me.error}</p>;
  if (!me.data) return <p role="status">Loading…</p>;
  if (!allowedTo(role, '/admin/users')) return <NotAllowed what="the users of your organisation" />;

  const act = async (what: string, fn: () => Promise<unknown>) => {
    setError(null);
    try {
      await fn();
      setStatus(what);
      await Promise.all([users.reload(), invites.reload()]);
    } catch (err) {
      setError(err instanceof Error ? err.message : 'That did not work.');
    }
  };

  async function invite(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const email = String(data.get('email')).trim();
    const vehicleId = String(data.get('vehicleId') ?? '').trim();
    setErrors({});
    setError(null);
    try {
      const r = await trpc.users.invite.mutate({
        email,
        name: String(data.get('name')).trim(),
        role: inviteRole as 'fleet_manager',
        ...(inviteRole === 'driver' && vehicleId ? { vehicleId } : {}),
      });
      setHandover({ kind: 'invitation', email, link: absolute(r.link) });
      setStatus(`Invitation for ${email} created.`);
      form.reset();
      await invites.reload();
    } catch (err) {
      const byField = formErrorsOf(err).fields;
      setErrors(byField);
      if (Object.keys(byField).length === 0)
        setError(err instanceof Error ? err.message : 'Invitation failed.');
    }
  }

  const { invalid: field, fieldError } = fieldErrorBindings(errors, '');

  return (
    <>
      <div role="status" className="visually-hidden">
        {status}
      </div>
      {error ? (
        <p className="error-text" role="alert">
          {error}
        </p>
      ) : null}
      {handover ? (
        <section aria-labelledby="handover-heading" className="notice">
          <h2 id="handover-heading">Link for {handover.email}</h2>
          <p>
            Give this {handover.kind} link to {handover.email} yourself (e-mail delivery comes later). It
            works once and is not shown again.
          </p>
          <p className="secret" data-testid="handover-link">
            {handover.link}
          </p>
          <button type="button" className="button--secondary" onClick={() => setHandover(null)}>
            I have handed it over
          </button>
        </section>
      ) : null}

      <section aria-labelledby="invite-heading">
        <h2 id="invite-heading">Invite someone</h2>
        <form className="admin-form" onSubmit={invite} noValidate>
          <p>
            <label htmlFor="invite-email">E-mail</label>
            <input
              id="invite-email"
              name="email"
              type="email"
              autoComplete="off"
              required
              {...field('email')}
            />
            {fieldError('email')}
          </p>
          <p>
            <label htmlFor="invite-name">Name</label>
            <input id="invite-name" name="name" type="text" autoComplete="off" required {...field('name')} />
            {fieldError('name')}
          </p>
          <p>
            <label htmlFor="invite-role">Role</label>
            <select
              id="invite-role"
              name="role"
              value={inviteRole}
              onChange={(e) => setInviteRole(e.target.value)}
              {...field('role')}
            >
              {ROLES.map((r) => (
                <option key={r} value={r}>
                  {ROLE_LABELS[r]}
                </option>
              ))}
            </select>
            {fieldError('role')}
          </p>
          {inviteRole === 'driver' ? (
            <p>
              <label htmlFor="invite-vehicle">Vehicle the driver drives</label>
              <select id="invite-vehicle" name="vehicleId" required defaultValue="" {...field('vehicleId')}>
                <option value="">Choose a vehicle</option>
                {vehicleIds.map((v) => (
                  <option key={v} value={v}>
                    {v}
                  </option>
                ))}
              </select>
              {fieldError('vehicleId')}
            </p>
          ) : null}
          <button type="submit">Create invitation link</button>
        </form>
      </section>

      <section aria-labelledby="users-heading">
        <h2 id="users-heading">People</h2>
        <DataTable
          caption="Users of your organisation"
          columns={['Name', 'E-mail', 'Role', 'State', 'Actions']}
        >
          {(users.data ?? []).map((u) => (
            <tr key={u.id}>
              <td>{u.name}</td>
              <td>{u.email}</td>
              <td>
                {u.id === me.data?.userId ? (
                  (ROLE_LABELS[u.role] ?? u.role)
                ) : (
                  <RoleForm
                    user={u}
                    vehicleIds={vehicleIds}
                    onChanged={async (what) => {
                      setError(null);
                      setStatus(what);
                      await users.reload();
                    }}
                  />
                )}
              </td>
              <td>
                {u.deactivatedAt ? (
                  <span className="badge badge--danger">✗ Deactivated</span>
                ) : (
                  <span className="badge badge--ok">✓ Active</span>
                )}
              </td>
              <td>
                {u.id === me.data?.userId ? (
                  'You'
                ) : u.deactivatedAt ? (
                  <button
                    type="button"
                    onClick={() =>
                      act(`${u.name} reactivated.`, () => trpc.users.reactivate.mutate({ userId: u.id }))
                    }
                  >
                    Reactivate <span className="visually-hidden">{u.name}</span>
                  </button>
                ) : (
                  <>
                    <button
                      type="button"
                      className="button--secondary"
                      onClick={() =>
                        act(`Password reset link for ${u.name} created.`, async () => {
                          const r = await trpc.users.issuePasswordReset.mutate({ userId: u.id });
                          setHandover({ kind: 'password reset', email: u.email, link: absolute(r.link) });
                        })
                      }
                    >
                      Reset password <span className="visually-hidden">of {u.name}</span>
                    </button>{' '}
                    <button
                      type="button"
                      className="button--secondary"
                      onClick={() =>
                        window.confirm(`Deactivate ${u.name}? They are signed out at once.`) &&
                        act(`${u.name} deactivated.`, () => trpc.users.deactivate.mutate({ userId: u.id }))
                      }
                    >
                      Deactivate <span className="visually-hidden">{u.name}</span>
                    </button>
                  </>
                )}
              </td>
            </tr>
          ))}
        </DataTable>
      </section>

      <section aria-labelledby="invites-heading">
        <h2 id="invites-heading">Invitations not yet accepted</h2>
        <DataTable caption="Invitations" columns={['E-mail', 'Role', 'Created', 'State', 'Actions']}>
          {(invites.data ?? []).map((i) => (
            <tr key={i.id}>
              <td>{i.email}</td>
              <td>{ROLE_LABELS[i.role] ?? i.role}</td>
              <td>
                <UtcTime ms={i.createdAt} />
              </td>
              <td>{i.state === 'open' ? 'Open' : i.state === 'expired' ? 'Expired' : 'Withdrawn'}</td>
              <td>
                {i.state === 'open' ? (
                  <button
                    type="button"
                    className="button--secondary"
                    onClick={() =>
                      act(`Invitation for ${i.email} withdrawn.`, () =>
                        trpc.users.withdrawInvite.mutate({ inviteId: i.id }),
                      )
                    }
                  >
                    Withdraw <span className="visually-hidden">invitation for {i.email}</span>
                  </button>
                ) : null}
              </td>
            </tr>
          ))}
        </DataTable>
      </section>
    </>
  );
}

type UserSummary = Awaited<ReturnType<typeof trpc.users.list.query>>[number];

/**
 * A user's role, changed only when the admin says so (WCAG 3.2.2: choosing in the list changes
 * nothing yet). Choosing Driver asks, in the same form, for the vehicle they drive.
 */
function RoleForm({
  user,
  vehicleIds,
  onChanged,
}: {
  user: UserSummary;
  vehicleIds: string[];
  onChanged: (what: string) => Promise<void>;
}) {
  const [role, setRole] = useState(user.role);
  const [vehicleId, setVehicleId] = useState(user.vehicleId ?? '');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const id = user.id;
  const changed = role !== user.role || (role === 'driver' && vehicleId !== (user.vehicleId ?? ''));

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (role === 'driver' && !vehicleId) {
      setErrors({ vehicleId: 'Choose the vehicle they drive.' });
      return;
    }
    setErrors({});
    setBusy(true);
    try {
      await trpc.users.setRole.mutate({
        userId: id,
        role: role as 'admin',
        ...(role === 'driver' ? { vehicleId } : {}),
      });
      await onChanged(`Role of ${user.name} changed to ${ROLE_LABELS[role] ?? role}.`);
    } catch (err) {
      const byField = formErrorsOf(err).fields;
      setErrors(
        Object.keys(byField).length > 0
          ? byField
          : { role: err instanceof Error ? err.message : 'The role was not changed.' },
      );
    }
    setBusy(false);
  }

  const described = (name: string) => ({
    'aria-invalid': errors[name] ? true : undefined,
    'aria-describedby': errors[name] ? `${name}-error-${id}` : undefined,
  });
  return (
    <form className="role-form" onSubmit={submit} noValidate>
      <label className="visually-hidden" htmlFor={`role-${id}`}>
        Role of {user.name}
      </label>
      <select id={`role-${id}`} value={role} onChange={(e) => setRole(e.target.value)} {...described('role')}>
        {ROLES.map((r) => (
          <option key={r} value={r}>
            {ROLE_LABELS[r]}
          </option>
        ))}
      </select>
      {errors.role ? (
        <span id={`role-error-${id}`} className="field-error">
          {errors.role}
        </span>
      ) : null}
      {role === 'driver' ? (
        <>
          <label htmlFor={`vehicle-${id}`}>Vehicle {user.name} drives</label>
          <select
            id={`vehicle-${id}`}
            value={vehicleId}
            onChange={(e) => setVehicleId(e.target.value)}
            required
            {...described('vehicleId')}
          >
            <option value="">Choose a vehicle</option>
            {vehicleIds.map((v) => (
              <option key={v} value={v}>
                {v}
              </option>
            ))}
          </select>
          {errors.vehicleId ? (
            <span id={`vehicleId-error-${id}`} className="field-error">
              {errors.vehicleId}
            </span>
          ) : null}
        </>
      ) : null}
      <button type="submit" className="button--secondary" disabled={!changed || busy}>
        {busy ? 'Saving…' : 'Change role'} <span className="visually-hidden">of {user.name}</span>
      </button>
    </form>
  );
}
