import type { VehicleState } from '@fleet/shared';
import { estimateRangeKm, needsRefuel, REFUEL_REMINDER_PCT } from '../estimate.ts';
import { useDriverText } from '../i18n/driver-text-context.tsx';
import type { Loaded, Score } from '../use-driver-home.ts';
import { FreshnessLine } from './freshness-line.tsx';

/** The tank: level in words and a gauge, the range left (in the user's distance unit), a reminder when it runs low. */
export function FuelCard({
  vehicle,
  score,
  burnHistory,
  online,
  problem,
}: {
  vehicle: Loaded<VehicleState> | null;
  score: Loaded<Score> | null;
  burnHistory: { pct: number }[] | null;
  online: boolean;
  problem: string | null;
}) {
  const { t, num, distance } = useDriverText();
  const level = vehicle?.data.fuelLevelPct ?? null;
  const range = score && burnHistory ? estimateRangeKm(level, score.data.km, burnHistory) : null;
  return (
    <section aria-labelledby="fuel-title" className="card">
      <h2 id="fuel-title">
        {t('fuel.title')}
        {vehicle ? ` — ${vehicle.data.vehicleId}` : ''}
      </h2>
      {vehicle ? (
        <>
          <p className="fuel-level" data-testid="fuel-level" data-value={level ?? ''}>
            {level === null ? t('fuel.notReported') : t('fuel.inTank', { pct: num(level) })}
          </p>
          {level !== null ? (
            <div className="fuel-bar" aria-hidden="true">
              <div className="fuel-bar__fill" style={{ width: `${Math.max(0, Math.min(100, level))}%` }} />
            </div>
          ) : null}
          <p className="fuel-range" data-testid="range">
            {t('fuel.range')}{' '}
            {range === null ? t('fuel.rangeUnknown') : t('fuel.rangeAbout', { distance: distance(range) })}
          </p>
          {needsRefuel(level) ? (
            <p className="reminder" role="note" data-testid="refuel-reminder">
              <strong>{t('fuel.reminderTitle')}</strong>{' '}
              {t('fuel.reminderText', { pct: REFUEL_REMINDER_PCT })}
            </p>
          ) : null}
          <FreshnessLine of={vehicle} online={online} />
        </>
      ) : (
        // The same lines as the answer will fill (level, gauge, range, freshness): the cards
        // below do not jump when it arrives (layout shift).
        <>
          <p className="fuel-level">{problem ? t('fuel.noData') : t('fuel.loading')}</p>
          <div className="fuel-bar" aria-hidden="true" />
          <p className="fuel-range">
            {t('fuel.range')} {problem ? t('common.unknown') : t('common.loading')}
          </p>
          <p className="freshness">{problem ? t('fresh.notYet') : t('fresh.updating')}</p>
        </>
      )}
    </section>
  );
}
