import { SimError, SimErrorCode } from '../errors.ts';
import type { VehicleState } from '../vehicle/model.ts';
import { isSupportPid, isSupportPidAnswered, MODE01_PIDS, supportBitmap } from './pids.ts';

/** Anything that can tell the ECU what the vehicle is doing right now. */
export interface VehicleStateSource {
  state(): VehicleState;
}

export interface EngineEcuOptions {
  /** 17-character VIN answered to service 09 PID 02. */
  vin: string;
  /** Service 01 data PIDs this ECU answers; default: every PID in MODE01_PIDS. */
  pids?: readonly number[];
  /** Stored trouble codes, e.g. "P0133"; default: none. */
  dtcs?: readonly string[];
}

/** SAE J1979: a positive response's service id is the request's plus 0x40. */
const RESPONSE_OFFSET = 0x40;
/** ISO 15765-4: at most 6 PIDs in one service 01 request (7 bytes of a single frame). */
export const MAX_PIDS_PER_REQUEST = 6;

/**
 * The engine ECU (CAN id 7E8) behind the adapter: turns an OBD request (service + PIDs) into the
 * bytes it would put on the bus, from the vehicle state at the moment of the request. Returns
 * null when it stays silent: ignition off, unsupported service or PID (the adapter then says
 * NO DATA).
 */
export class EngineEcu {
  private readonly dataPids: ReadonlySet<number>;
  private dtcs: string[];

  constructor(
    private readonly vehicle: VehicleStateSource,
    private readonly options: EngineEcuOptions,
  ) {
    const pids = options.pids ?? [...MODE01_PIDS.keys()];
    this.dataPids = new Set(pids.filter((p) => MODE01_PIDS.has(p)));
    this.dtcs = [...(options.dtcs ?? [])];
    for (const dtc of this.dtcs) encodeDtc(dtc); // fail at construction, not on the first 03
  }

  get supportedPids(): ReadonlySet<number> {
    return this.dataPids;
  }

  respond(request: Uint8Array): Uint8Array | null {
    const state = this.vehicle.state();
    if (!state.ignition || request.length === 0) return null;
    const service = request[0]!;
    const reply = (data: number[]): Uint8Array => Uint8Array.from([service + RESPONSE_OFFSET, ...data]);
    switch (service) {
      case 0x01:
        return this.currentData(request.subarray(1), state, reply);
      case 0x03:
      case 0x07:
      case 0x0a:
        // Stored / pending / permanent DTCs. On CAN the count byte comes first (ISO 15765-4).
        // This ECU keeps no pending or permanent codes.
        return reply(service === 0x03 ? this.storedDtcBytes() : [0]);
      case 0x04:
        this.dtcs = [];
        return reply([]);
      case 0x09:
        return this.vehicleInformation(request[1], reply);
      default:
        return null;
    }
  }

  private currentData(
    pids: Uint8Array,
    state: VehicleState,
    reply: (data: number[]) => Uint8Array,
  ): Uint8Array | null {
    if (pids.length === 0 || pids.length > MAX_PIDS_PER_REQUEST) return null;
    const data: number[] = [];
    for (const pid of pids) {
      if (isSupportPid(pid)) {
        if (isSupportPidAnswered(pid, this.dataPids)) data.push(pid, ...supportBitmap(pid, this.dataPids));
      } else if (this.dataPids.has(pid)) {
        data.push(pid, ...MODE01_PIDS.get(pid)!.encode(state));
      }
      // An unsupported PID is left out of a multi-PID answer, as a real ECU does.
    }
    return data.length > 0 ? reply(data) : null;
  }

  private vehicleInformation(
    pid: number | undefined,
    reply: (data: number[]) => Uint8Array,
  ): Uint8Array | null {
    switch (pid) {
      case 0x00:
        return reply([0x00, 0x40, 0x00, 0x00, 0x00]); // only PID 02 (VIN) supported
      case 0x02:
        // One data item (the VIN), then its 17 ASCII characters: 20 bytes, a multi-frame answer.
        return reply([0x02, 0x01, ...[...this.options.vin].map((c) => c.charCodeAt(0))]);
      default:
        return null;
    }
  }

  private storedDtcBytes(): number[] {
    return [this.dtcs.length, ...this.dtcs.flatMap(encodeDtc)];
  }
}

/** "P0133" -> [0x01, 0x33]: the first two bits choose P/C/B/U (SAE J2012). */
export function encodeDtc(code: string): [number, number] {
  const m = /^([PCBU])([0-3])([0-9A-F]{3})$/.exec(code.toUpperCase());
  if (!m) throw new SimError(SimErrorCode.InvalidDtc, `invalid DTC "${code}" (expected like P0133)`);
  const system = 'PCBU'.indexOf(m[1]!);
  const value = (system << 14) | (Number.parseInt(m[2]!, 16) << 12) | Number.parseInt(m[3]!, 16);
  return [value >> 8, value & 0xff];
}
