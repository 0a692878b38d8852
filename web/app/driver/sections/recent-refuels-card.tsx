import { pricePerVolume } from '../../../lib/units.ts';
import { useDriverText } from '../i18n/driver-text-context.tsx';
import type { Loaded, Refuel } from '../use-driver-home.ts';
import { FreshnessLine } from './freshness-line.tsx';
import { refuelSummary } from './refuel-summary.ts';

/** The driver's last ten refuels as the office has them (refuels.mine), with the price per litre or gallon. */
export function RecentRefuelsCard({
  refuels,
  online,
}: {
  refuels: Loaded<Refuel[]> | null;
  online: boolean;
}) {
  const text = useDriverText();
  const { t, num, units } = text;
  const unit = (r: Refuel) => (r.fuelType === 'electric' ? t('unit.kwh') : t(`unit.${units.volume}`));
  const price = (r: Refuel) =>
    r.fuelType === 'electric' ? r.amount! / r.litres : pricePerVolume(r.amount! / r.litres, units.volume);
  return (
    <section aria-labelledby="refuels-title" className="card">
      <h2 id="refuels-title">{t('recent.title')}</h2>
      {refuels && refuels.data.length > 0 ? (
        <ul className="refuel-list" data-testid="recent-refuels">
          {refuels.data.slice(0, 10).map((r) => (
            <li key={r.clientId} data-client-id={r.clientId}>
              <span className="sync-state sync-state--done">
                <span aria-hidden="true">✔ </span>
                {t('recent.synced')}
              </span>{' '}
              {refuelSummary(r, text)}
              {r.station ? `, ${r.station}` : ''}
              {r.amount !== null ? `, ${num(r.amount, 2)}${r.currency ? ` ${r.currency}` : ''}` : ''}
              {r.amount !== null && r.litres > 0
                ? ` (${t('recent.price', { price: num(price(r), 3), currency: r.currency ?? '', unit: unit(r) })})`
                : ''}
            </li>
          ))}
        </ul>
      ) : (
        <p>{refuels ? t('recent.none') : t('recent.loading')}</p>
      )}
      <FreshnessLine of={refuels} online={online} />
    </section>
  );
}
