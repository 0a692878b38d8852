import { formatNumber } from '../../../lib/format.ts';
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
  return (
    <section aria-labelledby="score-title" className="card">
      <h2 id="score-title">My driving, last 30 days</h2>
      {score ? (
        <>
          <p className="score" data-testid="score">
            Efficiency score:{' '}
            {score.data.score === null
              ? 'not enough driving yet'
              : `${formatNumber(score.data.score)} out of 100`}
          </p>
          <p>
            {formatNumber(score.data.km)} km driven, {formatNumber(score.data.harshEvents)} harsh events,{' '}
            {formatNumber(score.data.speedingEvents)} speeding events, {formatNumber(score.data.idleMinutes)}{' '}
            idle minutes.
          </p>
          <h3>Badges</h3>
          {score.data.badges.length > 0 ? (
            <ul className="badges">
              {score.data.badges.map((b) => (
                <li key={b} className="badge">
                  <span aria-hidden="true">★ </span>
                  <strong>{b.replace(/-/g, ' ')}</strong>: {score.data.badgeInfo[b] ?? ''}
                </li>
              ))}
            </ul>
          ) : (
            <p>
              No badges yet.{' '}
              {Object.values(score.data.badgeInfo)[0]
                ? `Try: ${Object.values(score.data.badgeInfo)[0]}.`
                : ''}
            </p>
          )}
          <FreshnessLine of={score} online={online} />
        </>
      ) : (
        // Placeholder lines in the answer's shape (see the fuel card).
        <>
          <p className="score">Efficiency score: {problem ? 'none on this phone yet' : 'loading…'}</p>
          <p>
            Distance driven, harsh events, speeding events and idle minutes:{' '}
            {problem ? 'unknown' : 'loading…'}
          </p>
          <h3>Badges</h3>
          <p>{problem ? 'None on this phone yet.' : 'Loading badges…'}</p>
          <p className="freshness">{problem ? 'Not updated yet' : 'Updating…'}</p>
        </>
      )}
    </section>
  );
}
