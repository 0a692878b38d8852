import type { VehicleState } from './model.ts';

/**
 * On-board monitor test results (SAE J1979 service 06, ISO 15765-4 / CAN format) of a 4-cylinder
 * petrol engine: what a scan tool's "mode 06" shows. One test result is 9 bytes:
 *
 *   OBDMID  TID  UASID  value(2)  min(2)  max(2)      (J1979 section 6.6, CAN only)
 *
 * The monitors simulated (OBDMIDs from J1979 Appendix D, TIDs from Appendix E):
 *   0x21      catalyst monitor bank 1: TID 0xA9, a manufacturer TID (Toyota reports the catalyst's
 *             oxygen storage capacity there, 0.0003 per bit); UASID 0x01 (raw value, unsigned);
 *             passes while value >= min.
 *   0xA2-A5   misfire cylinder 1-4: TID 0x0B (EWMA misfire counts of the last 10 driving cycles)
 *             and TID 0x0C (misfire counts of the last/current driving cycle); UASID 0x24
 *             (counts, 1 per bit). Limits are the manufacturer's; here max = `misfireLimit`.
 *
 * Misfires: a 4-stroke cylinder fires once every 2 revolutions; the engine is taken to turn at a
 * city-driving mean of 1500 rpm (25 rev/s), so a cylinder misfiring `misfirePct` % of its firings
 * counts runTimeS x 12.5 x pct / 100 in a cycle. A driving cycle ends at ignition off; the ECU
 * folds it into the EWMA (weight 0.1, J1979's "last 10 cycles") when it sees the next cycle begin.
 */
export interface MonitorParams {
  /** [1...4] the misfiring cylinder, or null (default): all fire. */
  misfireCylinder: number | null;
  /** [0...100] % of that cylinder's firings that misfire, default 2. */
  misfirePct: number;
  /** [1...65535] counts per driving cycle above which a cylinder fails (TIDs 0B/0C max), default 30. */
  misfireLimit: number;
  /** [0...65535] catalyst test value (raw), default 420; min limit 200 (fails below). */
  catalystValue: number;
}

export const DEFAULT_MONITORS: MonitorParams = {
  misfireCylinder: null,
  misfirePct: 2,
  misfireLimit: 30,
  catalystValue: 420,
};

/** OBDMIDs this ECU supports. */
export const CATALYST_MID = 0x21;
export const MISFIRE_MIDS = [0xa2, 0xa3, 0xa4, 0xa5] as const;
const CATALYST_TID = 0xa9;
const CATALYST_MIN = 200;
const CATALYST_MAX = 0xffff;
const TID_MISFIRE_EWMA = 0x0b;
const TID_MISFIRE_CYCLE = 0x0c;
const UASID_RAW = 0x01;
const UASID_COUNTS = 0x24;
const FIRINGS_PER_S = 12.5;

export class OnBoardMonitors {
  readonly params: MonitorParams;
  private ewma = [0, 0, 0, 0];
  private lastRunTimeS = 0;
  private lastCycle = [0, 0, 0, 0];

  constructor(params: Partial<MonitorParams> = {}) {
    this.params = { ...DEFAULT_MONITORS, ...params };
  }

  get supportedMids(): readonly number[] {
    return [CATALYST_MID, ...MISFIRE_MIDS];
  }

  /** Misfire counts of the current driving cycle, cylinders 1-4. */
  cycleCounts(state: VehicleState): number[] {
    const { misfireCylinder, misfirePct } = this.params;
    return [1, 2, 3, 4].map((cyl) =>
      cyl === misfireCylinder ? Math.floor((state.runTimeS * FIRINGS_PER_S * misfirePct) / 100) : 0,
    );
  }

  /** The test results (9 bytes each) of one OBDMID, or null when it is not supported. */
  results(mid: number, state: VehicleState): number[] | null {
    this.followCycles(state);
    const u16 = (v: number) => {
      const w = Math.min(0xffff, Math.max(0, Math.round(v)));
      return [w >> 8, w & 0xff];
    };
    if (mid === CATALYST_MID) {
      return [
        mid,
        CATALYST_TID,
        UASID_RAW,
        ...u16(this.params.catalystValue),
        ...u16(CATALYST_MIN),
        ...u16(CATALYST_MAX),
      ];
    }
    const cylinder = (MISFIRE_MIDS as readonly number[]).indexOf(mid);
    if (cylinder < 0) return null;
    const limit = u16(this.params.misfireLimit);
    const cycle = this.cycleCounts(state)[cylinder]!;
    return [
      ...[mid, TID_MISFIRE_EWMA, UASID_COUNTS, ...u16(this.ewma[cylinder]!), 0, 0, ...limit],
      ...[mid, TID_MISFIRE_CYCLE, UASID_COUNTS, ...u16(cycle), 0, 0, ...limit],
    ];
  }

  /** A run time that went back means a new driving cycle: fold the last one into the EWMA. */
  private followCycles(state: VehicleState): void {
    if (state.runTimeS < this.lastRunTimeS) {
      this.ewma = this.ewma.map((e, i) => e * 0.9 + this.lastCycle[i]! * 0.1);
    }
    this.lastRunTimeS = state.runTimeS;
    this.lastCycle = this.cycleCounts(state);
  }
}
