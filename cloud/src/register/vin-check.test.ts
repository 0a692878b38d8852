import { describe, expect, it } from 'vitest';
import { vinStatus } from './vin-check.ts';

describe('vinStatus', () => {
  const VIN = '1SV7CE6F6RX068251';

  it('matches the same VIN, whatever the case and padding the ECU sent', () => {
    expect(vinStatus(VIN, VIN)).toBe('match');
    expect(vinStatus(VIN, ` ${VIN.toLowerCase()}`)).toBe('match');
  });

  it('flags another VIN, even one a single character off', () => {
    expect(vinStatus(VIN, '1SVZZ9Y3XRP012345')).toBe('mismatch');
    expect(vinStatus(VIN, `${VIN.slice(0, 16)}2`)).toBe('mismatch');
  });

  it('says what is missing when there is nothing to compare', () => {
    expect(vinStatus(null, VIN)).toBe('unregistered');
    expect(vinStatus(VIN, null)).toBe('unreported');
    expect(vinStatus(VIN, '   ')).toBe('unreported');
    expect(vinStatus(null, null)).toBe('unreported');
  });
});
