/**
 * A tank calibration table: what a fuel-level sender reading (PID 2F, % of its travel) means in
 * litres. A float sender measures height, not volume, so only a box-shaped tank is linear; a
 * saddle or cylinder tank needs a table, measured by filling it in steps (Wialon-style).
 *
 *   litres
 *     ^            .----*  (100 %, 380 L)
 *     |        .--*
 *     |   .---*             linear between neighbouring rows,
 *     *--*                  clamped outside the first and last
 *     +-------------------> sender %
 *
 * One copy for both sides: the agent's detectors (edge-agent/src/fuel/tank.ts) and the cloud's
 * fuel figures (consumption, reconciliation, forecast) turn the same reading into the same litres.
 */

export interface CalibrationPoint {
  /** Sender reading, % of its travel, 0...100. */
  pct: number;
  /** Litres in the tank at that reading. */
  litres: number;
}

/** 0, 1, ..., 100 %: a row per percent is finer than any tank is measured. */
export const CALIBRATION_MAX_POINTS = 101;

export interface CalibrationProblem {
  /** 0-based index of the row at fault (the first row for a table-wide problem). */
  row: number;
  field: 'pct' | 'litres';
  message: string;
}

/**
 * Why a table cannot be used, row by row; empty when it can. A table must start at 0 %, end at
 * 100 % and rise strictly in both columns: a flat or falling stretch would make two readings the
 * same volume (or a refuel look like a drain), and a gap at either end would leave readings that
 * the table does not explain. With the tank's capacity, the 100 % row may not hold more than it.
 */
export function calibrationProblems(
  points: readonly CalibrationPoint[],
  tankLitres?: number | null,
): CalibrationProblem[] {
  const out: CalibrationProblem[] = [];
  if (points.length < 2) {
    out.push({
      row: 0,
      field: 'pct',
      message: 'a calibration table needs at least two rows (0 % and 100 %)',
    });
    return out;
  }
  if (points.length > CALIBRATION_MAX_POINTS)
    out.push({ row: 0, field: 'pct', message: `at most ${CALIBRATION_MAX_POINTS} rows` });
  points.forEach((p, i) => {
    const row = i + 1;
    if (!Number.isFinite(p.pct) || p.pct < 0 || p.pct > 100)
      out.push({ row: i, field: 'pct', message: `row ${row}: sender % must be 0 to 100` });
    if (!Number.isFinite(p.litres) || p.litres < 0)
      out.push({ row: i, field: 'litres', message: `row ${row}: litres must be 0 or more` });
    const prev = points[i - 1];
    if (!prev) return;
    if (!(p.pct > prev.pct))
      out.push({
        row: i,
        field: 'pct',
        message: `row ${row}: sender % must be greater than row ${row - 1}'s (${prev.pct})`,
      });
    if (!(p.litres > prev.litres))
      out.push({
        row: i,
        field: 'litres',
        message: `row ${row}: litres must be greater than row ${row - 1}'s (${prev.litres})`,
      });
  });
  if (points[0]!.pct !== 0) out.push({ row: 0, field: 'pct', message: 'row 1: the first row must be 0 %' });
  const last = points.length - 1;
  if (points[last]!.pct !== 100)
    out.push({ row: last, field: 'pct', message: `row ${last + 1}: the last row must be 100 %` });
  if (tankLitres != null && points[last]!.litres > tankLitres)
    out.push({
      row: last,
      field: 'litres',
      message: `row ${last + 1}: ${points[last]!.litres} L is more than the tank's capacity (${tankLitres} L)`,
    });
  return out;
}

/**
 * Litres for a sender reading on a table sorted by `pct` (at least two rows): linear between the
 * two rows around the reading, clamped to the first and last row outside them.
 */
export function interpolateLitres(table: readonly CalibrationPoint[], pct: number): number {
  const first = table[0]!;
  const last = table[table.length - 1]!;
  if (pct <= first.pct) return first.litres;
  if (pct >= last.pct) return last.litres;
  let lo = 0;
  let hi = table.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (table[mid]!.pct <= pct) lo = mid;
    else hi = mid;
  }
  const a = table[lo]!;
  const b = table[hi]!;
  return a.litres + ((pct - a.pct) * (b.litres - a.litres)) / (b.pct - a.pct);
}

/**
 * The litres a vehicle's reading stands for: through its calibration table when it has one,
 * else linear over its tank capacity; null when neither is known (the figure is then "tank size
 * unknown", never a guess).
 */
export function litresAtLevel(
  pct: number,
  vehicle: { tankLitres: number | null; calibration: readonly CalibrationPoint[] | null },
): number | null {
  if (vehicle.calibration && vehicle.calibration.length >= 2)
    return interpolateLitres(vehicle.calibration, pct);
  if (vehicle.tankLitres == null) return null;
  return (Math.min(100, Math.max(0, pct)) / 100) * vehicle.tankLitres;
}
