'use client';

/**
 * The driver's part in the programme (issue 19 §3, §4): points balance, running challenges with
 * their own progress and rank, and the rewards they can ask for. Read like the other cards (the
 * service worker keeps the last answers), so the standing is there offline with how fresh it is.
 */
import { useState } from 'react';
import { KM_PER_MILE } from '../../../lib/units.ts';
import { useQuery } from '../../../lib/use-query.ts';
import { driverApi, readWithFreshness } from '../driver-api.ts';
import { useDriverText } from '../i18n/driver-text-context.tsx';
import { FreshnessLine } from './freshness-line.tsx';

export function ProgrammeCard({ online }: { online: boolean }) {
  const { t, num } = useDriverText();
  const points = useQuery(online, () =>
    readWithFreshness('points.balance', () => driverApi.points.balance.query({})),
  );
  const challenges = useQuery(online, () =>
    readWithFreshness('challenges.list', () => driverApi.challenges.list.query({ limit: 5 })),
  );
  const rewards = useQuery(online, () =>
    readWithFreshness('rewards.list', () => driverApi.rewards.list.query({})),
  );
  const [said, setSaid] = useState('');

  const redeem = async (rewardId: number, name: string) => {
    try {
      await driverApi.rewards.redeem.mutate({ rewardId });
      setSaid(t('programme.asked', { name }));
      await points.reload();
    } catch (err) {
      setSaid(
        t('programme.askFailed', {
          name,
          reason: err instanceof Error ? err.message : t('common.unknownError'),
        }),
      );
    }
  };

  const current = challenges.data?.data.items.filter((c) => c.state !== 'upcoming') ?? [];
  const balance = points.data?.data.balance;
  return (
    <section aria-labelledby="programme-title" className="card" data-testid="programme">
      <h2 id="programme-title">{t('programme.title')}</h2>
      <p data-testid="points-balance">
        {balance !== undefined
          ? t('programme.points', { n: balance })
          : t('programme.pointsUnknown', {
              state: online ? t('common.loading') : t('programme.shownOnline'),
            })}
      </p>
      <h3>{t('programme.challenges')}</h3>
      {current.length === 0 ? (
        <p>
          {challenges.data
            ? t('programme.noChallenge')
            : online
              ? t('common.loadingCap')
              : t('programme.shownOnline')}
        </p>
      ) : (
        <ul data-testid="challenges">
          {current.map((c) => (
            <ChallengeLine key={c.id} id={c.id} online={online} />
          ))}
        </ul>
      )}
      <FreshnessLine of={challenges.data ?? points.data} online={online} />
      <h3>{t('programme.rewards')}</h3>
      <p role="status">{said}</p>
      {rewards.data && rewards.data.data.items.length > 0 ? (
        <ul>
          {rewards.data.data.items.map((r) => (
            <li key={r.id}>
              {t('programme.reward', { name: r.name, n: num(r.costPoints) })}{' '}
              <button
                type="button"
                disabled={!online || (balance ?? 0) < r.costPoints}
                onClick={() => void redeem(r.id, r.name)}
              >
                {t('programme.askFor')}
                <span className="visually-hidden"> ({r.name})</span>
              </button>
            </li>
          ))}
        </ul>
      ) : (
        <p>{rewards.data ? t('programme.noRewards') : ''}</p>
      )}
    </section>
  );
}

function ChallengeLine({ id, online }: { id: number; online: boolean }) {
  const { t, num, units } = useDriverText();
  const p = useQuery(`${id}:${online}`, () =>
    readWithFreshness('challenges.progress', () => driverApi.challenges.progress.query({ challengeId: id })),
  ).data?.data;
  if (!p) return <li>{t('common.loadingCap')}</li>;
  const mine = p.standings[0];
  const metric = p.challenge.metric;
  const miles = units.distance === 'mi';
  // Distances in the user's unit; "per 100 km" becomes "per 100 mi" (100 mi is 1.609 times as far).
  const show = (v: number) => {
    if (metric === 'distance_km') return `${num(miles ? v / KM_PER_MILE : v)} ${t(`unit.${units.distance}`)}`;
    if (metric === 'harsh_per_100km')
      return `${num(miles ? v * KM_PER_MILE : v, 2)} ${t('programme.per100', { unit: t(`unit.${units.distance}`) })}`;
    return num(v, 2);
  };
  const parts = mine
    ? [
        mine.value === null ? t('programme.noValue') : show(mine.value),
        t(p.challenge.direction === 'at_most' ? 'programme.targetAtMost' : 'programme.targetAtLeast', {
          value: show(p.challenge.target),
        }),
        ...(mine.rank === null ? [] : [t('programme.rank', { rank: num(mine.rank), of: num(p.ranked) })]),
        ...(mine.met ? [t('programme.met')] : []),
      ]
    : [t('programme.notTakingPart')];
  return (
    <li data-testid="challenge-progress">
      <strong>{p.challenge.name}</strong>
      {p.frozen ? t('programme.final') : ''}: {parts.join(', ')}
    </li>
  );
}
