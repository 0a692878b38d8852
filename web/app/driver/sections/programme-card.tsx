'use client';

/**
 * The driver's part in the programme (issue 19 §3, §4): points balance, running challenges with
 * their own progress and rank, and the rewards they can ask for. All from the home read (the
 * service worker keeps its last answer), so the standing is there offline with how fresh it is;
 * asking for a reward reads the home again (the balance after it).
 */
import { useState } from 'react';
import { KM_PER_MILE } from '../../../lib/units.ts';
import { driverApi } from '../driver-api.ts';
import { useDriverText } from '../i18n/driver-text-context.tsx';
import type { Home, Programme } from '../use-driver-home.ts';
import { FreshnessLine } from './freshness-line.tsx';

type Progress = NonNullable<Home['progress'][number]['progress']>;

export function ProgrammeCard({
  programme,
  online,
  onRedeemed,
}: {
  /** Null until the home read answers. */
  programme: Programme | null;
  online: boolean;
  onRedeemed: () => Promise<void>;
}) {
  const { t, num } = useDriverText();
  const [said, setSaid] = useState('');

  const redeem = async (rewardId: number, name: string) => {
    try {
      await driverApi.rewards.redeem.mutate({ rewardId });
      setSaid(t('programme.asked', { name }));
      await onRedeemed();
    } catch (err) {
      setSaid(
        t('programme.askFailed', {
          name,
          reason: err instanceof Error ? err.message : t('common.unknownError'),
        }),
      );
    }
  };

  const challenges = programme?.challenges ?? null;
  const rewards = programme?.rewards ?? null;
  const current = challenges?.items.filter((c) => c.state !== 'upcoming') ?? [];
  const balance = programme?.points?.balance;
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
          {challenges
            ? t('programme.noChallenge')
            : online
              ? t('common.loadingCap')
              : t('programme.shownOnline')}
        </p>
      ) : (
        <ul data-testid="challenges">
          {current.map((c) => (
            <ChallengeLine
              key={c.id}
              progress={programme?.progress.find((p) => p.challengeId === c.id)?.progress ?? null}
            />
          ))}
        </ul>
      )}
      <FreshnessLine of={programme && (challenges || programme.points) ? programme : null} online={online} />
      <h3>{t('programme.rewards')}</h3>
      <p role="status">{said}</p>
      {rewards && rewards.items.length > 0 ? (
        <ul>
          {rewards.items.map((r) => (
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
        <p>{rewards ? t('programme.noRewards') : ''}</p>
      )}
    </section>
  );
}

function ChallengeLine({ progress: p }: { progress: Progress | null }) {
  const { t, num, units } = useDriverText();
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
