/**
 * Tank calibration: what a PID 2F reading (% of the sender's travel) means in litres.
 *
 * A float sender measures height, not volume, so only a box-shaped tank is linear; a platform is
 * given a calibration table ([readingPct, litres] pairs, Wialon-style) for the others. PID 2F is
 * one byte (A * 100 / 255 %), so a reading moves in steps of 0.39 % of the travel: 1.6 L on a
 * 400 L tank. The detectors work in litres and size their thresholds in steps.
 */
import { type CalibrationPoint, interpolateLitres } from '@fleet/shared';

export class TankCalibration {
  private readonly points: CalibrationPoint[];

  constructor(
    readonly tankLitres: number,
    calibration?: readonly (readonly [number, number])[],
  ) {
    if (!(tankLitres > 0)) throw new RangeError(`tank capacity must be > 0 L (got ${tankLitres})`);
    const table: CalibrationPoint[] = (calibration ?? [])
      .filter(([p, l]) => Number.isFinite(p) && Number.isFinite(l))
      .map(([pct, litres]) => ({ pct, litres }))
      .sort((a, b) => a.pct - b.pct);
    this.points =
      table.length >= 2
        ? table
        : [
            { pct: 0, litres: 0 },
            { pct: 100, litres: tankLitres },
          ];
  }

  /** Litres in the tank for a sender reading (linear between table points, clamped): the shared function. */
  litres(readingPct: number): number {
    return interpolateLitres(this.points, readingPct);
  }

  /** Litres one PID 2F step (100/255 %) is worth around this reading: the sensor's resolution. */
  stepLitres(readingPct: number): number {
    const step = 100 / 255;
    return (
      Math.abs(this.litres(Math.min(100, readingPct + step)) - this.litres(Math.max(0, readingPct - step))) /
      2
    );
  }

  /** The largest step anywhere on the tank: thresholds sized on it hold at every level. */
  maxStepLitres(): number {
    let max = 0;
    for (let p = 0; p <= 100; p += 100 / 255) max = Math.max(max, this.stepLitres(p));
    return max;
  }
}
