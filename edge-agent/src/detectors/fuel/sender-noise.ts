/**
 * How far this vehicle's tank reading moves when no fuel was added or taken: learned from its own
 * history, because senders differ by more than any fixed threshold can cover. A real sender keeps
 * settling for minutes after a stop (fuel settles, the float's hysteresis, the ECU's damping), a
 * car stands on a slope, and the same 2 % that is a theft on one vehicle is every stop on another.
 *
 * Each observation is one level change where nothing happened (a stop without a refuel or drain:
 * the settled level at its end against the level before it); the scale is a high quantile of the
 * recent ones, so a drain must exceed what this vehicle's stops already do. Until enough are seen,
 * the prior stands in (and the larger of the two counts, so early evidence cannot lower the bar).
 */

/** Observations kept: a few days of stops, so a sender that ages is followed. */
const WINDOW = 60;
/** Observations before the learned scale replaces the prior. */
export const MIN_OBSERVATIONS = 8;
/** Quantile of |change| taken as the scale. */
const QUANTILE = 0.9;

export class SenderNoise {
  private readonly changes: number[] = [];

  constructor(
    /** Scale assumed before the vehicle's own history says otherwise, litres. */
    private readonly priorL: number,
  ) {}

  /** One level change (litres, either sign) where nothing was added or taken. */
  observe(changeL: number): void {
    if (!Number.isFinite(changeL)) return;
    this.changes.push(changeL);
    if (this.changes.length > WINDOW) this.changes.shift();
  }

  get observations(): number {
    return this.changes.length;
  }

  /** How large a change without a cause gets on this vehicle, litres. */
  get scaleL(): number {
    if (this.changes.length === 0) return this.priorL;
    const sorted = this.changes.map(Math.abs).sort((a, b) => a - b);
    const q = sorted[Math.min(sorted.length - 1, Math.floor(QUANTILE * sorted.length))]!;
    return this.changes.length >= MIN_OBSERVATIONS ? q : Math.max(q, this.priorL);
  }

  /**
   * The median signed change, litres (0 before any is seen): a bias with a sign, where the scale
   * is a size (FuelSteps learns how high the reading after a drain is from it).
   */
  get medianL(): number {
    const n = this.changes.length;
    if (n === 0) return 0;
    const sorted = [...this.changes].sort((a, b) => a - b);
    return n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
  }
}
