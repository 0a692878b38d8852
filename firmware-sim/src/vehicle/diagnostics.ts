import { SimError, SimErrorCode } from '../errors.ts';
import type { VehicleState } from './model.ts';

/**
 * Freeze frame 0 (SAE J1979 service 02): the vehicle's state at the moment the code that caused
 * it was stored. J1979 keeps one frame for the first code (misfire and fuel-system codes may
 * overwrite it; this ECU keeps the first); service 04 erases it.
 */
export interface FreezeFrame {
  /** The code that caused the frame (service 02 PID 02). */
  code: string;
  state: VehicleState;
}

/**
 * The engine ECU's fault memory (SAE J1979 services 03, 07, 0A and PID 01), shared by the ECU
 * that answers the host and the scenario that sets codes:
 *
 *   pending (07)    a monitor failed once; no lamp yet
 *   stored (03)     confirmed; the MIL is on (PID 01 byte A bit 7, DTC count in bits 0-6)
 *   permanent (0A)  every code that lit the MIL; service 04 does not erase these
 *
 * Service 04 (clear) erases pending and stored codes and turns the MIL off.
 */
export class DiagnosticMemory {
  private pendingCodes: string[] = [];
  private storedCodes: string[] = [];
  private permanentCodes: string[] = [];
  private readonly clearListeners = new Set<(cleared: readonly string[]) => void>();
  private vehicle: { state(): VehicleState } | null = null;
  private frame: FreezeFrame | null = null;
  /** Odometer when the MIL came on (PID 21) and when the codes were last cleared (PID 31). */
  private milOnAtKm: number | null = null;
  private clearedAtKm: number | null = null;

  constructor(stored: readonly string[] = []) {
    for (const code of stored) this.store(code);
  }

  /**
   * The vehicle whose state a freeze frame captures and whose odometer PIDs 21 and 31 count from
   * (the engine ECU attaches it). Codes stored before (a vehicle that starts with its MIL on)
   * get their frame and distances from this moment: the simulation knows no earlier history.
   */
  attach(vehicle: { state(): VehicleState }): void {
    this.vehicle = vehicle;
    const state = vehicle.state();
    this.clearedAtKm ??= state.odometerKm;
    if (this.storedCodes.length > 0) {
      this.milOnAtKm ??= state.odometerKm;
      this.frame ??= { code: this.storedCodes[0]!, state };
    }
  }

  /** Frame 0, or null when no code stored one since the last clear. */
  get freezeFrame(): FreezeFrame | null {
    return this.frame;
  }

  /**
   * PID 21 (distance travelled with the MIL on) and PID 31 (since the codes were cleared), km.
   * J1979: 21 is 0 while the MIL is off and holds at 65535; 31 counts from the last service 04
   * (here from the attach when never cleared).
   */
  distancesKm(): { milOnKm: number; sinceClearKm: number } {
    const odometerKm = this.vehicle?.state().odometerKm ?? 0;
    const since = (from: number | null) => (from === null ? 0 : Math.max(0, odometerKm - from));
    return { milOnKm: this.milOn ? since(this.milOnAtKm) : 0, sinceClearKm: since(this.clearedAtKm) };
  }

  get pending(): readonly string[] {
    return this.pendingCodes;
  }

  get stored(): readonly string[] {
    return this.storedCodes;
  }

  get permanent(): readonly string[] {
    return this.permanentCodes;
  }

  /** Emission-related confirmed codes light the MIL (J1979: PID 01 byte A bit 7). */
  get milOn(): boolean {
    return this.storedCodes.length > 0;
  }

  /** A monitor failed once: the code shows in service 07 only. */
  setPending(code: string): void {
    const c = normaliseDtc(code);
    if (!this.pendingCodes.includes(c) && !this.storedCodes.includes(c)) this.pendingCodes.push(c);
  }

  /** Confirmed: service 03 reports it, the MIL comes on, and it becomes permanent (0A). */
  store(code: string): void {
    const c = normaliseDtc(code);
    this.pendingCodes = this.pendingCodes.filter((p) => p !== c);
    const state = this.vehicle?.state();
    if (state && this.storedCodes.length === 0) this.milOnAtKm = state.odometerKm;
    if (state && this.frame === null) this.frame = { code: c, state };
    if (!this.storedCodes.includes(c)) this.storedCodes.push(c);
    if (!this.permanentCodes.includes(c)) this.permanentCodes.push(c);
  }

  /** Service 04: what a scan tool's "clear codes" does. */
  clear(): void {
    const cleared = [...this.storedCodes, ...this.pendingCodes];
    this.pendingCodes = [];
    this.storedCodes = [];
    // J1979 service 04 also erases the freeze frame and restarts PID 31's count.
    this.frame = null;
    this.milOnAtKm = null;
    this.clearedAtKm = this.vehicle?.state().odometerKm ?? null;
    for (const listener of this.clearListeners) listener(cleared);
  }

  /** Told when a host clears the codes (a label's end). */
  onClear(listener: (cleared: readonly string[]) => void): () => void {
    this.clearListeners.add(listener);
    return () => this.clearListeners.delete(listener);
  }
}

/** "p0133" -> "P0133"; throws on anything that is not a J2012 code. */
export function normaliseDtc(code: string): string {
  const c = code.trim().toUpperCase();
  if (!/^[PCBU][0-3][0-9A-F]{3}$/.test(c)) {
    throw new SimError(SimErrorCode.InvalidDtc, `invalid DTC "${code}" (expected like P0133)`);
  }
  return c;
}

/** "P0133" -> [0x01, 0x33]: the first two bits choose P/C/B/U (SAE J2012). */
export function encodeDtc(code: string): [number, number] {
  const c = normaliseDtc(code);
  const system = 'PCBU'.indexOf(c[0]!);
  const value = (system << 14) | (Number.parseInt(c[1]!, 16) << 12) | Number.parseInt(c.slice(2), 16);
  return [value >> 8, value & 0xff];
}
