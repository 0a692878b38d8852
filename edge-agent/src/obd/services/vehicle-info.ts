/**
 * Service 09 (vehicle information): VIN (PID 02) and calibration IDs (PID 04), assembled from the
 * messages, never by dropping byte values (python-OBD's decoder drops bytes 0x00-0x02 by value
 * and so truncates VINs; here every position is structural):
 *
 *   ISO 15765-4   49 02 01 <17 ASCII>            one ISO-TP message; 01 = number of data items
 *   J1850 / ISO   49 02 01 00 00 00 31            five messages, the third byte numbers them,
 *                 49 02 02 44 34 47 50 ...        4 data bytes each, leading 00 are fill bytes
 *
 * VIN validation follows ISO 3779 / 49 CFR 565: 17 characters, no I, O or Q, and for North
 * American vehicles (first character 1-5) the check digit in position 9.
 */
import { AgentErrorCode, isAgentError } from '../../errors.ts';
import type { EcuMessage } from '../frames/assembler.ts';
import type { ObdRequester } from './request.ts';

export interface VinCheck {
  vin: string;
  /** 17 characters from the VIN alphabet (no I, O, Q). */
  valid: boolean;
  problems: string[];
  /** Check digit (position 9) right: true/false for North American VINs, null elsewhere. */
  checkDigitValid: boolean | null;
}

/** ISO 3779 transliteration for the check digit (49 CFR 565.15). */
const TRANSLITERATION: Readonly<Record<string, number>> = {
  A: 1,
  B: 2,
  C: 3,
  D: 4,
  E: 5,
  F: 6,
  G: 7,
  H: 8,
  J: 1,
  K: 2,
  L: 3,
  M: 4,
  N: 5,
  P: 7,
  R: 9,
  S: 2,
  T: 3,
  U: 4,
  V: 5,
  W: 6,
  X: 7,
  Y: 8,
  Z: 9,
};
const WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];

/** The check digit a 17-character VIN must carry in position 9 ('0'-'9' or 'X'). */
export function vinCheckDigit(vin: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const c = vin[i] ?? '0';
    const value = /\d/.test(c) ? Number(c) : (TRANSLITERATION[c] ?? 0);
    sum += value * WEIGHTS[i]!;
  }
  const r = sum % 11;
  return r === 10 ? 'X' : String(r);
}

export function validateVin(vin: string): VinCheck {
  const problems: string[] = [];
  if (vin.length !== 17) problems.push(`${vin.length} characters instead of 17`);
  const bad = [...new Set(vin.replace(/[A-HJ-NPR-Z0-9]/g, ''))];
  if (bad.length > 0) problems.push(`characters not allowed in a VIN: ${bad.join(' ')}`);
  const valid = problems.length === 0;
  // The check digit is mandatory for vehicles built for North America (WMI 1-5).
  let checkDigitValid: boolean | null = null;
  if (valid && /^[1-5]/.test(vin)) {
    checkDigitValid = vin[8] === vinCheckDigit(vin);
    if (!checkDigitValid) problems.push(`check digit ${vin[8]} should be ${vinCheckDigit(vin)}`);
  }
  return { vin, valid, problems, checkDigitValid };
}

const isPrintable = (b: number) => b >= 0x20 && b <= 0x7e;

/**
 * The data bytes of service 09 PID `pid` from one ECU's messages: the CAN form (one message,
 * item count dropped) or the numbered legacy form (messages sorted by their number).
 */
function infoBytes(messages: readonly EcuMessage[], pid: number): number[] | null {
  const mine = messages.filter((m) => m.data[0] === 0x49 && m.data[1] === pid);
  if (mine.length === 0) return null;
  if (mine.length === 1 && mine[0]!.data.length > 7) return mine[0]!.data.slice(2);
  // Legacy: 49 pid nn a b c d, nn = 1, 2, ...
  const sorted = [...mine].sort((a, b) => (a.data[2] ?? 0) - (b.data[2] ?? 0));
  return sorted.flatMap((m) => m.data.slice(3));
}

/** One ECU's 09 02 messages -> VIN text, or null when they hold no 17 printable characters. */
export function decodeVin(messages: readonly EcuMessage[]): string | null {
  const multiFrame = messages.filter((m) => m.data[0] === 0x49 && m.data[1] === 0x02).length === 1;
  let bytes = infoBytes(messages, 0x02);
  if (!bytes) return null;
  // CAN: 1 item count byte, then 17 characters; some ECUs leave the count out or pad with 00.
  if (multiFrame && bytes.length >= 18 && bytes[0] === 0x01) bytes = bytes.slice(1);
  let start = 0;
  while (start < bytes.length && bytes[start] === 0x00 && bytes.length - start > 17) start++;
  bytes = bytes.slice(start);
  let end = bytes.length;
  while (end > 17 && bytes[end - 1] === 0x00) end--;
  bytes = bytes.slice(0, end);
  if (bytes.length !== 17 || !bytes.every(isPrintable)) return null;
  return String.fromCharCode(...bytes);
}

/** One ECU's 09 04 messages -> calibration IDs (16 characters each, 00-padded). */
export function decodeCalibrationIds(messages: readonly EcuMessage[]): string[] {
  const single = messages.filter((m) => m.data[0] === 0x49 && m.data[1] === 0x04).length === 1;
  let bytes = infoBytes(messages, 0x04);
  if (!bytes) return [];
  // CAN: item count first, then count x 16 bytes.
  if (single && bytes.length % 16 === 1 && bytes[0] === (bytes.length - 1) / 16) bytes = bytes.slice(1);
  const ids: string[] = [];
  for (let i = 0; i + 16 <= bytes.length; i += 16) {
    const chunk = bytes.slice(i, i + 16);
    const end = chunk.indexOf(0x00);
    const text = chunk.slice(0, end === -1 ? 16 : end);
    if (text.length > 0 && text.every(isPrintable)) ids.push(String.fromCharCode(...text).trim());
  }
  return ids;
}

const byEcu = (messages: readonly EcuMessage[]): Map<string, EcuMessage[]> => {
  const groups = new Map<string, EcuMessage[]>();
  for (const m of messages) groups.set(m.ecu, [...(groups.get(m.ecu) ?? []), m]);
  return groups;
};

export interface VinReading extends VinCheck {
  ecu: string;
}

/** VIN from the first ECU that answers one (usually the engine ECU alone); null if none does. */
export async function readVin(requester: ObdRequester): Promise<VinReading | null> {
  let messages: EcuMessage[];
  try {
    messages = await requester.request('0902', { timeoutMs: 5000 });
  } catch (err) {
    if (isAgentError(err, AgentErrorCode.ObdNoData) || isAgentError(err, AgentErrorCode.ObdNegativeResponse))
      return null;
    throw err;
  }
  for (const [ecu, group] of byEcu(messages)) {
    const vin = decodeVin(group);
    if (vin) return { ecu, ...validateVin(vin) };
  }
  return null;
}

export async function readCalibrationIds(requester: ObdRequester): Promise<{ ecu: string; ids: string[] }[]> {
  let messages: EcuMessage[];
  try {
    messages = await requester.request('0904', { timeoutMs: 5000 });
  } catch (err) {
    if (isAgentError(err, AgentErrorCode.ObdNoData) || isAgentError(err, AgentErrorCode.ObdNegativeResponse))
      return [];
    throw err;
  }
  return [...byEcu(messages)].map(([ecu, group]) => ({ ecu, ids: decodeCalibrationIds(group) }));
}
