/**
 * The IFTA quarterly return (domain.md, Compliance): one line per jurisdiction and fuel type.
 *
 *   distance   each vehicle-day's ECM odometer distance is allocated to jurisdictions by their
 *              share of the day's GPS distance (integer metres, largest remainder: the parts sum
 *              to the odometer); a vehicle without odometer counts its GPS distance (flagged)
 *   miles      per fuel type, total miles = the metres in whole miles, and the jurisdictions'
 *              miles are again a largest-remainder split of that total, so they sum to it exactly
 *   MPG        fleet MPG = total miles ÷ total gallons per fuel type, to 2 decimals
 *   gallons    taxable = taxable miles ÷ MPG; tax-paid = purchases located in the jurisdiction;
 *              net = taxable − tax-paid (negative: a credit); whole gallons
 *   money      tax = net × rate, surcharge (KY, VA) = taxable × surcharge rate; integer cents,
 *              half away from zero
 *
 * Taxable miles equal total miles: the register records no exempt (off-road, toll-road) travel.
 */
import { formatScaled, LITRES_PER_US_GALLON, METRES_PER_MILE, roundDiv } from '../decimal.ts';
import { allocateByShare } from '../distance/allocate.ts';
import type { DistanceGap } from '../distance/track.ts';
import type { Jurisdiction } from '../jurisdictions/jurisdiction-map.ts';
import { formatQuarter, type IftaQuarter } from '../quarter.ts';
import type { IftaFuelType } from './fuel-types.ts';
import { RATE_SCALE, type TaxRate } from './rate-matrix.ts';

export interface IftaVehicleDay {
  day: string;
  /** ECM odometer distance of the day, metres; null: no odometer reading that day. */
  odometerMetres: number | null;
  /** Filtered GPS metres per jurisdiction code ('' = outside every IFTA jurisdiction). */
  gpsMetres: ReadonlyMap<string, number>;
}

export interface IftaVehicle {
  vehicleId: string;
  fuelType: IftaFuelType | null;
  days: IftaVehicleDay[];
}

export interface IftaPurchase {
  id: string;
  vehicleId: string | null;
  ts: number;
  litres: number;
  fuelType: IftaFuelType | null;
  /** Where it was bought (from the station's position); null: unknown. */
  jurisdiction: string | null;
  station: string | null;
}

export interface IftaReturnInput {
  quarter: IftaQuarter;
  jurisdictions: readonly Jurisdiction[];
  vehicles: readonly IftaVehicle[];
  purchases: readonly IftaPurchase[];
  rates: readonly TaxRate[];
  gaps: readonly (DistanceGap & { vehicleId: string })[];
  boundariesSource: string;
}

export interface IftaReturnLine {
  jurisdiction: string;
  name: string;
  country: string;
  fuelType: IftaFuelType;
  totalMiles: number;
  taxableMiles: number;
  /** Whole gallons; null when the fuel type has no MPG (no gallons bought). */
  taxableGallons: number | null;
  taxPaidGallons: number;
  netTaxableGallons: number | null;
  /** US$ per gallon as a decimal string; null: no rate in the matrix for this quarter. */
  rate: string | null;
  surchargeRate: string | null;
  /** Positive: tax due; negative: a credit. */
  taxCents: number | null;
  surchargeCents: number;
  dueCents: number | null;
}

export interface IftaFuelSummary {
  fuelType: IftaFuelType;
  totalMiles: number;
  /** Miles outside every IFTA jurisdiction (or where no position located them): in the MPG only. */
  nonIftaMiles: number;
  totalGallons: number;
  /** Fleet MPG to two decimals ("6.25"); null without gallons. */
  mpg: string | null;
}

export interface IftaDataQuality {
  /** Over 10 minutes without a record while the engine ran (or the vehicle moved). */
  gaps: {
    vehicleId: string;
    from: number;
    to: number;
    minutes: number;
    fromJurisdiction: string | null;
    toJurisdiction: string | null;
  }[];
  /** Vehicles whose distance is GPS only (no PID A6 reading in the quarter). */
  vehiclesWithoutOdometer: string[];
  /** Vehicles with distance but no IFTA fuel type in the register (left out of the return). */
  vehiclesWithoutFuelType: string[];
  /** Purchases with no position or one outside every jurisdiction: no tax-paid credit. */
  purchasesWithoutJurisdiction: {
    id: string;
    vehicleId: string | null;
    ts: number;
    station: string | null;
  }[];
  /** Jurisdiction × fuel lines the rate matrix has no rate for. */
  missingRates: { jurisdiction: string; fuelType: IftaFuelType }[];
  /** Fuel types driven without a gallon bought: no MPG, no taxable gallons. */
  fuelTypesWithoutGallons: IftaFuelType[];
  /**
   * Days whose odometer and GPS distance disagree by over 20 % and 5 km (a bad reading, an
   * odometer swap, lost positions): the odometer is still what is filed, an auditor will ask.
   */
  odometerGpsMismatch: { vehicleId: string; day: string; odometerKm: number; gpsKm: number }[];
}

