/**
 * Supported-PID discovery (SAE J1979, service 01 PIDs 00, 20, 40, ... C0, E0): each answer is a
 * 32-bit map, bit 31 (A7) = PID base+1 ... bit 0 (D0) = PID base+0x20; that last bit says the
 * next map exists. With headers on every ECU answers for itself (7E8 engine, 7E9 transmission,
 * ...), so the maps are kept per ECU.
 */
import { AgentErrorCode, isAgentError } from '../../errors.ts';
import type { SupportMap } from './current-data.ts';
import { splitMode01 } from './current-data.ts';
import { hex2, type ObdRequester } from './request.ts';

/** The PIDs a 4-byte map of support PID `base` announces (base+0x20 included when set). */
export function parseSupportBitmap(base: number, bytes: readonly number[]): number[] {
  const pids: number[] = [];
  for (let i = 0; i < 32; i++) {
    const byte = bytes[i >> 3] ?? 0;
    if ((byte >> (7 - (i & 7))) & 1) pids.push(base + i + 1);
  }
  return pids;
}

/** Mutable while discovery runs; handed out read-only. */
type MutableSupport = Map<string, Set<number>>;

/**
 * Merges the messages answering `01 base` into `support`; returns whether any ECU announced the
 * next map (its bit for base+0x20).
 */
export function mergeSupportAnswer(
  base: number,
  messages: readonly { ecu: string; data: number[] }[],
  support: MutableSupport,
): boolean {
  let more = false;
  for (const { ecu, data } of messages) {
    const bitmap = splitMode01(data).values.get(base);
    if (bitmap?.length !== 4) continue;
    const pids = parseSupportBitmap(base, bitmap);
    let set = support.get(ecu);
    if (!set) {
      set = new Set();
      support.set(ecu, set);
    }
    for (const pid of pids) set.add(pid);
    if (pids.includes(base + 0x20)) more = true;
  }
  return more;
}

/**
 * Asks 0100, then 0120, 0140, ... while an ECU announces the next map. NO DATA on a later map
 * ends the walk (a map promised but not answered happens on real ECUs); on 0100 it propagates:
 * no vehicle.
 */
export async function discoverSupportedPids(requester: ObdRequester, timeoutMs = 2000): Promise<SupportMap> {
  const support: MutableSupport = new Map();
  for (let base = 0x00; base <= 0xe0; base += 0x20) {
    let messages: Awaited<ReturnType<ObdRequester['request']>>;
    try {
      messages = await requester.request(`01${hex2(base)}`, { timeoutMs });
    } catch (err) {
      if (
        base > 0 &&
        isAgentError(err) &&
        (err.code === AgentErrorCode.ObdNoData || err.code === AgentErrorCode.ObdNegativeResponse)
      )
        break;
      throw err;
    }
    if (!mergeSupportAnswer(base, messages, support)) break;
  }
  return support;
}

/** Every data PID any ECU supports (the support PIDs themselves left out). */
export function allSupported(support: SupportMap): Set<number> {
  const all = new Set<number>();
  for (const set of support.values()) for (const pid of set) if (pid % 0x20 !== 0) all.add(pid);
  return all;
}
