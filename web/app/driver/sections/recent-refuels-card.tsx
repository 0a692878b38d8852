import { formatAmount } from '../../../lib/format.ts';
import type { Loaded, Refuel } from '../use-driver-home.ts';
import { FreshnessLine } from './freshness-line.tsx';
import { refuelSummary } from './refuel-summary.ts';

/** The driver's last ten refuels as the office has them (refuels.mine). */
export function RecentRefuelsCard({
  refuels,
  online,
}: {
  refuels: Loaded<Refuel[]> | null;
  online: boolean;
}) {
  return (
    <section aria-labelledby="refuels-title" className="card">
      <h2 id="refuels-title">My recent refuels</h2>
      {refuels && refuels.data.length > 0 ? (
        <ul className="refuel-list" data-testid="recent-refuels">
          {refuels.data.slice(0, 10).map((r) => (
            <li key={r.clientId} data-client-id={r.clientId}>
              <span className="sync-state sync-state--done">
                <span aria-hidden="true">✔ </span>Synced
              </span>{' '}
              {refuelSummary(r)}
              {r.station ? `, ${r.station}` : ''}
              {r.amount !== null ? `, ${formatAmount(r.amount, r.currency)}` : ''}
            </li>
          ))}
        </ul>
      ) : (
        <p>{refuels ? 'No refuels logged yet.' : 'Loading refuels…'}</p>
      )}
      <FreshnessLine of={refuels} online={online} />
    </section>
  );
}
