import { describe, expect, it } from 'vitest';
import { isValidVin, vinCheckDigit, vinForVehicle } from './vin.ts';

describe('VIN', () => {
  it('computes the 49 CFR 565 check digit', () => {
    // Textbook examples with check digits X and 2.
    expect(vinCheckDigit('1M8GDM9AXKP042788')).toBe('X');
    expect(isValidVin('1M8GDM9AXKP042788')).toBe(true);
    expect(isValidVin('1M8GDM9A1KP042788')).toBe(false);
    expect(isValidVin('11111111111111111')).toBe(true);
    expect(isValidVin('1M8GDM9AXKP04278O')).toBe(false); // letter O is not allowed
  });

  it('gives each vehicle id a fixed, valid VIN', () => {
    const a = vinForVehicle('van-1');
    expect(a).toHaveLength(17);
    expect(isValidVin(a)).toBe(true);
    expect(vinForVehicle('van-1')).toBe(a);
    expect(vinForVehicle('van-2')).not.toBe(a);
    for (let i = 0; i < 200; i++) expect(isValidVin(vinForVehicle(`v${i}`))).toBe(true);
  });
});
