/**
 * The driver's units (issue 19 §4): volumes in litres or US gallons, distances in kilometres or
 * miles, per user. The cloud stores and answers metric only; every conversion for display and
 * back (a refuel typed in gallons is sent in litres) happens here, so a figure and its label
 * always agree.
 */

export type VolumeUnit = 'l' | 'gal';
export type DistanceUnit = 'km' | 'mi';
export interface Units {
  volume: VolumeUnit;
  distance: DistanceUnit;
}

export const METRIC: Units = { volume: 'l', distance: 'km' };

/** Exact by definition: 231 cubic inches (US liquid gallon), and the international mile. */
export const LITRES_PER_US_GALLON = 3.785411784;
export const KM_PER_MILE = 1.609344;

/** Litres as the user's volume unit. */
export function fromLitres(litres: number, unit: VolumeUnit): number {
  return unit === 'gal' ? litres / LITRES_PER_US_GALLON : litres;
}

/** A volume typed in the user's unit, in litres (what the API takes). */
export function toLitres(value: number, unit: VolumeUnit): number {
  return unit === 'gal' ? value * LITRES_PER_US_GALLON : value;
}

/** Kilometres as the user's distance unit (km/h as mph too: the hour cancels). */
export function fromKm(km: number, unit: DistanceUnit): number {
  return unit === 'mi' ? km / KM_PER_MILE : km;
}

/** A distance typed in the user's unit, in kilometres (what the API takes). */
export function toKm(value: number, unit: DistanceUnit): number {
  return unit === 'mi' ? value * KM_PER_MILE : value;
}

export type ConsumptionUnit = 'l/100km' | 'mpg' | 'km/gal' | 'mi/l';

/** How consumption reads in these units: L/100 km in metric, mpg (US) in US units, else distance per volume. */
export function consumptionUnit(units: Units): ConsumptionUnit {
  if (units.volume === 'l') return units.distance === 'km' ? 'l/100km' : 'mi/l';
  return units.distance === 'mi' ? 'mpg' : 'km/gal';
}

/** Litres per 100 km in the user's consumption unit; null when it cannot be told (no fuel burned). */
export function fromLitresPer100Km(lPer100Km: number, units: Units): number | null {
  const unit = consumptionUnit(units);
  if (unit === 'l/100km') return lPer100Km;
  if (!(lPer100Km > 0)) return null;
  // distance per volume = 100 km / L, then each side in the user's unit.
  const kmPerLitre = 100 / lPer100Km;
  return fromKm(kmPerLitre, units.distance) / fromLitres(1, units.volume);
}

/** A price per litre as a price per the user's volume unit. */
export function pricePerVolume(perLitre: number, unit: VolumeUnit): number {
  return unit === 'gal' ? perLitre * LITRES_PER_US_GALLON : perLitre;
}
