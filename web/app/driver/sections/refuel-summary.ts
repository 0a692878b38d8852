import type { DriverText, MessageKey } from '../i18n/i18n.ts';

/**
 * "42.50 L diesel, 26 Nov 2026, 09:07" / "11,23 gal de diésel, …": one refuel, waiting on the
 * phone or synced, in the user's volume unit (an electric charge stays in kWh).
 */
export function refuelSummary(r: { litres: number; fuelType: string; ts: number }, text: DriverText): string {
  const volume =
    r.fuelType === 'electric' ? `${text.num(r.litres, 2)} ${text.t('unit.kwh')}` : text.volume(r.litres, 2);
  const key = `fuelName.${r.fuelType}` as MessageKey;
  return text.t('refuel.summary', {
    volume,
    fuel: safeName(text, key, r.fuelType),
    time: text.dateTime(r.ts),
  });
}

function safeName(text: DriverText, key: MessageKey, fallback: string): string {
  const name = text.t(key);
  return name === key ? fallback : name;
}
