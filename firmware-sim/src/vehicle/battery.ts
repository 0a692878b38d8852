/**
 * The 12 V lead-acid starter battery as the OBD socket sees it (ATRV), for vehicles whose
 * scenario gives a `battery` section: a resting (open-circuit) voltage parked, a dip while the
 * starter cranks, and a battery that weakens day by day (sulphation, lost capacity: both fall).
 * Without the section the model keeps its older battery (no crank dip, a fixed 12.3-12.6 V rest).
 *
 * Sources for the defaults:
 * - resting 12.65 V: a fully charged 12 V lead-acid battery at 25 °C reads 12.6-12.7 V open
 *   circuit (Battery Council International, "Battery Service Manual"; 12.4 V is ~75 %, 12.2 V ~50 %).
 * - cranking 10.5 V: a healthy battery holds 10-11 V while a warm petrol engine cranks; the
 *   load test fails one that falls below 9.6 V at 21 °C (BCI load test, SAE J537 cold cranking).
 * - 2 s of cranking: 0.5-2 s for a warm petrol engine; longer when the battery is weak or cold.
 */
export interface BatteryParams {
  /** [10...13.5] V, default 12.65: open-circuit voltage of the new battery, parked and settled. */
  restingV: number;
  /** [6...12] V, default 10.5: socket voltage while the starter turns, new battery. */
  crankV: number;
  /** [0...10] V per simulated day, default 0: how fast the cranking voltage falls as it ages. */
  crankFadeVPerDay: number;
  /** [0...5] V per simulated day, default 0: how fast the resting voltage falls. */
  restingFadeVPerDay: number;
  /**
   * [0...1] V per engine start, default 0: each start on short trips takes more charge than the
   * drive puts back, and a battery kept partly charged sulphates; a test compresses weeks of
   * that into a few starts with it.
   */
  crankFadeVPerStart: number;
  /** [1...30] simulated s, default 2: how long the starter turns at each start. */
  crankS: number;
}

export const DEFAULT_BATTERY: BatteryParams = {
  restingV: 12.65,
  crankV: 10.5,
  crankFadeVPerDay: 0,
  restingFadeVPerDay: 0,
  crankFadeVPerStart: 0,
  crankS: 2,
};

const DAY_MS = 86_400_000;

export class Battery {
  readonly params: BatteryParams;
  /** Engine starts before the current one: 0 for the vehicle's first (running at construction). */
  private starts = 0;

  constructor(
    /** Epoch ms the battery's age counts from (the simulation's start). */
    private readonly sinceMs: number,
    params: Partial<BatteryParams> = {},
  ) {
    this.params = { ...DEFAULT_BATTERY, ...params };
  }

  private ageDays(simTimeMs: number): number {
    return Math.max(0, simTimeMs - this.sinceMs) / DAY_MS;
  }

  /**
   * Parked, `offForS` after the engine stopped: the alternator's surface charge fades over about
   * half an hour (+0.3 V at first) to the open-circuit voltage; never below 10.5 V (a flat battery).
   */
  restingV(simTimeMs: number, offForS: number): number {
    const aged = this.params.restingV - this.params.restingFadeVPerDay * this.ageDays(simTimeMs);
    return Math.max(10.5, aged + 0.3 * Math.exp(-offForS / 600));
  }

  /** The key turned to start: one more start on the battery. */
  started(): void {
    this.starts += 1;
  }

  /** While the starter turns: the aged cranking voltage, never below 5 V (starter stalls). */
  crankV(simTimeMs: number): number {
    const p = this.params;
    const fade =
      p.crankFadeVPerDay * this.ageDays(simTimeMs) + p.crankFadeVPerStart * Math.max(0, this.starts);
    return Math.max(5, p.crankV - fade);
  }
}
