'use client';

import { DataTable, numeric } from '../../components/data-table.tsx';
import { Pager } from '../../components/pager.tsx';
import { UtcTime } from '../../components/utc-time.tsx';
import { VehicleLink } from '../../components/vehicle-link.tsx';
import { formatAmount, formatNumber, MISSING } from '../../lib/format.ts';
import { humanize } from '../../lib/labels.ts';
import { trpc } from '../../lib/trpc.ts';
import { usePagedQuery } from '../../lib/use-query.ts';
import { RECONCILIATION } from './fuel-transactions.tsx';

const INPUT = { limit: 50 };

/**
 * The refuels drivers logged in the PWA with their reconciliation: a fill paid in cash has no
 * card purchase above, and is matched against the vehicle's detected refuel here. The receipt
 * photo the driver took (if any) is the evidence beside it.
 */
export function DriverRefuels() {
  const list = usePagedQuery(INPUT, (cursor, signal) =>
    trpc.fuel.driverRefuels.query({ ...INPUT, ...(cursor ? { cursor } : {}) }, { signal }),
  );
  const items = list.pages?.flatMap((p) => p.items) ?? null;
  return (
    <>
      {list.error && <p className="error-text">Could not load driver refuels: {list.error}</p>}
      {items &&
        (items.length === 0 ? (
          <p>No refuels logged by drivers.</p>
        ) : (
          <DataTable
            data-table="driver-refuels"
            caption="Refuels logged by drivers, newest first, with how each reconciles"
            columns={[
              'When (UTC)',
              'Vehicle',
              'Fuel',
              numeric('Litres'),
              numeric('Amount'),
              'Station',
              'Reconciliation',
              'Receipt',
            ]}
          >
            {items.map((t) => {
              const r = RECONCILIATION[t.status];
              return (
                <tr key={t.id} data-refuel-log-id={t.id} data-status={t.status}>
                  <th scope="row">
                    <UtcTime ms={t.ts} />
                  </th>
                  <td>
                    <VehicleLink vehicleId={t.vehicleId} />
                  </td>
                  <td>{t.fuelType}</td>
                  <td className="num">{formatNumber(t.litres, 1)}</td>
                  <td className="num">{formatAmount(t.amount, t.currency)}</td>
                  <td>{t.station ?? MISSING}</td>
                  <td>
                    <span className={r.className}>{r.text}</span>
                    <br />
                    <span className="muted" data-reasons="">
                      {[...t.flags.map(humanize), ...t.reasons].join('; ') || r.help}
                    </span>
                  </td>
                  <td>
                    {t.receipt ? (
                      // Served by the cloud to this tenant's fuel readers only (api/receipts).
                      <a href={`/api/receipts/${t.id}`} target="_blank" rel="noopener" data-receipt="">
                        <img
                          className="receipt-thumb"
                          src={`/api/receipts/${t.id}`}
                          alt={`Receipt of the ${t.vehicleId} refuel (opens full size)`}
                          width={48}
                          height={64}
                          loading="lazy"
                        />
                      </a>
                    ) : (
                      MISSING
                    )}
                  </td>
                </tr>
              );
            })}
          </DataTable>
        ))}
      <Pager hasMore={list.hasMore} onMore={list.more} what="driver refuels" />
    </>
  );
}
