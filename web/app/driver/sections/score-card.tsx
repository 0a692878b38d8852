import { useDriverText } from '../i18n/driver-text-context.tsx';
import type { Loaded, Score } from '../use-driver-home.ts';
import { FreshnessLine } from './freshness-line.tsx';

/** The driver's own score and badges over the last 30 days (drivers.score). */
export function ScoreCard({
  score,
  online,
  problem,
}: {
  score: Loaded<Score> | null;
  online: boolean;
  problem: string | null;
}) {
  const { t, num, distance, term } = useDriverText();
  const firstBadge = score ? Object.entries(score.data.badgeInfo)[0] : undefined;
  const firstHint = firstBadge ? term('badgeRule', firstBadge[0], firstBadge[1]) : undefined;
  return (
    <section aria-labelledby="score-title" className="card">
      <h2 id="score-title">{t('score.title')}</h2>
      {score ? (
        <>
          <p className="score" data-testid="score">
            {t('score.efficiency')}{' '}
            {score.data.score === null
              ? t('score.notEnough')
              : t('score.outOf100', { score: num(score.data.score) })}
          </p>
          <p className="score-summary" data-testid="score-summary">
            {t('score.summary', {
              distance: distance(score.data.km),
              harsh: score.data.harshEvents,
              speeding: score.data.speedingEvents,
              idle: score.data.idleMinutes,
            })}
          </p>
          <h3>{t('score.badges')}</h3>
          {score.data.badges.length > 0 ? (
            <ul className="badges">
              {score.data.badges.map((b) => (
                <li key={b} className="badge">
                  <span aria-hidden="true">★ </span>
                  <strong>{term('badge', b, b.replace(/-/g, ' '))}</strong>:{' '}
                  {term('badgeRule', b, score.data.badgeInfo[b] ?? '')}
                </li>
              ))}
            </ul>
          ) : (
            <p className="score-badges">
              {t('score.noBadges')} {firstHint ? t('score.try', { hint: firstHint }) : ''}
            </p>
          )}
          <FreshnessLine of={score} online={online} />
        </>
      ) : (
        // Placeholder lines in the answer's shape (see the fuel card).
        <>
          <p className="score">
            {t('score.efficiency')} {problem ? t('score.noneYet') : t('common.loading')}
          </p>
          <p className="score-summary">
            {t('score.summaryPlaceholder')} {problem ? t('common.unknown') : t('common.loading')}
          </p>
          <h3>{t('score.badges')}</h3>
          <p className="score-badges">{problem ? t('score.badgesNone') : t('score.badgesLoading')}</p>
          <p className="freshness">{problem ? t('fresh.notYet') : t('fresh.updating')}</p>
        </>
      )}
    </section>
  );
}
