import { DiagnosticMemory, encodeDtc } from '../vehicle/diagnostics.ts';
import type { VehicleState } from '../vehicle/model.ts';
import { isSupportPid, isSupportPidAnswered, MODE01_PIDS, supportBitmap } from './pids.ts';
import type { ProtocolFamily } from './protocols.ts';

export { encodeDtc } from '../vehicle/diagnostics.ts';

/** Anything that can tell the ECU what the vehicle is doing right now. */
export interface VehicleStateSource {
  state(): VehicleState;
}

export interface EngineEcuOptions {
  /** 17-character VIN answered to service 09 PID 02. */
  vin: string;
  /** Service 01 data PIDs this ECU answers; default: every PID in MODE01_PIDS. */
  pids?: readonly number[];
  /** Stored trouble codes at start, e.g. "P0133"; default: none. Ignored when `diagnostics` is given. */
  dtcs?: readonly string[];
  /** Fault memory shared with a scenario that sets codes while running. */
  diagnostics?: DiagnosticMemory;
}

/** SAE J1979: a positive response's service id is the request's plus 0x40. */
const RESPONSE_OFFSET = 0x40;
/** ISO 15765-4: at most 6 PIDs in one service 01 request (7 bytes of a single frame). */
export const MAX_PIDS_PER_REQUEST = 6;
/** Bytes of PID 01 bytes B-D: spark ignition, misfire/fuel/component monitors complete. */
const READINESS = [0x07, 0x65, 0x00];

/**
 * The engine ECU (CAN id 7E8, K-line address 10) behind the adapter: turns an OBD request
 * (service + PIDs) into the messages it would put on the bus, from the vehicle state at the
 * moment of the request. Returns null when it stays silent: ignition off, unsupported service
 * or PID (the adapter then says NO DATA).
 *
 * On CAN one answer is one (possibly ISO-TP multi-frame) message. On the K-line a message
 * carries at most 7 bytes (SAE J1979 section 6): a multi-PID service 01 request is answered for
 * its first PID only (what most K-line ECUs do; J1979 lets them), the VIN comes as 5 numbered
 * messages and DTCs 3 per message, without the count byte CAN answers start with.
 */
export class EngineEcu {
  readonly diagnostics: DiagnosticMemory;
  private readonly dataPids: ReadonlySet<number>;

  constructor(
    private readonly vehicle: VehicleStateSource,
    private readonly options: EngineEcuOptions,
  ) {
    const pids = options.pids ?? [...MODE01_PIDS.keys()];
    this.dataPids = new Set(pids.filter((p) => MODE01_PIDS.has(p)));
    // Codes are validated here: a bad --dtc fails at construction, not on the first 03.
    this.diagnostics = options.diagnostics ?? new DiagnosticMemory(options.dtcs ?? []);
  }

  get supportedPids(): ReadonlySet<number> {
    return this.dataPids;
  }

  /** The CAN answer (one ISO-TP payload), as before K-line support: kept for callers and tests. */
  respond(request: Uint8Array): Uint8Array | null {
    return this.respondOn('can', request)?.[0] ?? null;
  }

  /** The messages the ECU sends for a request on a protocol family, or null for silence. */
  respondOn(family: ProtocolFamily, request: Uint8Array): Uint8Array[] | null {
    const state = this.vehicle.state();
    if (!state.ignition || request.length === 0) return null;
    const kline = family !== 'can';
    const service = request[0]!;
    const message = (data: number[]): Uint8Array => Uint8Array.from([service + RESPONSE_OFFSET, ...data]);
    switch (service) {
      case 0x01: {
        const pids = kline ? request.subarray(1, 2) : request.subarray(1);
        const data = this.currentData(pids, state);
        return data ? [message(data)] : null;
      }
      case 0x03:
      case 0x07:
      case 0x0a: {
        const memory = this.diagnostics;
        const codes = service === 0x03 ? memory.stored : service === 0x07 ? memory.pending : memory.permanent;
        const bytes = codes.flatMap(encodeDtc);
        // On CAN the count byte comes first (ISO 15765-4); on the K-line, 3 codes per message,
        // padded with 00 00, and one all-zero message when there are none.
        if (!kline) return [message([codes.length, ...bytes])];
        const out: Uint8Array[] = [];
        for (let i = 0; i === 0 || i < bytes.length; i += 6) {
          const chunk = bytes.slice(i, i + 6);
          while (chunk.length < 6) chunk.push(0);
          out.push(message(chunk));
        }
        return out;
      }
      case 0x04:
        this.diagnostics.clear();
        return [message([])];
      case 0x09:
        return this.vehicleInformation(request[1], message, kline);
      default:
        return null;
    }
  }

  private currentData(pids: Uint8Array, state: VehicleState): number[] | null {
    if (pids.length === 0 || pids.length > MAX_PIDS_PER_REQUEST) return null;
    const data: number[] = [];
    for (const pid of pids) {
      if (isSupportPid(pid)) {
        if (isSupportPidAnswered(pid, this.dataPids)) data.push(pid, ...supportBitmap(pid, this.dataPids));
      } else if (pid === 0x01 && this.dataPids.has(pid)) {
        // A: MIL (bit 7) and the number of confirmed codes (bits 0-6); B-D: readiness.
        const memory = this.diagnostics;
        data.push(pid, (memory.milOn ? 0x80 : 0) | Math.min(0x7f, memory.stored.length), ...READINESS);
      } else if (this.dataPids.has(pid)) {
        data.push(pid, ...MODE01_PIDS.get(pid)!.encode(state));
      }
      // An unsupported PID is left out of a multi-PID answer, as a real ECU does.
    }
    return data.length > 0 ? data : null;
  }

  private vehicleInformation(
    pid: number | undefined,
    message: (data: number[]) => Uint8Array,
    kline: boolean,
  ): Uint8Array[] | null {
    const vin = [...this.options.vin].map((c) => c.charCodeAt(0));
    switch (pid) {
      case 0x00:
        // Only PID 02 (VIN) supported; K-line answers carry a message count byte first.
        return [message(kline ? [0x00, 0x01, 0x40, 0x00, 0x00, 0x00] : [0x00, 0x40, 0x00, 0x00, 0x00])];
      case 0x02: {
        if (!kline) {
          // One data item (the VIN), then its 17 ASCII characters: 20 bytes, a multi-frame answer.
          return [message([0x02, 0x01, ...vin])];
        }
        // Five messages numbered 1-5 of 4 bytes each: 3 zero bytes, then the 17 characters.
        const padded = [0, 0, 0, ...vin];
        return [1, 2, 3, 4, 5].map((n) => message([0x02, n, ...padded.slice((n - 1) * 4, n * 4)]));
      }
      default:
        return null;
    }
  }
}
