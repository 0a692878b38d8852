'use client';

/**
 * The rewards catalogue and the drivers' redemption requests (issue 19 §3). A request has already
 * debited the driver's points; approving keeps them, rejecting refunds them (both audited).
 */
import { type FormEvent, useState } from 'react';
import { DataTable, numeric } from '../../components/data-table.tsx';
import { InputField } from '../../components/form-field.tsx';
import { PageMessages } from '../../components/page-messages.tsx';
import { useAuthRedirect } from '../../lib/auth-redirect.ts';
import { formErrorsOf } from '../../lib/field-errors.ts';
import { formatNumber } from '../../lib/format.ts';
import { trpc } from '../../lib/trpc.ts';
import { usePermissions } from '../../lib/use-permissions.ts';
import { useQuery } from '../../lib/use-query.ts';

const STATUS: Record<string, string> = {
  pending: 'Pending',
  approved: 'Approved',
  rejected: 'Rejected, refunded',
};

export function RewardsAdmin() {
  const canManage = usePermissions(true)?.has('rewards:manage') ?? false;
  const rewards = useQuery(null, (signal) => trpc.rewards.list.query({ includeRetired: true }, { signal }));
  const requests = useQuery(canManage, (signal) =>
    canManage ? trpc.rewards.redemptions.query({}, { signal }) : Promise.resolve({ items: [] }),
  );
  const [name, setName] = useState('');
  const [cost, setCost] = useState('');
  const [stock, setStock] = useState('');
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState('');
  const [error, setError] = useState<string | null>(null);
  const onError = useAuthRedirect(setError);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    const missing: Record<string, string> = {};
    if (!name.trim()) missing.name = 'Enter a name.';
    if (!/^\d+$/.test(cost) || Number(cost) < 1)
      missing.costPoints = 'Enter a whole number of points, 1 or more.';
    if (stock !== '' && !/^\d+$/.test(stock))
      missing.stock = 'Enter a whole number, or leave empty for unlimited.';
    setFieldErrors(missing);
    if (Object.keys(missing).length > 0) return;
    try {
      await trpc.rewards.create.mutate({
        name: name.trim(),
        costPoints: Number(cost),
        stock: stock === '' ? null : Number(stock),
      });
      setMessage(`Reward “${name.trim()}” added.`);
      setName('');
      setCost('');
      setStock('');
      setError(null);
      await rewards.reload();
    } catch (err) {
      const f = formErrorsOf(err);
      setFieldErrors(f.fields);
      if (f.form) setError(f.form);
    }
  };

  const setActive = async (rewardId: number, active: boolean, label: string) => {
    try {
      await trpc.rewards.update.mutate({ rewardId, active });
      setMessage(active ? `Reward “${label}” offered again.` : `Reward “${label}” retired.`);
      await rewards.reload();
    } catch (err) {
      onError(err);
    }
  };

  const decide = async (redemptionId: number, approve: boolean, who: string) => {
    try {
      if (approve) await trpc.rewards.approve.mutate({ redemptionId });
      else await trpc.rewards.reject.mutate({ redemptionId });
      setMessage(
        approve ? `Request of ${who} approved.` : `Request of ${who} rejected; the points were refunded.`,
      );
      await Promise.all([requests.reload(), rewards.reload()]);
    } catch (err) {
      onError(err);
    }
  };

  return (
    <>
      <PageMessages message={message} error={error} />
      {canManage ? (
        <form onSubmit={create} noValidate aria-label="New reward">
          <fieldset className="register-form">
            <legend>New reward</legend>
            <InputField
              id="rw-name"
              label="Name"
              value={name}
              onChange={setName}
              error={fieldErrors.name}
              maxLength={120}
            />
            <InputField
              id="rw-cost"
              label="Cost (points)"
              inputMode="numeric"
              value={cost}
              onChange={setCost}
              error={fieldErrors.costPoints}
            />
            <InputField
              id="rw-stock"
              label="Stock"
              hint="Leave empty for unlimited."
              inputMode="numeric"
              value={stock}
              onChange={setStock}
              error={fieldErrors.stock}
            />
            <p className="actions">
              <button type="submit">Add reward</button>
            </p>
          </fieldset>
        </form>
      ) : null}
      <h2>Requests</h2>
      {requests.error && <p className="error-text">Could not load the requests: {requests.error}</p>}
      {requests.data &&
        (requests.data.items.length === 0 ? (
          <p>No requests yet.</p>
        ) : (
          <DataTable
            data-table="redemptions"
            caption="Redemption requests, pending first"
            columns={['Driver', 'Reward', numeric('Points'), 'Requested (UTC)', 'Status', 'Decision']}
          >
            {requests.data.items.map((r) => (
              <tr key={r.id} data-redemption-id={r.id}>
                <th scope="row">{r.userName}</th>
                <td>{r.rewardName}</td>
                <td className="num">{formatNumber(r.costPoints)}</td>
                <td>{r.requestedAt.slice(0, 16).replace('T', ' ')}</td>
                <td>{STATUS[r.status] ?? r.status}</td>
                <td>
                  {r.status === 'pending' ? (
                    <span className="actions">
                      <button type="button" onClick={() => void decide(r.id, true, r.userName)}>
                        Approve
                        <span className="visually-hidden">
                          {' '}
                          {r.rewardName} for {r.userName}
                        </span>
                      </button>
                      <button
                        type="button"
                        className="button--secondary"
                        onClick={() => void decide(r.id, false, r.userName)}
                      >
                        Reject
                        <span className="visually-hidden">
                          {' '}
                          {r.rewardName} for {r.userName}
                        </span>
                      </button>
                    </span>
                  ) : (
                    '—'
                  )}
                </td>
              </tr>
            ))}
          </DataTable>
        ))}
      <h2>Catalogue</h2>
      {rewards.error && <p className="error-text">Could not load the rewards: {rewards.error}</p>}
      {rewards.data &&
        (rewards.data.items.length === 0 ? (
          <p>No rewards yet.</p>
        ) : (
          <DataTable
            data-table="rewards"
            caption="Rewards by cost"
            columns={[
              'Reward',
              numeric('Cost (points)'),
              numeric('Stock'),
              'Offered',
              ...(canManage ? ['Actions'] : []),
            ]}
          >
            {rewards.data.items.map((r) => (
              <tr key={r.id}>
                <th scope="row">{r.name}</th>
                <td className="num">{formatNumber(r.costPoints)}</td>
                <td className="num">{r.stock === null ? 'Unlimited' : formatNumber(r.stock)}</td>
                <td>{r.active ? 'Yes' : 'Retired'}</td>
                {canManage ? (
                  <td>
                    <button
                      type="button"
                      className="button--secondary"
                      onClick={() => void setActive(r.id, !r.active, r.name)}
                    >
                      {r.active ? 'Retire' : 'Offer again'}
                      <span className="visually-hidden"> {r.name}</span>
                    </button>
                  </td>
                ) : null}
              </tr>
            ))}
          </DataTable>
        ))}
    </>
  );
}
