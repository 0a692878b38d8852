import type { QueuedRefuel } from '../../../lib/offline/queue.ts';
import { useDriverText } from '../i18n/driver-text-context.tsx';
import { refuelSummary } from './refuel-summary.ts';

/** Refuels logged on this phone and not yet confirmed by the office: waiting, or refused. */
export function OutboxCard({
  outbox,
  onDiscard,
}: {
  outbox: QueuedRefuel[] | null;
  onDiscard: (clientId: string) => Promise<void>;
}) {
  const text = useDriverText();
  const { t } = text;
  const waiting = (outbox ?? []).filter((e) => e.rejected === null);
  const rejected = (outbox ?? []).filter((e) => e.rejected !== null);
  return (
    <section aria-labelledby="outbox-title" className="card">
      <h2 id="outbox-title">{t('outbox.title')}</h2>
      {outbox === null ? (
        <p>{t('outbox.reading')}</p>
      ) : outbox.length === 0 ? (
        <p data-testid="outbox-empty">{t('outbox.empty')}</p>
      ) : (
        <ul className="refuel-list" data-testid="outbox">
          {waiting.map((e) => (
            <li key={e.clientId} data-client-id={e.clientId} data-state="waiting">
              <span className="sync-state">
                <span aria-hidden="true">○ </span>
                {t('outbox.waiting')}
              </span>{' '}
              {refuelSummary(e, text)}
              {e.station ? `, ${e.station}` : ''}
              {e.receipt ? t('outbox.withPhoto') : ''}
              {e.attempts > 0 ? t('outbox.tried', { n: e.attempts }) : ''}
            </li>
          ))}
          {rejected.map((e) => (
            <li key={e.clientId} data-client-id={e.clientId} data-state="rejected">
              <span className="sync-state sync-state--rejected">
                <span aria-hidden="true">✖ </span>
                {t('outbox.notAccepted')}
              </span>{' '}
              {e.rejected}. {refuelSummary(e, text)}{' '}
              <button type="button" onClick={() => void onDiscard(e.clientId)}>
                {t('outbox.remove')}
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
