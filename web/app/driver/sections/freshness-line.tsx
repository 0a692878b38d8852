import type { Freshness } from '../driver-api.ts';
import { useDriverText } from '../i18n/driver-text-context.tsx';

/** "Last updated 14:05" or, for the service worker's cached copy, "last updated 14:05, offline". */
export function FreshnessLine({ of, online }: { of: Freshness | null; online: boolean }) {
  const { t, clock } = useDriverText();
  if (!of) return null;
  if (of.stale || !online) {
    return (
      <p className="freshness freshness--stale" data-stale="true">
        <span className="stale-tag">{t('fresh.staleTag')}</span>{' '}
        {t('fresh.staleLine', { time: clock(of.fetchedAt) })}
      </p>
    );
  }
  return <p className="freshness">{t('fresh.updated', { time: clock(of.fetchedAt) })}</p>;
}
