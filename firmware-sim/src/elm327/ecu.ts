import { DiagnosticMemory, encodeDtc } from '../vehicle/diagnostics.ts';
import type { VehicleState } from '../vehicle/model.ts';
import { OnBoardMonitors } from '../vehicle/monitors.ts';
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
  /** Service 06 test results (CAN only); default: a healthy engine's. */
  monitors?: OnBoardMonitors;
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
  readonly monitors: OnBoardMonitors;
  private readonly dataPids: ReadonlySet<number>;

  constructor(
    private readonly vehicle: VehicleStateSource,
    private readonly options: EngineEcuOptions,
  ) {
    const pids = options.pids ?? [...MODE01_PIDS.keys()];
    this.dataPids = new Set(pids.filter((p) => MODE01_PIDS.has(p)));
    // Codes are validated here: a bad --dtc fails at construction, not on the first 03.
    this.diagnostics = options.diagnostics ?? new DiagnosticMemory(options.dtcs ?? []);
    this.diagnostics.attach(vehicle);
    this.monitors = options.monitors ?? new OnBoardMonitors();
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
      case 0x02: {
        // Pairs of (PID, frame); the K-line answers the first pair only, like service 01.
        const pairs = kline ? request.subarray(1, 3) : request.subarray(1);
        const data = this.freezeFrameData(pairs);
        return data ? [message(data)] : null;
      }
      case 0x04:
        this.diagnostics.clear();
        return [message([])];
      case 0x06: {
        // Service 06 in the CAN format only (J1979: OBDMID/TID/UASID records); the older
        // protocols' TID-based format is not simulated, so those ECUs stay silent.
        if (kline || request.length !== 2) return null;
        const data = this.monitorResults(request[1]!, state);
        return data ? [message(data)] : null;
      }
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
      } else if ((pid === 0x21 || pid === 0x31) && this.dataPids.has(pid)) {
        const { milOnKm, sinceClearKm } = this.diagnostics.distancesKm();
        const km = Math.min(0xffff, Math.floor(pid === 0x21 ? milOnKm : sinceClearKm));
        data.push(pid, km >> 8, km & 0xff);
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

  /**
   * Service 02 (J1979 6.2): each (PID, frame) pair answered as PID, frame, data from freeze frame
   * 0. PID 02 is the code that stored the frame (00 00: no frame); support PID 00 lists the PIDs
   * the frame holds; other frames than 0 and PIDs the frame lacks are left out (NO DATA if none).
   */
  private freezeFrameData(pairs: Uint8Array): number[] | null {
    if (pairs.length === 0 || pairs.length % 2 !== 0) return null;
    const frame = this.diagnostics.freezeFrame;
    const framePids = new Set([
      0x02,
      ...[...this.dataPids].filter((p) => p !== 0x01 && p !== 0x21 && p !== 0x31),
    ]);
    const data: number[] = [];
    for (let i = 0; i + 1 < pairs.length; i += 2) {
      const pid = pairs[i]!;
      const n = pairs[i + 1]!;
      if (n !== 0) continue;
      if (isSupportPid(pid)) {
        if (isSupportPidAnswered(pid, framePids)) data.push(pid, n, ...supportBitmap(pid, framePids));
      } else if (pid === 0x02) {
        data.push(pid, n, ...(frame ? encodeDtc(frame.code) : [0, 0]));
      } else if (frame && framePids.has(pid)) {
        data.push(pid, n, ...MODE01_PIDS.get(pid)!.encode(frame.state));
      }
    }
    return data.length > 0 ? data : null;
  }

  /** Service 06: support OBDMIDs (00, 20, ... E0) answer a bitmap; a supported OBDMID its tests. */
  private monitorResults(mid: number, state: VehicleState): number[] | null {
    const mids = new Set(this.monitors.supportedMids);
    if (isSupportPid(mid)) {
      return isSupportPidAnswered(mid, mids) ? [mid, ...supportBitmap(mid, mids)] : null;
    }
    return mids.has(mid) ? this.monitors.results(mid, state) : null;
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
