import type { DriveSample } from '../fuel/drive-log.ts';

/**
 * What the vehicle is doing at each sample, the context every fuel judgement needs: a tank
 * reading taken while moving carries slosh, one taken while parked does not.
 *
 *   off      ignition off (the ECU is silent: no OBD values at all)
 *   parked   ignition on, engine stopped, standing
 *   idle     engine running, standing
 *   moving   speed above MOVING_KMH
 *
 * A log without an ignition column (Torque) infers it: any OBD value means the ECU is awake.
 * A sample with no speed (adapter unplugged, one error answer) keeps the previous mode.
 */
export type VehicleMode = 'off' | 'parked' | 'idle' | 'moving';

export const MOVING_KMH = 2;
const RUNNING_RPM = 300;

export class ModeTracker {
  mode: VehicleMode = 'off';
  /** Time the current mode began (epoch ms). */
  since = Number.NaN;
  /** Time of the previous sample (epoch ms), NaN before the first. */
  prevTs = Number.NaN;
  /** Seconds since the previous sample (0 for the first). */
  dtS = 0;
  engineRunning = false;

  update(s: DriveSample): VehicleMode {
    this.dtS = Number.isNaN(this.prevTs) ? 0 : Math.max(0, (s.ts - this.prevTs) / 1000);
    this.prevTs = s.ts;
    const obdAwake = s.rpm !== null || s.speedKmh !== null || s.fuelLevelPct !== null;
    const ignitionOn = s.ignition ?? obdAwake;
    let next: VehicleMode;
    if (!ignitionOn) {
      next = 'off';
      this.engineRunning = false;
    } else {
      if (s.rpm !== null) this.engineRunning = s.rpm >= RUNNING_RPM;
      else if (this.mode === 'off') this.engineRunning = s.speedKmh !== null && s.speedKmh > 0;
      if (s.speedKmh === null)
        next = this.mode === 'off' ? (this.engineRunning ? 'idle' : 'parked') : this.mode;
      else if (s.speedKmh >= MOVING_KMH) next = 'moving';
      else next = this.engineRunning ? 'idle' : 'parked';
    }
    if (next !== this.mode || Number.isNaN(this.since)) this.since = s.ts;
    this.mode = next;
    return next;
  }
}
