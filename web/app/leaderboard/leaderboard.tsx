'use client';

/**
 * The leaderboard (scores.leaderboard): managers see every driver, by peer group if they choose;
 * a driver sees their own peer group, the others' names hidden when the tenant anonymises. Below
 * it, for managers, the disputes waiting for a decision (scores.decideDispute): accepting leaves
 * the event out of the driver's score, which is recomputed at once.
 */
import { useCallback, useId, useState } from 'react';
import { DataTable, numeric } from '../../components/data-table.tsx';
import { PageMessages } from '../../components/page-messages.tsx';
import { useAuthRedirect } from '../../lib/auth-redirect.ts';
import { formatNumber, formatUtcDateTime } from '../../lib/format.ts';
import { humanize } from '../../lib/labels.ts';
import { trpc } from '../../lib/trpc.ts';
import { usePermissions } from '../../lib/use-permissions.ts';
import { useQuery } from '../../lib/use-query.ts';

type Period = 'week' | 'month' | 'improved';
const PERIODS: { id: Period; label: string; column: string }[] = [
  { id: 'week', label: 'This week', column: 'Mean score, 7 days' },
  { id: 'month', label: 'This month', column: 'Mean score, 30 days' },
  { id: 'improved', label: 'Most improved', column: 'Change in points' },
];

export function Leaderboard() {
  const [period, setPeriod] = useState<Period>('week');
  const [peerGroup, setPeerGroup] = useState('');
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const permissions = usePermissions(true);
  const input = { period, ...(peerGroup ? { peerGroup } : {}) };
  const board = useQuery(input, (signal) => trpc.scores.leaderboard.query(input, { signal }));
  const groupId = useId();
  const current = PERIODS.find((p) => p.id === period)!;
  const data = board.data;

  return (
    <>
      <div className="filter-bar">
        <fieldset>
          <legend>Ranking</legend>
          {PERIODS.map((p) => (
            <button
              key={p.id}
              type="button"
              aria-pressed={p.id === period}
              className={p.id === period ? undefined : 'button--secondary'}
              onClick={() => setPeriod(p.id)}
            >
              {p.label}
            </button>
          ))}
        </fieldset>
        {data && data.peerGroups.length > 1 ? (
          <p>
            <label htmlFor={groupId}>Peer group </label>
            <select id={groupId} value={peerGroup} onChange={(e) => setPeerGroup(e.target.value)}>
              <option value="">All drivers</option>
              {data.peerGroups.map((g) => (
                <option key={g} value={g}>
                  {g}
                </option>
              ))}
            </select>
          </p>
        ) : null}
      </div>
      {board.error ? (
        <p className="error-text" role="alert">
          {board.error}
        </p>
      ) : null}
      {data ? (
        data.rows.length === 0 ? (
          <p>No driver has a score yet{data.day ? ` (scores of ${data.day})` : ''}.</p>
        ) : (
          <DataTable
            caption={`${current.label}: ${data.peerGroups.length === 1 ? `peer group ${data.peerGroups[0]}` : peerGroup || 'all drivers'}, scores of ${data.day}${data.anonymised ? ', other drivers anonymised' : ''}`}
            columns={[
              'Rank',
              'Driver',
              'Peer group',
              numeric(current.column),
              numeric('Score today'),
              numeric('Percentile'),
            ]}
            data-testid="leaderboard"
          >
            {data.rows.map((r) => (
              <tr key={`${r.rank}-${r.name}`} aria-current={r.you ? 'true' : undefined}>
                <td>{r.rank}</td>
                <td>{r.you ? <strong>{r.name} (you)</strong> : r.name}</td>
                <td>{r.peerGroup}</td>
                <td className="num">
                  {period === 'improved' && r.value > 0 ? '+' : ''}
                  {formatNumber(r.value, 1)}
                </td>
                <td className="num">{formatNumber(r.score, 1)}</td>
                <td className="num">{r.percentile === null ? '—' : formatNumber(r.percentile)}</td>
              </tr>
            ))}
          </DataTable>
        )
      ) : (
        <p>Loading the leaderboard…</p>
      )}
      {permissions?.has('scores:manage') ? (
        <DisputeInbox
          onDecided={(m) => {
            setMessage(m);
            void board.reload();
          }}
          onError={setError}
        />
      ) : null}
      <PageMessages message={message} error={error} />
    </>
  );
}

