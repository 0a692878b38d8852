import { formatClock } from '../../../lib/format.ts';
import type { Freshness } from '../driver-api.ts';

/** "Last updated 14:05" or, for the service worker's cached copy, "last updated 14:05, offline". */
export function FreshnessLine({ of, online }: { of: Freshness | null; online: boolean }) {
  if (!of) return null;
  if (of.stale || !online) {
    return (
      <p className="freshness freshness--stale" data-stale="true">
        <span className="stale-tag">Stale:</span> last updated {formatClock(of.fetchedAt)}, offline
      </p>
    );
  }
  return <p className="freshness">Last updated {formatClock(of.fetchedAt)}</p>;
}
