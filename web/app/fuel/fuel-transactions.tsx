'use client';

import Link from 'next/link';
import { type FormEvent, useEffect, useState } from 'react';
import { formatDateTime } from '../../components/fuel-chart.tsx';
import { useAuthRedirect } from '../../lib/auth-redirect.ts';
import { formatNumber, toIsoTimestamp } from '../../lib/format.ts';
import { humanize } from '../../lib/labels.ts';
import { trpc } from '../../lib/trpc.ts';

type Page = Awaited<ReturnType<typeof trpc.fuel.transactions.query>>;
type Input = Extract<Parameters<typeof trpc.fuel.transactions.query>[0], object>;
type Status = NonNullable<Input['statuses']>[number];

/** Reconciliation status in words with a symbol; the badge colour only repeats it. */
export const RECONCILIATION = {
  matched: { text: '✓ Matched', className: 'badge badge--ok', help: 'a refuel on the vehicle agrees' },
  flagged: { text: '⚑ Flagged', className: 'badge badge--danger', help: 'possible fraud: see the reasons' },
  unmatched: {
    text: '✗ Unmatched',
    className: 'badge badge--warning',
    help: 'no refuel seen on the vehicle',
  },
  pending: { text: '… Pending', className: 'badge badge--info', help: 'waiting for the vehicle’s data' },
} as const satisfies Record<Status, unknown>;

interface Filter {
  statuses: Status[];
  vehicleId: string;
  fuelType: string;
}

export function FuelTransactions() {
  const [draft, setDraft] = useState<Filter>({ statuses: [], vehicleId: '', fuelType: '' });
  const [filter, setFilter] = useState<Filter>(draft);
  const [pages, setPages] = useState<Page[]>([]);
  const [error, setError] = useState<string | null>(null);
  const onError = useAuthRedirect(setError);

  const input = (cursor?: string): Input => ({
    limit: 50,
    ...(filter.statuses.length ? { statuses: filter.statuses } : {}),
    ...(filter.vehicleId.trim() ? { vehicleId: filter.vehicleId.trim() } : {}),
    ...(filter.fuelType.trim() ? { fuelType: filter.fuelType.trim() } : {}),
    ...(cursor ? { cursor } : {}),
  });

  // biome-ignore lint/correctness/useExhaustiveDependencies: input() reads filter.
  useEffect(() => {
    const controller = new AbortController();
    trpc.fuel.transactions
      .query(input(), { signal: controller.signal })
      .then((p) => {
        setPages([p]);
        setError(null);
      })
      .catch((e) => !controller.signal.aborted && onError(e));
    return () => controller.abort();
  }, [filter, onError]);

  const more = async () => {
    const cursor = pages.at(-1)?.nextCursor;
    if (!cursor) return;
    try {
      const next = await trpc.fuel.transactions.query(input(cursor));
      setPages((p) => [...p, next]);
    } catch (e) {
      onError(e);
    }
  };

  const items = pages.flatMap((p) => p.items);
  const apply = (e: FormEvent) => {
    e.preventDefault();
    setFilter(draft);
  };

  return (
    <>
      <form onSubmit={apply} aria-label="Filter fuel transactions">
        <fieldset className="filters">
          <legend>Filter</legend>
          <fieldset className="field">
            <legend className="label">Reconciliation</legend>
            <div className="actions">
              {(Object.keys(RECONCILIATION) as Status[]).map((s) => (
                <label key={s}>
                  <input
                    type="checkbox"
                    checked={draft.statuses.includes(s)}
                    onChange={(e) =>
                      setDraft((d) => ({
                        ...d,
                        statuses: e.target.checked ? [...d.statuses, s] : d.statuses.filter((x) => x !== s),
                      }))
                    }
                  />{' '}
                  {humanize(s)}
                </label>
              ))}
            </div>
          </fieldset>
          <div className="field">
            <label htmlFor="fuel-vehicle">Vehicle</label>
            <input
              id="fuel-vehicle"
              autoComplete="off"
              value={draft.vehicleId}
              onChange={(e) => setDraft({ ...draft, vehicleId: e.target.value })}
            />
          </div>
          <div className="field">
            <label htmlFor="fuel-type">Fuel type</label>
            <input
              id="fuel-type"
              autoComplete="off"
              value={draft.fuelType}
              onChange={(e) => setDraft({ ...draft, fuelType: e.target.value })}
              placeholder="e.g. diesel"
            />
          </div>
          <button type="submit">Apply filter</button>
        </fieldset>
      </form>
      {error && <p className="error-text">Could not load transactions: {error}</p>}
      {pages.length > 0 &&
        (items.length === 0 ? (
          <p>No fuel transactions match this filter.</p>
        ) : (
          <div className="table-scroll">
            <table className="data-table" data-table="fuel-transactions">
              <caption>Fuel-card and logged purchases, newest first, with how each reconciles</caption>
              <thead>
                <tr>
                  <th scope="col">When (UTC)</th>
                  <th scope="col">Vehicle</th>
                  <th scope="col">Fuel</th>
                  <th scope="col" className="num">
                    Litres
                  </th>
                  <th scope="col" className="num">
                    Amount
                  </th>
                  <th scope="col">Station / source</th>
                  <th scope="col">Reconciliation</th>
                </tr>
              </thead>
              <tbody>
                {items.map((t) => {
                  const r = RECONCILIATION[t.status];
                  return (
                    <tr key={t.id} data-transaction-id={t.id} data-status={t.status}>
                      <th scope="row">
                        <time dateTime={toIsoTimestamp(t.ts)}>{formatDateTime(t.ts)}</time>
                      </th>
                      <td>
                        {t.vehicleId ? (
                          <Link href={`/vehicles/${encodeURIComponent(t.vehicleId)}`}>{t.vehicleId}</Link>
                        ) : (
                          '—'
                        )}
                      </td>
                      <td>{t.fuelType ?? '—'}</td>
                      <td className="num">{formatNumber(t.litres, 1)}</td>
                      <td className="num">
                        {t.amount === null ? '—' : `${formatNumber(t.amount, 2)} ${t.currency ?? ''}`}
                      </td>
                      <td>
                        {t.station ?? '—'}
                        <br />
                        <span className="muted">{humanize(t.source)}</span>
                      </td>
                      <td>
                        <span className={r.className}>{r.text}</span>
                        <br />
                        <span className="muted">
                          {[...t.flags.map(humanize), ...t.reasons].join('; ') || r.help}
                        </span>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        ))}
      {pages.at(-1)?.nextCursor && (
        <p>
          <button type="button" className="button--secondary" onClick={() => void more()}>
            Show more transactions
          </button>
        </p>
      )}
    </>
  );
}
