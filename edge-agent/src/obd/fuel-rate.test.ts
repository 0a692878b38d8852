import { describe, expect, it } from 'vitest';
import {
  airToFuelLph,
  computeFuelRateLph,
  DIESEL,
  FUEL_RATE_PIDS,
  fuelPropertiesFor,
  GASOLINE,
  selectFuelRateSource,
  speedDensityAirGs,
} from './fuel-rate.ts';

describe('selectFuelRateSource', () => {
  it('prefers 5E, then MAF (10), then speed-density (0B + 0F + 0C)', () => {
    expect(selectFuelRateSource(new Set([0x5e, 0x10, 0x0b, 0x0f, 0x0c]))).toBe('fuel-rate-pid');
    expect(selectFuelRateSource(new Set([0x10, 0x0b, 0x0f, 0x0c]))).toBe('maf');
    expect(selectFuelRateSource(new Set([0x0b, 0x0f, 0x0c]))).toBe('speed-density');
    expect(selectFuelRateSource(new Set([0x0b, 0x0c]))).toBeNull();
    expect(FUEL_RATE_PIDS['speed-density']).toEqual([0x0b, 0x0f, 0x0c]);
  });
});

describe('fuel properties from PID 51', () => {
  it('maps the J1979 fuel type codes', () => {
    expect(fuelPropertiesFor(1)).toBe(GASOLINE); // gasoline
    expect(fuelPropertiesFor(4)).toBe(DIESEL); // diesel
    expect(fuelPropertiesFor(19)).toBe(DIESEL); // hybrid diesel
    expect(fuelPropertiesFor(23)).toBe(DIESEL); // bifuel running diesel
    expect(fuelPropertiesFor(9)).toBe(GASOLINE); // bifuel running gasoline
    expect(fuelPropertiesFor(0)).toBe(GASOLINE); // not available: assume the common case
    expect(fuelPropertiesFor(null)).toBe(GASOLINE);
    expect(fuelPropertiesFor(6)).toBeNull(); // CNG: no litres
    expect(fuelPropertiesFor(8)).toBeNull(); // electric
  });
});

describe('fuel rate, worked by hand', () => {
  it('MAF gasoline: MAF / 14.7 / 745 g/L * 3600', () => {
    // 14.7 g/s of air burns 1 g/s of gasoline = 1/745 L/s = 3600/745 = 4.8322 L/h.
    expect(airToFuelLph(14.7, GASOLINE)).toBeCloseTo(4.832214765, 8);
    // 36.75 g/s -> 2.5 g/s fuel -> 2.5 * 3600 / 745 = 12.0805 L/h.
    expect(computeFuelRateLph('maf', { mafGs: 36.75, fuelType: 1 })).toBeCloseTo(12.080536913, 8);
  });

  it('MAF diesel: 14.5 and 832 g/L, leaner by the commanded lambda (PID 44)', () => {
    // 14.5 g/s -> 1 g/s -> 3600/832 = 4.3269 L/h.
    expect(computeFuelRateLph('maf', { mafGs: 14.5, fuelType: 4 })).toBeCloseTo(4.326923077, 8);
    // Lambda 2: 29 g/s of air carry the same 1 g/s of diesel.
    expect(computeFuelRateLph('maf', { mafGs: 29, fuelType: 4, lambda: 2 })).toBeCloseTo(4.326923077, 8);
    // Lambda 0 is a fault, not infinitely rich: ignored.
    expect(computeFuelRateLph('maf', { mafGs: 14.5, fuelType: 4, lambda: 0 })).toBeCloseTo(4.326923077, 8);
  });

  it('speed-density: RPM/120 x displacement x VE x MAP / (287.05 x T)', () => {
    // 3000 rpm, 100 kPa, 25 °C, 2.0 L, VE 0.85: density 100000 / (287.05 * 298.15) = 1.168443 kg/m3;
    // volume 3000/120 * 0.002 * 0.85 = 0.0425 m3/s; air 49.6588 g/s; fuel 49.6588/14.7/745*3600.
    expect(speedDensityAirGs(3000, 100, 25, { displacementL: 2, volumetricEfficiency: 0.85 })).toBeCloseTo(
      49.658839392,
      6,
    );
    expect(
      computeFuelRateLph('speed-density', { rpm: 3000, mapKpa: 100, iatC: 25, fuelType: 1 }),
    ).toBeCloseTo(16.323957614, 6);
    // Idle of a 1.6 L engine: 800 rpm, 35 kPa, 40 °C, VE 0.8 -> 3.32259 g/s of air -> 1.0922 L/h.
    expect(
      computeFuelRateLph(
        'speed-density',
        { rpm: 800, mapKpa: 35, iatC: 40, fuelType: 1 },
        { displacementL: 1.6, volumetricEfficiency: 0.8 },
      ),
    ).toBeCloseTo(1.092208824, 6);
  });

  it('5E is taken as it is; missing inputs give null', () => {
    expect(computeFuelRateLph('fuel-rate-pid', { fuelRateLph: 10 })).toBe(10);
    expect(computeFuelRateLph('fuel-rate-pid', {})).toBeNull();
    expect(computeFuelRateLph('maf', { fuelType: 1 })).toBeNull();
    expect(computeFuelRateLph('speed-density', { rpm: 800, mapKpa: 35 })).toBeNull();
    expect(computeFuelRateLph('maf', { mafGs: 10, fuelType: 6 })).toBeNull(); // CNG
  });
});
