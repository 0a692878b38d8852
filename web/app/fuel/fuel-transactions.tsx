'use client';

import { DataTable, numeric } from '../../components/data-table.tsx';
import { CheckboxGroup, FilterBar, TextField, useFilterDraft } from '../../components/filter-bar.tsx';
import { Pager } from '../../components/pager.tsx';
import { UtcTime } from '../../components/utc-time.tsx';
import { VehicleLink } from '../../components/vehicle-link.tsx';
import { formatAmount, formatNumber, MISSING } from '../../lib/format.ts';
import { humanize } from '../../lib/labels.ts';
import { trpc } from '../../lib/trpc.ts';
import { usePagedQuery } from '../../lib/use-query.ts';

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

const STATUSES = (Object.keys(RECONCILIATION) as Status[]).map((s) => ({ value: s, label: humanize(s) }));

function toInput(f: Filter): Input {
  return {
    limit: 50,
    ...(f.statuses.length ? { statuses: f.statuses } : {}),
    ...(f.vehicleId.trim() ? { vehicleId: f.vehicleId.trim() } : {}),
    ...(f.fuelType.trim() ? { fuelType: f.fuelType.trim() } : {}),
  };
}

export function FuelTransactions() {
  const { applied, apply, bind } = useFilterDraft<Filter>(
    { statuses: [], vehicleId: '', fuelType: '' },
    'fuel',
  );
  const input = toInput(applied);
  const list = usePagedQuery(input, (cursor, signal) =>
    trpc.fuel.transactions.query({ ...input, ...(cursor ? { cursor } : {}) }, { signal }),
  );
  const items = list.pages?.flatMap((p) => p.items) ?? null;

  return (
    <>
      <FilterBar label="Filter fuel transactions" onApply={apply}>
        <CheckboxGroup legend="Reconciliation" options={STATUSES} {...bind('statuses')} />
        <TextField label="Vehicle" autoComplete="off" {...bind('vehicleId')} />
        <TextField label="Fuel type" autoComplete="off" placeholder="e.g. diesel" {...bind('fuelType')} />
      </FilterBar>
      {list.error && <p className="error-text">Could not load transactions: {list.error}</p>}
      {items &&
        (items.length === 0 ? (
          <p>No fuel transactions match this filter.</p>
        ) : (
          <DataTable
            data-table="fuel-transactions"
            caption="Fuel-card purchases, newest first, with how each reconciles"
            columns={[
              'When (UTC)',
              'Vehicle',
              'Fuel',
              numeric('Litres'),
              numeric('Amount'),
              'Station / source',
              'Reconciliation',
            ]}
          >
            {items.map((t) => {
              const r = RECONCILIATION[t.status];
              return (
                <tr key={t.id} data-transaction-id={t.id} data-status={t.status}>
                  <th scope="row">
                    <UtcTime ms={t.ts} />
                  </th>
                  <td>
                    <VehicleLink vehicleId={t.vehicleId} />
                  </td>
                  <td>{t.fuelType ?? MISSING}</td>
                  <td className="num">{formatNumber(t.litres, 1)}</td>
                  <td className="num">{formatAmount(t.amount, t.currency)}</td>
                  <td>
                    {t.station ?? MISSING}
                    <br />
                    <span className="muted">{humanize(t.source)}</span>
                  </td>
                  <td>
                    <span className={r.className}>{r.text}</span>
                    <br />
                    <span className="muted" data-reasons="">
                      {[...t.flags.map(humanize), ...t.reasons].join('; ') || r.help}
                    </span>
                  </td>
                </tr>
              );
            })}
          </DataTable>
        ))}
      <Pager hasMore={list.hasMore} onMore={list.more} what="transactions" />
    </>
  );
}
