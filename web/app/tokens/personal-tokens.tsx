'use client';

import { type FormEvent, useState } from 'react';
import { DataTable } from '../../components/data-table.tsx';
import { fieldErrorBindings } from '../../components/field-errors.tsx';
import { NotAllowed } from '../../components/not-allowed.tsx';
import { UtcTime } from '../../components/utc-time.tsx';
import { allowedTo, useMe } from '../../lib/access.ts';
import { formErrorsOf } from '../../lib/field-errors.ts';
import { trpc } from '../../lib/trpc.ts';
import { useQuery } from '../../lib/use-query.ts';

type Permission = Parameters<typeof trpc.tokens.createMine.mutate>[0]['permissions'][number];

/**
 * What a personal token may be given, by the roles that have it (cloud/src/auth/permissions.ts;
 * display only: createMine refuses anything beyond the owner's role, and a role that shrinks later
 * narrows the token at each use). Read access for scripts and spreadsheets.
 */
const SCOPES: { permission: Permission; label: string; roles: readonly string[] }[] = [
  {
    permission: 'vehicles:read',
    label: 'Vehicles and their latest state',
    roles: ['admin', 'fleet_manager', 'finance', 'compliance', 'technician'],
  },
  { permission: 'alerts:read', label: 'Alerts', roles: ['admin', 'fleet_manager', 'technician'] },
  {
    permission: 'fuel:read',
    label: 'Fuel purchases',
    roles: ['admin', 'fleet_manager', 'finance', 'compliance'],
  },
  { permission: 'drivers:read', label: 'Drivers', roles: ['admin', 'fleet_manager'] },
  {
    permission: 'devices:read',
    label: 'Devices and agent health',
    roles: ['admin', 'fleet_manager', 'technician'],
  },
  { permission: 'audit:read', label: 'Audit trail', roles: ['admin', 'compliance'] },
];

const EXPIRY_DAYS = [30, 90, 365];

/** The zod field errors the API sends back, by field name. */
/**
 * The signed-in person's own API tokens: create one (shown once), see them, revoke one. A token
 * acts as its owner, never beyond their current role, and ends with the account.
 */
export function PersonalTokens() {
  const me = useMe();
  const role = me.data?.role;
  const allowed = allowedTo(role, '/tokens');
  const tokens = useQuery(allowed ? 'tokens' : null, (signal) =>
    allowed ? trpc.tokens.mine.query(undefined, { signal }) : Promise.resolve([]),
  );
  const [created, setCreated] = useState<{ name: string; token: string } | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState('');

  if (me.error) return <p className="error-text">Could not load your account: {me.error}</p>;
  if (!me.data) return <p role="status">Loading…</p>;
  if (!allowed) return <NotAllowed what="personal API tokens" />;
  const scopes = SCOPES.filter((s) => s.roles.includes(role!));

  async function create(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const name = String(data.get('name') ?? '').trim();
    const permissions = data.getAll('permissions').map(String) as Permission[];
    const local: Record<string, string> = {};
    if (!name) local.name = 'Give the token a name, e.g. what uses it.';
    if (permissions.length === 0) local.permissions = 'Choose at least one thing the token may read.';
    setErrors(local);
    setError(null);
    if (Object.keys(local).length > 0) return;
    try {
      const r = await trpc.tokens.createMine.mutate({
        name,
        permissions,
        expiresInDays: Number(data.get('expiresInDays')),
      });
      setCreated({ name, token: r.token });
      setStatus(`Token ${name} created: shown below, once.`);
      form.reset();
      await tokens.reload();
    } catch (err) {
      const byField = formErrorsOf(err).fields;
      setErrors(byField);
      if (Object.keys(byField).length === 0) setError(err instanceof Error ? err.message : 'Not created.');
    }
  }

  async function revoke(id: string, name: string) {
    setError(null);
    try {
      await trpc.tokens.revokeMine.mutate({ tokenId: id });
      setStatus(`Token ${name} revoked.`);
      await tokens.reload();
    } catch (err) {
      setError(err instanceof Error ? err.message : 'Not revoked.');
    }
  }

  const { invalid, fieldError } = fieldErrorBindings(errors, 'token-');

  return (
    <>
      <p>
        For your own scripts and spreadsheets: a token reads the API as you, never more than your role allows,
        and stops working when your account is deactivated.
      </p>
      <div role="status" className="visually-hidden">
        {status}
      </div>
      {error || tokens.error ? (
        <p className="error-text" role="alert">
          {error ?? tokens.error}
        </p>
      ) : null}
      {created ? (
        <section aria-labelledby="new-token-heading" className="notice">
          <h2 id="new-token-heading">Your new token {created.name}</h2>
          <p>Copy it now and keep it like a password: it is not shown again.</p>
          <p className="secret" data-testid="new-token">
            {created.token}
          </p>
          <button type="button" className="button--secondary" onClick={() => setCreated(null)}>
            I have copied it
          </button>
        </section>
      ) : null}

      <section aria-labelledby="create-token-heading">
        <h2 id="create-token-heading">Create a token</h2>
        <form className="admin-form" onSubmit={create} noValidate>
          <p>
            <label htmlFor="token-name">Token name</label>
            <input
              id="token-name"
              name="name"
              type="text"
              autoComplete="off"
              required
              maxLength={100}
              {...invalid('name')}
            />
            {fieldError('name')}
          </p>
          <fieldset aria-describedby={errors.permissions ? 'token-permissions-error' : undefined}>
            <legend>What it may read</legend>
            {scopes.map((s) => (
              <p key={s.permission} className="checkbox-row">
                <input id={`scope-${s.permission}`} name="permissions" type="checkbox" value={s.permission} />
                <label htmlFor={`scope-${s.permission}`}>{s.label}</label>
              </p>
            ))}
            {fieldError('permissions')}
          </fieldset>
          <p>
            <label htmlFor="token-expiry">Expires after</label>
            <select id="token-expiry" name="expiresInDays" defaultValue="90">
              {EXPIRY_DAYS.map((d) => (
                <option key={d} value={d}>
                  {d} days
                </option>
              ))}
            </select>
          </p>
          <button type="submit">Create token</button>
        </form>
      </section>

      <section aria-labelledby="tokens-heading">
        <h2 id="tokens-heading">Your tokens</h2>
        <DataTable
          caption="Your API tokens"
          columns={['Name', 'May read', 'Created', 'Expires', 'State', 'Actions']}
        >
          {(tokens.data ?? []).map((t) => (
            <tr key={t.id} data-token-id={t.id}>
              <td>{t.name}</td>
              <td>
                {t.permissions.map((p) => SCOPES.find((s) => s.permission === p)?.label ?? p).join(', ')}
              </td>
              <td>
                <UtcTime ms={t.createdAt} />
              </td>
              <td>
                <UtcTime ms={t.expiresAt} />
              </td>
              <td>
                {t.revoked ? (
                  <span className="badge badge--danger">✗ Revoked</span>
                ) : (
                  <span className="badge badge--ok">✓ Active</span>
                )}
              </td>
              <td>
                {t.revoked ? null : (
                  <button type="button" className="button--secondary" onClick={() => revoke(t.id, t.name)}>
                    Revoke <span className="visually-hidden">token {t.name}</span>
                  </button>
                )}
              </td>
            </tr>
          ))}
        </DataTable>
      </section>
    </>
  );
}
