import { describe, expect, it } from 'vitest';
import {
  consumptionUnit,
  fromKm,
  fromLitres,
  fromLitresPer100Km,
  pricePerVolume,
  toKm,
  toLitres,
} from './units.ts';

describe('units (the driver app converts for display; the API stays metric)', () => {
  it('converts litres and US gallons both ways', () => {
    expect(fromLitres(42.5, 'gal')).toBeCloseTo(11.2273, 4);
    expect(fromLitres(42.5, 'l')).toBe(42.5);
    expect(toLitres(10, 'gal')).toBeCloseTo(37.8541, 4);
    for (const v of [0, 0.1, 42.5, 1999.99]) expect(toLitres(fromLitres(v, 'gal'), 'gal')).toBeCloseTo(v, 10);
  });

  it('converts kilometres and miles both ways', () => {
    expect(fromKm(100, 'mi')).toBeCloseTo(62.1371, 4);
    expect(fromKm(12345, 'km')).toBe(12345);
    expect(toKm(26.2, 'mi')).toBeCloseTo(42.1648, 4);
    for (const v of [0, 1, 12345, 9_999_999]) expect(toKm(fromKm(v, 'mi'), 'mi')).toBeCloseTo(v, 6);
  });

  it('shows consumption as L/100 km in metric and mpg in US units, inverted correctly', () => {
    expect(consumptionUnit({ volume: 'l', distance: 'km' })).toBe('l/100km');
    expect(consumptionUnit({ volume: 'gal', distance: 'mi' })).toBe('mpg');
    expect(consumptionUnit({ volume: 'gal', distance: 'km' })).toBe('km/gal');
    expect(consumptionUnit({ volume: 'l', distance: 'mi' })).toBe('mi/l');
    expect(fromLitresPer100Km(8, { volume: 'l', distance: 'km' })).toBe(8);
    // 235.215 / (L/100 km) = mpg (US): the well-known rule of thumb.
    expect(fromLitresPer100Km(8, { volume: 'gal', distance: 'mi' })).toBeCloseTo(29.4018, 3);
    expect(fromLitresPer100Km(10, { volume: 'gal', distance: 'km' })).toBeCloseTo(37.8541, 3);
    expect(fromLitresPer100Km(0, { volume: 'gal', distance: 'mi' })).toBeNull();
  });

  it('converts a price per litre to a price per gallon', () => {
    expect(pricePerVolume(1.5, 'gal')).toBeCloseTo(5.6781, 4);
    expect(pricePerVolume(1.5, 'l')).toBe(1.5);
  });
});