export interface IftaReturn {
  quarter: string;
  boundariesSource: string;
  fuels: IftaFuelSummary[];
  lines: IftaReturnLine[];
  totalDueCents: number;
  /** Miles per vehicle and jurisdiction (before the fleet-level rounding), for the detail sheet. */
  vehicleMiles: { vehicleId: string; fuelType: IftaFuelType | null; jurisdiction: string; miles: number }[];
  dataQuality: IftaDataQuality;
}

/** Integer metres to whole miles, half up. */
const metresToMiles = (metres: number) =>
  roundDiv(Math.round(metres) * 1000, Math.round(METRES_PER_MILE * 1000));
/** Litres to hundredths of a gallon (each purchase once, so sums are exact). */
const centiGallons = (litres: number) => Math.round((litres / LITRES_PER_US_GALLON) * 100);

export function computeIftaReturn(input: IftaReturnInput): IftaReturn {
  const names = new Map(input.jurisdictions.map((j) => [j.code, j]));
  const dq: IftaDataQuality = {
    gaps: input.gaps.map((g) => ({
      vehicleId: g.vehicleId,
      from: g.from,
      to: g.to,
      minutes: Math.round((g.to - g.from) / 60_000),
      fromJurisdiction: g.fromJurisdiction,
      toJurisdiction: g.toJurisdiction,
    })),
    vehiclesWithoutOdometer: [],
    vehiclesWithoutFuelType: [],
    purchasesWithoutJurisdiction: [],
    missingRates: [],
    fuelTypesWithoutGallons: [],
    odometerGpsMismatch: [],
  };

  // 1. Distance: per vehicle-day, odometer metres by GPS share; summed per fuel and jurisdiction.
  const metres = new Map<IftaFuelType, Map<string, number>>();
  const vehicleMetres = new Map<string, Map<string, number>>();
  for (const v of input.vehicles) {
    const mine = new Map<string, number>();
    let anyOdometer = false;
    for (const d of v.days) {
      const gpsTotal = [...d.gpsMetres.values()].reduce((s, m) => s + m, 0);
      let parts: Map<string, number>;
      if (d.odometerMetres !== null) {
        anyOdometer = true;
        const gap = Math.abs(d.odometerMetres - gpsTotal);
        if (gap > 5000 && gap > 0.2 * Math.max(d.odometerMetres, gpsTotal))
          dq.odometerGpsMismatch.push({
            vehicleId: v.vehicleId,
            day: d.day,
            odometerKm: Math.round(d.odometerMetres) / 1000,
            gpsKm: Math.round(gpsTotal) / 1000,
          });
        parts =
          gpsTotal > 0
            ? allocateByShare(Math.round(d.odometerMetres), d.gpsMetres)
            : new Map([['', Math.round(d.odometerMetres)]]);
      } else parts = allocateByShare(Math.round(gpsTotal), d.gpsMetres);
      for (const [j, m] of parts) if (m > 0) mine.set(j, (mine.get(j) ?? 0) + m);
    }
    const driven = [...mine.values()].some((m) => m > 0);
    if (driven && !anyOdometer) dq.vehiclesWithoutOdometer.push(v.vehicleId);
    vehicleMetres.set(v.vehicleId, mine);
    if (!v.fuelType) {
      if (driven) dq.vehiclesWithoutFuelType.push(v.vehicleId);
      continue;
    }
    const byJ = metres.get(v.fuelType) ?? new Map<string, number>();
    for (const [j, m] of mine) byJ.set(j, (byJ.get(j) ?? 0) + m);
    metres.set(v.fuelType, byJ);
  }

  // 2. Gallons bought, per fuel and jurisdiction ('' = not located).
  const bought = new Map<IftaFuelType, Map<string, number>>();
  for (const p of input.purchases) {
    if (!p.fuelType) continue;
    const j = p.jurisdiction && names.has(p.jurisdiction) ? p.jurisdiction : '';
    if (j === '')
      dq.purchasesWithoutJurisdiction.push({
        id: p.id,
        vehicleId: p.vehicleId,
        ts: p.ts,
        station: p.station,
      });
    const byJ = bought.get(p.fuelType) ?? new Map<string, number>();
    byJ.set(j, (byJ.get(j) ?? 0) + centiGallons(p.litres));
    bought.set(p.fuelType, byJ);
  }

  const rateOf = new Map(input.rates.map((r) => [`${r.jurisdiction}/${r.fuelType}`, r]));
  const fuels: IftaFuelSummary[] = [];
  const lines: IftaReturnLine[] = [];
  const fuelTypes = [...new Set([...metres.keys(), ...bought.keys()])].sort();
  for (const fuelType of fuelTypes) {
    const byJ = metres.get(fuelType) ?? new Map<string, number>();
    const totalMetres = [...byJ.values()].reduce((s, m) => s + m, 0);
    const totalMiles = metresToMiles(totalMetres);
    const miles = allocateByShare(totalMiles, byJ);
    const gallonsByJ = new Map(
      [...(bought.get(fuelType) ?? new Map<string, number>())].map(([j, cg]) => [j, roundDiv(cg, 100)]),
    );
    const totalGallons = roundDiv(
      [...(bought.get(fuelType)?.values() ?? [])].reduce((s, cg) => s + cg, 0),
      100,
    );
    const mpgX100 = totalGallons > 0 ? roundDiv(totalMiles * 100, totalGallons) : null;
    if (mpgX100 === null && totalMiles > 0) dq.fuelTypesWithoutGallons.push(fuelType);
    fuels.push({
      fuelType,
      totalMiles,
      nonIftaMiles: miles.get('') ?? 0,
      totalGallons,
      mpg: mpgX100 === null ? null : formatScaled(mpgX100, 2),
    });
    const codes = [...new Set([...miles.keys(), ...gallonsByJ.keys()])].filter((j) => j !== '').sort();
    for (const code of codes) {
      const totalJ = miles.get(code) ?? 0;
      const taxPaid = gallonsByJ.get(code) ?? 0;
      if (totalJ === 0 && taxPaid === 0) continue;
      const taxableMiles = totalJ;
      const taxable = mpgX100 === null || mpgX100 === 0 ? null : roundDiv(taxableMiles * 100, mpgX100);
      const net = taxable === null ? null : taxable - taxPaid;
      const rate = rateOf.get(`${code}/${fuelType}`);
      if (!rate) dq.missingRates.push({ jurisdiction: code, fuelType });
      const taxCents =
        net === null || !rate
          ? null
          : rate.rate === null
            ? 0
            : roundDiv(net * rate.rate, 10 ** (RATE_SCALE - 2));
      const surchargeCents =
        taxable === null || !rate ? 0 : roundDiv(taxable * rate.surcharge, 10 ** (RATE_SCALE - 2));
      const j = names.get(code);
      lines.push({
        jurisdiction: code,
        name: j?.name ?? code,
        country: j?.country ?? '',
        fuelType,
        totalMiles: totalJ,
        taxableMiles,
        taxableGallons: taxable,
        taxPaidGallons: taxPaid,
        netTaxableGallons: net,
        rate: rate?.rate == null ? null : formatScaled(rate.rate, RATE_SCALE),
        surchargeRate: rate && rate.surcharge > 0 ? formatScaled(rate.surcharge, RATE_SCALE) : null,
        taxCents,
        surchargeCents,
        dueCents: taxCents === null ? null : taxCents + surchargeCents,
      });
    }
  }
  const vehicleMiles = input.vehicles.flatMap((v) =>
    [...(vehicleMetres.get(v.vehicleId) ?? [])]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([jurisdiction, m]) => ({
        vehicleId: v.vehicleId,
        fuelType: v.fuelType,
        jurisdiction,
        miles: Math.round((m / METRES_PER_MILE) * 10) / 10,
      })),
  );
  return {
    quarter: formatQuarter(input.quarter),
    boundariesSource: input.boundariesSource,
    fuels,
    lines,
    totalDueCents: lines.reduce((s, l) => s + (l.dueCents ?? 0), 0),
    vehicleMiles,
    dataQuality: dq,
  };
}
