'use client';

/**
 * The driver's part in the programme (issue 19 §3): points balance, running challenges with their
 * own standing, and the rewards they can ask for. Read when online (not cached for offline use).
 */
import { useState } from 'react';
import { formatNumber } from '../../../lib/format.ts';
import { trpc } from '../../../lib/trpc.ts';
import { useQuery } from '../../../lib/use-query.ts';

export function ProgrammeCard({ online }: { online: boolean }) {
  const points = useQuery(online, (signal) => trpc.points.balance.query({}, { signal }));
  const challenges = useQuery(online, (signal) => trpc.challenges.list.query({ limit: 5 }, { signal }));
  const rewards = useQuery(online, (signal) => trpc.rewards.list.query({}, { signal }));
  const [said, setSaid] = useState('');

  const redeem = async (rewardId: number, name: string) => {
    try {
      await trpc.rewards.redeem.mutate({ rewardId });
      setSaid(`Asked for “${name}”: the points are reserved until a manager decides.`);
      await points.reload();
    } catch (err) {
      setSaid(`Could not ask for “${name}”: ${err instanceof Error ? err.message : 'unknown error'}`);
    }
  };

  const current = challenges.data?.items.filter((c) => c.state !== 'upcoming') ?? [];
  return (
    <section aria-labelledby="programme-title" className="card">
      <h2 id="programme-title">Points and challenges</h2>
      <p data-testid="points-balance">
        Points: {points.data ? formatNumber(points.data.balance) : online ? 'loading…' : 'shown when online'}
      </p>
      <h3>Challenges</h3>
      {current.length === 0 ? (
        <p>{challenges.data ? 'No challenge right now.' : online ? 'Loading…' : 'Shown when online.'}</p>
      ) : (
        <ul>
          {current.map((c) => (
            <ChallengeLine key={c.id} id={c.id} />
          ))}
        </ul>
      )}
      <h3>Rewards</h3>
      <p role="status">{said}</p>
      {rewards.data && rewards.data.items.length > 0 ? (
        <ul>
          {rewards.data.items.map((r) => (
            <li key={r.id}>
              {r.name}: {formatNumber(r.costPoints)} points{' '}
              <button
                type="button"
                disabled={!online || (points.data?.balance ?? 0) < r.costPoints}
                onClick={() => void redeem(r.id, r.name)}
              >
                Ask for it<span className="visually-hidden"> ({r.name})</span>
              </button>
            </li>
          ))}
        </ul>
      ) : (
        <p>{rewards.data ? 'No rewards offered yet.' : ''}</p>
      )}
    </section>
  );
}

function ChallengeLine({ id }: { id: number }) {
  const p = useQuery(id, (signal) => trpc.challenges.progress.query({ challengeId: id }, { signal })).data;
  if (!p) return <li>Loading…</li>;
  const mine = p.standings[0];
  const digits = p.challenge.metric === 'distance_km' ? 0 : 2;
  return (
    <li>
      <strong>{p.challenge.name}</strong>
      {p.frozen ? ' (final)' : ''}:{' '}
      {mine
        ? `${mine.value === null ? 'no value yet' : formatNumber(mine.value, digits)} (target ${p.challenge.direction === 'at_most' ? 'at most' : 'at least'} ${formatNumber(p.challenge.target, digits)})${mine.rank === null ? '' : `, rank ${formatNumber(mine.rank)} of ${formatNumber(p.ranked)}`}${mine.met ? ', target met' : ''}`
        : 'not taking part'}
    </li>
  );
}
