import { formatLocalDateTime, formatNumber } from '../../../lib/format.ts';

/** "42.50 L diesel, 26 Nov 2026, 09:07": one refuel, waiting on the phone or synced. */
export function refuelSummary(r: { litres: number; fuelType: string; ts: number }): string {
  return `${formatNumber(r.litres, 2)} L ${r.fuelType}, ${formatLocalDateTime(r.ts)}`;
}
