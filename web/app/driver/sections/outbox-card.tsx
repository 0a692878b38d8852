import type { QueuedRefuel } from '../../../lib/offline/queue.ts';
import { refuelSummary } from './refuel-summary.ts';

/** Refuels logged on this phone and not yet confirmed by the office: waiting, or refused. */
export function OutboxCard({
  outbox,
  onDiscard,
}: {
  outbox: QueuedRefuel[] | null;
  onDiscard: (clientId: string) => Promise<void>;
}) {
  const waiting = (outbox ?? []).filter((e) => e.rejected === null);
  const rejected = (outbox ?? []).filter((e) => e.rejected !== null);
  return (
    <section aria-labelledby="outbox-title" className="card">
      <h2 id="outbox-title">Refuels on this phone</h2>
      {outbox === null ? (
        <p>Reading this phone’s outbox…</p>
      ) : outbox.length === 0 ? (
        <p data-testid="outbox-empty">Nothing waiting: every refuel you logged has reached the office.</p>
      ) : (
        <ul className="refuel-list" data-testid="outbox">
          {waiting.map((e) => (
            <li key={e.clientId} data-client-id={e.clientId} data-state="waiting">
              <span className="sync-state">
                <span aria-hidden="true">○ </span>Waiting to sync
              </span>{' '}
              {refuelSummary(e)}
              {e.station ? `, ${e.station}` : ''}
              {e.attempts > 0 ? ` (tried ${e.attempts} ${e.attempts === 1 ? 'time' : 'times'})` : ''}
            </li>
          ))}
          {rejected.map((e) => (
            <li key={e.clientId} data-client-id={e.clientId} data-state="rejected">
              <span className="sync-state sync-state--rejected">
                <span aria-hidden="true">✖ </span>Not accepted:
              </span>{' '}
              {e.rejected}. {refuelSummary(e)}{' '}
              <button type="button" onClick={() => void onDiscard(e.clientId)}>
                Remove this refuel
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