/** The pending disputes with an accept / reject form each, then the decided ones. */
function DisputeInbox({
  onDecided,
  onError,
}: {
  onDecided: (m: string) => void;
  onError: (m: string) => void;
}) {
  const disputes = useQuery('disputes', (signal) => trpc.scores.disputes.query({}, { signal }));
  const showError = useAuthRedirect(onError);
  const [comments, setComments] = useState<Record<number, string>>({});
  const [busy, setBusy] = useState<number | null>(null);
  const decide = useCallback(
    async (id: number, accept: boolean) => {
      setBusy(id);
      try {
        const comment = comments[id]?.trim() || (accept ? 'Accepted' : 'Rejected');
        const r = await trpc.scores.decideDispute.mutate({ disputeId: id, accept, comment });
        onDecided(`Dispute ${id} ${r.status}; scores recomputed for ${r.rescoredDays.length} day(s).`);
        await disputes.reload();
      } catch (err) {
        showError(err);
      } finally {
        setBusy(null);
      }
    },
    [comments, disputes, onDecided, showError],
  );
  const list = disputes.data ?? [];
  const pending = list.filter((d) => d.status === 'pending');
  return (
    <section aria-labelledby="disputes-title">
      <h2 id="disputes-title">Disputes</h2>
      {disputes.data === null ? <p>Loading disputes…</p> : null}
      {disputes.data !== null && pending.length === 0 ? <p>No dispute waits for a decision.</p> : null}
      {pending.length > 0 ? (
        <DataTable
          caption="Disputes waiting for a decision"
          columns={['Driver', 'Event', 'Their comment', 'Decision']}
        >
          {pending.map((d) => (
            <tr key={d.id}>
              <td>{d.driverName}</td>
              <td>
                {humanize(d.eventType)} on {d.vehicleId}, {formatUtcDateTime(d.eventStart)}
              </td>
              <td>{d.comment}</td>
              <td>
                <label htmlFor={`decision-${d.id}`}>Your comment</label>
                <input
                  id={`decision-${d.id}`}
                  value={comments[d.id] ?? ''}
                  onChange={(e) => setComments((c) => ({ ...c, [d.id]: e.target.value }))}
                  maxLength={1000}
                />
                <button type="button" disabled={busy === d.id} onClick={() => void decide(d.id, true)}>
                  Accept dispute {d.id}
                </button>{' '}
                <button
                  type="button"
                  className="button--secondary"
                  disabled={busy === d.id}
                  onClick={() => void decide(d.id, false)}
                >
                  Reject dispute {d.id}
                </button>
              </td>
            </tr>
          ))}
        </DataTable>
      ) : null}
      {list.some((d) => d.status !== 'pending') ? (
        <DataTable
          caption="Decided disputes"
          columns={['Driver', 'Event', 'Their comment', 'Decision', 'By', 'Comment']}
        >
          {list
            .filter((d) => d.status !== 'pending')
            .map((d) => (
              <tr key={d.id}>
                <td>{d.driverName}</td>
                <td>
                  {humanize(d.eventType)} on {d.vehicleId}, {formatUtcDateTime(d.eventStart)}
                </td>
                <td>{d.comment}</td>
                <td>{d.status}</td>
                <td>{d.decidedBy ?? '—'}</td>
                <td>{d.decisionComment ?? ''}</td>
              </tr>
            ))}
        </DataTable>
      ) : null}
    </section>
  );
}
