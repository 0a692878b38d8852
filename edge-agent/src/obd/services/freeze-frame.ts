/**
 * Service 02: freeze frame 0, the engine's state stored with the code that set it (SAE J1979
 * section 6.2). Request `02 PID frame` (one pair per request: CAN takes up to three, the older
 * protocols one, so one works everywhere); answer `42 PID frame data`, the data scaled as service
 * 01 scales the same PID (J1979-DA). PID 02 is the code that stored the frame, `00 00` when none.
 */
import { AgentError, AgentErrorCode, isAgentError } from '../../errors.ts';
import { dtcFromBytes, MODE01, type PidValue } from '../pids.ts';
import { hex2, type ObdRequester } from './request.ts';

/**
 * What a technician wants to see of the moment a code set: load, coolant, rpm, speed, throttle
 * (the list), and the fuel trims, intake and MAF when the vehicle kept them.
 */
export const FREEZE_FRAME_PIDS: readonly number[] = [0x04, 0x05, 0x0c, 0x0d, 0x11, 0x06, 0x07, 0x0f, 0x10];

export interface FreezeFrame {
  /** The code that stored the frame (PID 02). */
  code: string;
  /** Decoded values by service 01 key (engineRpm, vehicleSpeed, ...): what the frame holds. */
  values: Record<string, PidValue>;
}

/** `42 PID 00 data...` for `pid` -> its data bytes; throws HealthBadFreezeFrame on anything else. */
export function freezeFrameData(message: readonly number[], pid: number): number[] {
  if (message[0] !== 0x42 || message[1] !== pid || message[2] !== 0x00) {
    throw new AgentError(
      AgentErrorCode.HealthBadFreezeFrame,
      `02${hex2(pid)}00: unexpected answer ${message.map(hex2).join(' ')}`,
    );
  }
  return [...message.slice(3)];
}

/** The support bitmap of `02 00 00`: which PIDs 01-20 the frame holds (bit 31 = PID 01). */
function supportedFromBitmap(data: readonly number[]): Set<number> {
  const out = new Set<number>();
  for (let i = 0; i < 32; i++) {
    if (((data[i >> 3] ?? 0) >> (7 - (i & 7))) & 1) out.add(i + 1);
  }
  return out;
}

/**
 * Frame 0, or null when the ECU keeps none (PID 02 is 00 00, or it refuses service 02). The PIDs
 * asked are the ones the frame's support bitmap lists (all of `pids` when there is no bitmap).
 */
export async function readFreezeFrame(
  requester: ObdRequester,
  pids: readonly number[] = FREEZE_FRAME_PIDS,
): Promise<FreezeFrame | null> {
  const ask = async (pid: number): Promise<number[] | null> => {
    try {
      const messages = await requester.request(`02${hex2(pid)}00`, { timeoutMs: 2000 });
      const engine = [...messages].sort((a, b) => a.ecu.localeCompare(b.ecu))[0];
      return engine ? freezeFrameData(engine.data, pid) : null;
    } catch (err) {
      if (
        isAgentError(err, AgentErrorCode.ObdNoData) ||
        isAgentError(err, AgentErrorCode.ObdNegativeResponse)
      ) {
        return null;
      }
      throw err;
    }
  };
  const dtc = await ask(0x02);
  if (!dtc || dtc.length < 2 || (dtc[0] === 0 && dtc[1] === 0)) return null;
  const bitmap = await ask(0x00);
  const held = bitmap ? supportedFromBitmap(bitmap) : null;
  const values: Record<string, PidValue> = {};
  for (const pid of pids) {
    if (held && !held.has(pid)) continue;
    const def = MODE01.get(pid);
    const data = def ? await ask(pid) : null;
    if (def && data) values[def.key] = def.decode(data);
  }
  return { code: dtcFromBytes(dtc[0]!, dtc[1]!), values };
}
