/**
 * Service 06: on-board monitor test results, in the ISO 15765-4 (CAN) format of SAE J1979
 * section 6.6. Support: `06 00`, `06 20`, ... `06 E0` answer a 4-byte bitmap of the OBDMIDs
 * above them (bit 31 = base+1; the last bit says the next bitmap exists). A supported OBDMID
 * answers one 9-byte record per test:
 *
 *   OBDMID  TID  UASID  value(2)  min(2)  max(2)
 *
 * A test passes when min <= value <= max (raw, before scaling). The older protocols' TID-based
 * service 06 format is not read: the vehicle must be on CAN (mode 06 on pre-CAN cars differs
 * per manufacturer anyway).
 */
import { AgentError, AgentErrorCode, isAgentError } from '../../errors.ts';
import { hex2, type ObdRequester } from './request.ts';

export interface MonitorTest {
  mid: number;
  tid: number;
  /** Unit and scaling id (J1979 Appendix E). */
  uasid: number;
  /** Scaled by the UASID when known (counts, raw), else raw. */
  value: number;
  min: number;
  max: number;
  /** Unit of value/min/max: 'counts', or '' (raw). */
  unit: string;
  passed: boolean;
}

/** J1979 Appendix D: misfire monitors A2 (cylinder 1) ... AD (cylinder 12); A1 is the general one. */
export const MISFIRE_MID_FIRST = 0xa2;
export const MISFIRE_MID_LAST = 0xad;
/** Catalyst monitors bank 1 (21) to bank 4 (24). */
export const CATALYST_MIDS: readonly number[] = [0x21, 0x22, 0x23, 0x24];
/** TID 0B: EWMA misfire counts of the last 10 driving cycles; 0C: counts of the last/current cycle. */
export const TID_MISFIRE_EWMA = 0x0b;
export const TID_MISFIRE_CYCLE = 0x0c;

/** Appendix E scalings read here; others stay raw. */
const UASID: Readonly<Record<number, { scale: number; unit: string; signed?: boolean }>> = {
  1: { scale: 1, unit: '' }, // raw value, unsigned
  36: { scale: 1, unit: 'counts' },
};

/** One service 06 answer (`46` then records) -> its tests; throws HealthBadMonitorRecord. */
export function parseMonitorResults(data: readonly number[]): MonitorTest[] {
  if (data[0] !== 0x46 || (data.length - 1) % 9 !== 0 || data.length === 1) {
    throw new AgentError(
      AgentErrorCode.HealthBadMonitorRecord,
      `service 06: ${data.length - 1} bytes after 46 is not a whole number of 9-byte test results`,
    );
  }
  const out: MonitorTest[] = [];
  for (let i = 1; i < data.length; i += 9) {
    const r = data.slice(i, i + 9);
    const u16 = (j: number) => r[j]! * 256 + r[j + 1]!;
    const [value, min, max] = [u16(3), u16(5), u16(7)];
    const scaling = UASID[r[2]!];
    const scale = scaling?.scale ?? 1;
    out.push({
      mid: r[0]!,
      tid: r[1]!,
      uasid: r[2]!,
      value: value * scale,
      min: min * scale,
      max: max * scale,
      unit: scaling?.unit ?? '',
      passed: value >= min && value <= max,
    });
  }
  return out;
}

/** `46 base A B C D` -> the OBDMIDs it lists (support MIDs included: they chain). */
export function monitorIdsFromBitmap(data: readonly number[]): number[] {
  const base = data[1] ?? 0;
  const out: number[] = [];
  for (let i = 0; i < 32; i++) {
    if (((data[2 + (i >> 3)] ?? 0) >> (7 - (i & 7))) & 1) out.push(base + i + 1);
  }
  return out;
}

const refused = (err: unknown) =>
  isAgentError(err, AgentErrorCode.ObdNoData) || isAgentError(err, AgentErrorCode.ObdNegativeResponse);

/** Every OBDMID the engine ECU supports (empty: no service 06), following the support chain. */
export async function discoverMonitorIds(requester: ObdRequester): Promise<number[]> {
  const mids: number[] = [];
  for (let base = 0; base <= 0xe0; base += 0x20) {
    let messages: Awaited<ReturnType<ObdRequester['request']>>;
    try {
      messages = await requester.request(`06${hex2(base)}`, { timeoutMs: 2000 });
    } catch (err) {
      if (refused(err)) break;
      throw err;
    }
    const answer = messages.find((m) => m.data[1] === base);
    if (!answer) break;
    const listed = monitorIdsFromBitmap(answer.data);
    mids.push(...listed.filter((m) => m % 0x20 !== 0));
    if (!listed.includes(base + 0x20)) break;
  }
  return mids;
}

/** The tests of the OBDMIDs asked (those the ECU refuses are left out). */
export async function readMonitorResults(
  requester: ObdRequester,
  mids: readonly number[],
): Promise<MonitorTest[]> {
  const out: MonitorTest[] = [];
  for (const mid of mids) {
    try {
      const messages = await requester.request(`06${hex2(mid)}`, { timeoutMs: 2000 });
      const engine = [...messages].sort((a, b) => a.ecu.localeCompare(b.ecu))[0];
      if (engine) out.push(...parseMonitorResults(engine.data).filter((t) => t.mid === mid));
    } catch (err) {
      if (!refused(err)) throw err;
    }
  }
  return out;
}

/** The monitors a fleet watches: misfire per cylinder and the catalysts. */
export const isWatchedMonitor = (mid: number): boolean =>
  (mid >= MISFIRE_MID_FIRST && mid <= MISFIRE_MID_LAST) || CATALYST_MIDS.includes(mid);
