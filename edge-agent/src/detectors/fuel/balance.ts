import type { DriveSample } from '../../fuel/drive-log.ts';
import { engineFuelLph, type FuelType } from '../../fuel/engine-fuel.ts';
import type { ModeTracker } from '../vehicle-mode.ts';

/**
 * The fuel balance B = litres in the tank + litres the engine burned so far (fuel rate, else MAF,
 * else idle L/h). With only the engine drawing fuel B stays flat; a refuel steps it up, a drain
 * steps it down, a leak makes it slope. Judging B instead of the level is what keeps a long idle
 * or a hill climb from looking like theft.
 */
export class FuelBalance {
  /** Litres the engine burned since the first sample. */
  private engineL = 0;
  private lastLph = 0;

  constructor(
    private readonly mode: ModeTracker,
    private readonly fuelType: FuelType,
    private readonly idleLph: number,
  ) {}

  /** Adds the engine's burn over the step that ended at `s`, at the rate known at its start. */
  update(s: DriveSample): void {
    const mode = this.mode.mode;
    if (mode === 'off') {
      this.lastLph = 0;
      return;
    }
    // A step over ten minutes is a hole in the log, not ten minutes at the last rate.
    this.engineL += (this.lastLph * Math.min(this.mode.dtS, 600)) / 3600;
    const lph = engineFuelLph(s, this.mode.engineRunning, mode === 'moving', this.fuelType, this.idleLph);
    if (lph !== null) this.lastLph = lph;
    else if (!this.mode.engineRunning) this.lastLph = 0;
  }

  /** The balance for a tank holding `litres` now. */
  of(litres: number): number {
    return litres + this.engineL;
  }
}
