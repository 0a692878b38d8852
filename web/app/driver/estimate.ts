/**
 * The driver's range and refuel reminder, from what a driver may read: the tank's level history
 * (telemetry.fuelSeries) and the distance they drove (drivers.score) over the same 30 days.
 *
 *   km per tank-% = km driven / tank-% burned      range = level % x km per tank-%
 *
 * "Burned" adds up every fall between consecutive points and ignores rises (refuels), so a refuel
 * in the window does not hide the fuel used before it. A drain (theft) in the window counts as
 * burned, which makes the estimate cautious (shorter), the safe side for a reminder.
 */

/** Below this level the page reminds the driver to refuel. */
export const REFUEL_REMINDER_PCT = 20;
/** Less history than this gives a number nobody should plan a trip on. */
const MIN_KM = 20;
const MIN_BURNED_PCT = 3;

export function burnedPct(points: readonly { pct: number }[]): number {
  let burned = 0;
  for (let i = 1; i < points.length; i++) {
    const fall = points[i - 1]!.pct - points[i]!.pct;
    if (fall > 0) burned += fall;
  }
  return burned;
}

/** Kilometres left at this level, or null when there is too little driving to tell. */
export function estimateRangeKm(
  levelPct: number | null,
  kmDriven: number,
  points: readonly { pct: number }[],
): number | null {
  if (levelPct === null || !Number.isFinite(levelPct)) return null;
  const burned = burnedPct(points);
  if (kmDriven < MIN_KM || burned < MIN_BURNED_PCT) return null;
  return Math.max(0, levelPct) * (kmDriven / burned);
}

export function needsRefuel(levelPct: number | null): boolean {
  return levelPct !== null && levelPct < REFUEL_REMINDER_PCT;
}
