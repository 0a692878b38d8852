import type { VehicleState } from '../vehicle/model.ts';

/**
 * Service 01 parameter encodings, SAE J1979 / J1979-DA. Each PID turns the vehicle state into
 * its data bytes (A, B, ...); the ECU prefixes the PID number and the 0x41 response service.
 */
export interface PidDefinition {
  readonly pid: number;
  readonly name: string;
  /** Data bytes after the PID number: a multi-PID answer is split by these lengths. */
  readonly length: number;
  encode(state: VehicleState): number[];
}

const clampByte = (v: number): number => Math.min(255, Math.max(0, Math.round(v)));
const u16 = (v: number): number[] => {
  const w = Math.min(0xffff, Math.max(0, Math.round(v)));
  return [w >> 8, w & 0xff];
};

/** PIDs 00, 20, 40, ...: "PIDs supported [n+1 ... n+0x20]" bitmaps, computed by the ECU. */
export const isSupportPid = (pid: number): boolean => pid % 0x20 === 0 && pid <= 0xe0;

/** Data PIDs this ECU can answer, by PID number. Support PIDs are derived, never listed here. */
export const MODE01_PIDS: ReadonlyMap<number, PidDefinition> = new Map(
  (
    [
      {
        // A: bit 7 MIL, bits 0-6 DTC count; B-D: readiness. Spark ignition, monitors complete.
        pid: 0x01,
        name: 'monitor status since DTCs cleared',
        length: 4,
        encode: () => [0x00, 0x07, 0x65, 0x00],
      },
      {
        pid: 0x04,
        name: 'calculated engine load',
        length: 1,
        encode: (s) => [clampByte((s.engineLoadPct * 255) / 100)],
      },
      {
        pid: 0x05,
        name: 'engine coolant temperature',
        length: 1,
        encode: (s) => [clampByte(s.coolantC + 40)],
      },
      { pid: 0x0c, name: 'engine speed', length: 2, encode: (s) => u16(s.rpm * 4) },
      { pid: 0x0d, name: 'vehicle speed', length: 1, encode: (s) => [clampByte(s.speedKmh)] },
      { pid: 0x0f, name: 'intake air temperature', length: 1, encode: (s) => [clampByte(s.intakeC + 40)] },
      { pid: 0x10, name: 'mass air flow rate', length: 2, encode: (s) => u16(s.mafGs * 100) },
      {
        pid: 0x11,
        name: 'throttle position',
        length: 1,
        encode: (s) => [clampByte((s.throttlePct * 255) / 100)],
      },
      { pid: 0x1f, name: 'run time since engine start', length: 2, encode: (s) => u16(s.runTimeS) },
      // PIDs 21 and 31 (J1979-DA: km, 0-65535, A*256+B) count from the fault memory's odometer
      // marks: the ECU answers them from DiagnosticMemory.distancesKm(), not from this encoder.
      { pid: 0x21, name: 'distance traveled with MIL on', length: 2, encode: () => [0, 0] },
      { pid: 0x31, name: 'distance traveled since codes cleared', length: 2, encode: () => [0, 0] },
      {
        pid: 0x2f,
        name: 'fuel tank level input',
        length: 1,
        encode: (s) => [clampByte((s.fuelLevelPct * 255) / 100)],
      },
      { pid: 0x46, name: 'ambient air temperature', length: 1, encode: (s) => [clampByte(s.ambientC + 40)] },
      { pid: 0x51, name: 'fuel type', length: 1, encode: () => [0x01] }, // 01 = gasoline
      { pid: 0x5e, name: 'engine fuel rate', length: 2, encode: (s) => u16(s.fuelRateLph * 20) },
      {
        pid: 0xa6,
        name: 'odometer',
        length: 4,
        encode: (s) => {
          const tenths = Math.min(0xffffffff, Math.max(0, Math.round(s.odometerKm * 10)));
          return [(tenths >>> 24) & 0xff, (tenths >>> 16) & 0xff, (tenths >>> 8) & 0xff, tenths & 0xff];
        },
      },
    ] satisfies PidDefinition[]
  ).map((d) => [d.pid, d]),
);

/**
 * The four bytes of support PID `base` (0x00, 0x20, ...): bit 31 of A..D is PID base+1, bit 0 is
 * PID base+0x20, which itself is set when any PID above it is supported (J1979 chaining).
 */
export function supportBitmap(base: number, dataPids: ReadonlySet<number>): number[] {
  let bits = 0;
  for (let i = 1; i <= 0x20; i++) {
    const pid = base + i;
    const supported = isSupportPid(pid) ? hasPidAbove(pid, dataPids) : dataPids.has(pid);
    if (supported) bits |= 1 << (32 - i);
  }
  return [(bits >>> 24) & 0xff, (bits >>> 16) & 0xff, (bits >>> 8) & 0xff, bits & 0xff];
}

/** Whether support PID `pid` is itself supported: 00 always, the others when a PID lies above. */
export function isSupportPidAnswered(pid: number, dataPids: ReadonlySet<number>): boolean {
  return pid === 0 || hasPidAbove(pid, dataPids);
}

function hasPidAbove(pid: number, dataPids: ReadonlySet<number>): boolean {
  for (const p of dataPids) if (p > pid) return true;
  return false;
}
