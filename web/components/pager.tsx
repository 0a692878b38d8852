'use client';

import { useState } from 'react';

/**
 * "Show more …" under a cursor-paginated list (lib/use-query.ts usePagedQuery): appends the next
 * page in place, so what was read stays where it was; gone on the last page.
 */
export function Pager({
  hasMore,
  onMore,
  what,
}: {
  hasMore: boolean;
  onMore: () => Promise<void>;
  what: string;
}) {
  const [busy, setBusy] = useState(false);
  if (!hasMore) return null;
  const more = async () => {
    if (busy) return;
    setBusy(true);
    try {
      await onMore();
    } finally {
      setBusy(false);
    }
  };
  return (
    <p>
      {/* Not disabled while loading: a disabled button drops keyboard focus. */}
      <button type="button" className="button--secondary" aria-busy={busy} onClick={() => void more()}>
        {busy ? `Loading more ${what}…` : `Show more ${what}`}
      </button>
    </p>
  );
}
