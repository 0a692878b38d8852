/**
 * Issue 17 §4, must show 2: 100 US gallons of diesel in a 2015 medium/heavy-duty diesel truck
 * over 1,200 miles, with the shipped EPA 2025 dataset, to the gram.
 */
import { describe, expect, it } from 'vitest';
import { computeCarbonReport, epaVehicleType } from './carbon-report.ts';
import { listEmissionDatasets, loadEmissionDataset, parseEmissionDataset } from './emission-factors.ts';

const dataset = loadEmissionDataset('epa-ghg-hub-2025');
const truck = {
  vehicleId: 'truck-1',
  group: 'Denver depot',
  modelYear: 2015,
  vehicleType: 'medium_heavy_duty',
  fuel: 'diesel',
};
const activity = (litres: number, miles: number, month = '2026-07', vehicleId = 'truck-1') => ({
  vehicleId,
  month,
  litres: new Map([['diesel', litres]]),
  metres: miles * 1609.344,
});

describe('carbon from fuel and distance (EPA GHG Emission Factors Hub 2025)', () => {
  it('100 gal diesel, 1,200 mi, 2015 MHD diesel: CO2 1,021,000 g, CH4 11.400 g, N2O 51.720 g, CO2e (AR5) 1,035,025 g', () => {
    const r = computeCarbonReport(dataset, [truck], [activity(100 * 3.785411784, 1200)]);
    // 100 × 10.21 kg; 1,200 × 0.0095 g; 1,200 × 0.0431 g; 1,021,000 + 11.4 × 28 + 51.72 × 265
    expect(r.total).toMatchObject({ co2G: 1_021_000, ch4Mg: 11_400, n2oMg: 51_720, co2eG: 1_035_025 });
    expect(r.dataset).toMatchObject({ id: 'epa-ghg-hub-2025', gwp: 'AR5', gwpValues: { ch4: 28, n2o: 265 } });
    expect(r.rows[0]!.missing).toBeNull();
    // Intensity: 1,035,025 g over 1,200 mi = 1,931.2128 km → 535.9 g CO2e/km.
    expect(r.total.co2eGPerKm).toBe(535.9);
  });

  it('intensity is per km driven, and absent without distance', () => {
    const r = computeCarbonReport(
      dataset,
      [truck],
      [activity(100, 0, '2026-07'), activity(100, 500, '2026-08')],
    );
    expect(r.byMonth[0]!.co2eGPerKm).toBeNull();
    const aug = r.byMonth[1]!;
    expect(aug.co2eGPerKm).toBeCloseTo(aug.co2eG / (500 * 1.609344), 1);
  });

  it('the same with AR4 GWPs (25 / 298): 1,021,000 + 285 + 15,412.56 = 1,036,698 g', () => {
    const r = computeCarbonReport(dataset, [truck], [activity(100 * 3.785411784, 1200)], 'AR4');
    expect(r.total.co2eG).toBe(1_036_698);
  });

  it('per vehicle, group and month; a vehicle without a factor is named, never guessed', () => {
    const old = { ...truck, vehicleId: 'truck-old', modelYear: 2004 };
    const r = computeCarbonReport(
      dataset,
      [truck, old],
      [activity(50, 100, '2026-07'), activity(60, 120, '2026-08'), activity(40, 80, '2026-07', 'truck-old')],
    );
    expect(r.byMonth.map((m) => m.month)).toEqual(['2026-07', '2026-08']);
    expect(r.byGroup).toHaveLength(1);
    expect(r.byVehicle.find((v) => v.vehicleId === 'truck-old')!.ch4Mg).toBe(0);
    expect(r.rows.find((x) => x.vehicleId === 'truck-old')!.missing).toBe(
      'no CH4/N2O factor for medium_heavy_duty diesel model year 2004',
    );
    // Totals are summed before rounding: 150 L of diesel at 10.21 kg/gal.
    expect(r.total.co2G).toBe(Math.round((150 / 3.785411784) * 10_210));
    expect(Math.abs(r.byMonth.reduce((s, m) => s + m.co2G, 0) - r.total.co2G)).toBeLessThanOrEqual(1);
  });

  it('datasets are files: listed, validated, the register class mapped to a type', () => {
    expect(listEmissionDatasets()).toContain('epa-ghg-hub-2025');
    expect(() => loadEmissionDataset('nope')).toThrow(/no emission factor dataset "nope"/);
    expect(() => parseEmissionDataset({ id: 'x' }, 'bad.json')).toThrow(/bad\.json: /);
    expect(epaVehicleType('Heavy truck (class 8)')).toBe('medium_heavy_duty');
    expect(epaVehicleType('Delivery van')).toBe('light_duty_truck');
  });
});
