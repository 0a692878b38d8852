import type { VehicleState } from '@fleet/shared';
import { formatNumber } from '../../../lib/format.ts';
import { estimateRangeKm, needsRefuel, REFUEL_REMINDER_PCT } from '../estimate.ts';
import type { Loaded, Score } from '../use-driver-home.ts';
import { FreshnessLine } from './freshness-line.tsx';

/** The tank: level in words and a gauge, the range left, a reminder when it runs low. */
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
  const level = vehicle?.data.fuelLevelPct ?? null;
  const range = score && burnHistory ? estimateRangeKm(level, score.data.km, burnHistory) : null;
  return (
    <section aria-labelledby="fuel-title" className="card">
      <h2 id="fuel-title">Fuel{vehicle ? ` — ${vehicle.data.vehicleId}` : ''}</h2>
      {vehicle ? (
        <>
          <p className="fuel-level" data-testid="fuel-level" data-value={level ?? ''}>
            {level === null ? 'Fuel level not reported yet' : `${formatNumber(level)} % in the tank`}
          </p>
          {level !== null ? (
            <div className="fuel-bar" aria-hidden="true">
              <div className="fuel-bar__fill" style={{ width: `${Math.max(0, Math.min(100, level))}%` }} />
            </div>
          ) : null}
          <p data-testid="range">
            Range:{' '}
            {range === null
              ? 'not enough driving in the last 30 days to estimate'
              : `about ${formatNumber(range)} km`}
          </p>
          {needsRefuel(level) ? (
            <p className="reminder" role="note" data-testid="refuel-reminder">
              <strong>Refuel reminder:</strong> the tank is below {REFUEL_REMINDER_PCT} %. Plan a stop at the
              next station.
            </p>
          ) : null}
          <FreshnessLine of={vehicle} online={online} />
        </>
      ) : (
        // The same lines as the answer will fill (level, gauge, range, freshness): the cards
        // below do not jump when it arrives (layout shift).
        <>
          <p className="fuel-level">{problem ? 'No fuel data on this phone yet.' : 'Loading fuel level…'}</p>
          <div className="fuel-bar" aria-hidden="true" />
          <p>Range: {problem ? 'unknown' : 'loading…'}</p>
          <p className="freshness">{problem ? 'Not updated yet' : 'Updating…'}</p>
        </>
      )}
    </section>
  );
}
