import { SimError, SimErrorCode } from '../errors.ts';
import { hashString, Random } from './random.ts';

/** VIN characters: digits and capitals except I, O, Q (ISO 3779 / 49 CFR 565.4). */
const VIN_ALPHABET = '0123456789ABCDEFGHJKLMNPRSTUVWXYZ';
const DIGITS = '0123456789';

/** 49 CFR 565.15 transliteration of letters to values for the check digit. */
// biome-ignore format: the table reads as the regulation prints it
const TRANSLITERATION: Record<string, number> = {
  A: 1, B: 2, C: 3, D: 4, E: 5, F: 6, G: 7, H: 8,
  J: 1, K: 2, L: 3, M: 4, N: 5, P: 7, R: 9,
  S: 2, T: 3, U: 4, V: 5, W: 6, X: 7, Y: 8, Z: 9,
};
const WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];

function charValue(c: string): number {
  if (c >= '0' && c <= '9') return c.charCodeAt(0) - 48;
  const v = TRANSLITERATION[c];
  if (v === undefined) throw new SimError(SimErrorCode.InvalidVin, `invalid VIN character "${c}"`);
  return v;
}

/** The check digit (position 9) for a 17-character VIN, whatever its position 9 holds now. */
export function vinCheckDigit(vin: string): string {
  if (vin.length !== 17) throw new SimError(SimErrorCode.InvalidVin, `a VIN has 17 characters: "${vin}"`);
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += charValue(vin[i]!) * WEIGHTS[i]!;
  const r = sum % 11;
  return r === 10 ? 'X' : String(r);
}

export function isValidVin(vin: string): boolean {
  if (!/^[0-9A-HJ-NPR-Z]{17}$/.test(vin)) return false;
  return vin[8] === vinCheckDigit(vin);
}

/**
 * A fixed, valid VIN for a vehicle id: same id, same VIN, run after run. WMI "1SV" (made-up,
 * North American range) keeps the digits 0, 1 and 2 in play on purpose: a known decoder bug
 * truncates VINs containing them, and a simulator that never produces them would hide it.
 */
export function vinForVehicle(vehicleId: string): string {
  const rng = new Random(hashString(`vin:${vehicleId}`));
  const vds = Array.from({ length: 5 }, () => rng.pick([...VIN_ALPHABET])).join('');
  const modelYear = 'R'; // 2024 (49 CFR 565.15 year codes)
  const plant = rng.pick([...'ABCDEFGHJKLMNPRSTUVWXYZ']);
  const serial = `0${Array.from({ length: 5 }, () => rng.pick([...DIGITS])).join('')}`;
  const draft = `1SV${vds}0${modelYear}${plant}${serial}`;
  return `${draft.slice(0, 8)}${vinCheckDigit(draft)}${draft.slice(9)}`;
}
