import { SimError, SimErrorCode } from '../errors.ts';

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

  constructor(stored: readonly string[] = []) {
    for (const code of stored) this.store(code);
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
    if (!this.storedCodes.includes(c)) this.storedCodes.push(c);
    if (!this.permanentCodes.includes(c)) this.permanentCodes.push(c);
  }

  /** Service 04: what a scan tool's "clear codes" does. */
  clear(): void {
    const cleared = [...this.storedCodes, ...this.pendingCodes];
    this.pendingCodes = [];
    this.storedCodes = [];
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
