/**
 * The report builder's one entry: a kind, a period, filters and units → the ReportTable that the
 * page charts and tabulates and export-report.ts writes. IFTA and carbon come from their own
 * modules (ifta/, carbon/) and are laid out as tables here; the rest are the queries of cost/,
 * consumption/ and drivers/.
 */
import type pg from 'pg';
import { loadCarbonReport } from '../carbon/carbon-service.ts';
import { idlingReport } from '../consumption/idling.ts';
import { weeklyConsumption } from '../consumption/weekly-consumption.ts';
import { type BudgetScope, costVsBudget } from '../cost/cost-vs-budget.ts';
import { formatCents } from '../decimal.ts';
import { driverPerformance } from '../drivers/driver-performance.ts';
import { loadIftaReturn } from '../ifta/ifta-report.ts';
import type { IftaReturn } from '../ifta/ifta-return.ts';
import { formatQuarter, type IftaQuarter, quarterRange } from '../quarter.ts';
import {
  KM_PER_MILE,
  listOrNull,
  type ReportFilters,
  type ReportKind,
  type ReportTable,
  round,
  type Units,
  vehicleFilterSql,
} from './report-table.ts';

type Db = Pick<pg.PoolClient, 'query'>;

export interface ReportRequest {
  kind: ReportKind;
  /** [from, to) epoch ms; IFTA uses `quarter` instead. */
  from: number;
  to: number;
  quarter: IftaQuarter;
  filters: ReportFilters;
  units: Units;
  /** Cost: per vehicle, group, cost centre or the fleet. */
  scope: BudgetScope;
  now: number;
}

/** The IFTA return's lines as the builder's table (the columns of its CSV export). */
export function iftaTable(ret: IftaReturn, range: { from: number; to: number }): ReportTable {
  const cents = (c: number | null) => (c === null ? null : Number(formatCents(c)));
  return {
    kind: 'ifta',
    title: `IFTA quarterly return ${ret.quarter}`,
    ...range,
    columns: [
      { key: 'jurisdiction', label: 'Jurisdiction', numeric: false },
      { key: 'fuelType', label: 'Fuel', numeric: false },
      { key: 'totalMiles', label: 'Total miles', numeric: true },
      { key: 'taxableMiles', label: 'Taxable miles', numeric: true },
      { key: 'taxableGallons', label: 'Taxable gallons', numeric: true },
      { key: 'taxPaidGallons', label: 'Tax-paid gallons', numeric: true },
      { key: 'netTaxableGallons', label: 'Net taxable gallons', numeric: true },
      { key: 'rate', label: 'Rate (US$/gal)', numeric: true },
      { key: 'tax', label: 'Tax / credit (US$)', numeric: true },
      { key: 'surcharge', label: 'Surcharge (US$)', numeric: true },
      { key: 'due', label: 'Due (US$)', numeric: true },
    ],
    rows: ret.lines.map((l) => ({
      jurisdiction: l.jurisdiction,
      fuelType: l.fuelType,
      totalMiles: l.totalMiles,
      taxableMiles: l.taxableMiles,
      taxableGallons: l.taxableGallons,
      taxPaidGallons: l.taxPaidGallons,
      netTaxableGallons: l.netTaxableGallons,
      rate: l.rate === null ? null : Number(l.rate),
      tax: cents(l.taxCents),
      surcharge: cents(l.surchargeCents),
      due: cents(l.dueCents),
    })),
    chart: {
      title: 'Total miles per jurisdiction',
      labelKeys: ['jurisdiction', 'fuelType'],
      series: [{ key: 'totalMiles', label: 'Total miles' }],
      unit: 'mi',
    },
    notes: [
      `Fleet MPG: ${ret.fuels.map((f) => `${f.fuelType} ${f.mpg ?? 'n/a'}`).join(', ') || 'n/a'}.`,
      `Data quality: ${ret.dataQuality.gaps.length} gap(s), ${ret.dataQuality.vehiclesWithoutOdometer.length} vehicle(s) without odometer, ${ret.dataQuality.purchasesWithoutJurisdiction.length} purchase(s) without jurisdiction.`,
    ],
  };
}

async function carbonTable(db: Db, tenantId: string, r: ReportRequest): Promise<ReportTable> {
  const report = await loadCarbonReport(db, tenantId, r);
  const { rows: allowed } = await db.query<{ id: string; name: string }>(
    `SELECT v.id, coalesce(v.plate, v.id) AS name FROM vehicles v WHERE v.tenant_id = $1 AND ${vehicleFilterSql(2, 3)}`,
    [tenantId, listOrNull(r.filters.groupIds), listOrNull(r.filters.vehicleIds)],
  );
  const names = new Map(allowed.map((v) => [v.id, v.name]));
  const us = r.units === 'us';
  return {
    kind: 'carbon',
    title: `Carbon: scope 1 mobile combustion (${report.dataset.name}, GWP ${report.dataset.gwp})`,
    from: r.from,
    to: r.to,
    columns: [
      { key: 'vehicle', label: 'Vehicle', numeric: false },
      { key: 'group', label: 'Group', numeric: false },
      { key: 'month', label: 'Month', numeric: false },
      { key: 'fuel', label: us ? 'Fuel (US gal)' : 'Fuel (L)', numeric: true },
      { key: 'distance', label: us ? 'Distance (mi)' : 'Distance (km)', numeric: true },
      { key: 'co2Kg', label: 'CO2 (kg)', numeric: true },
      { key: 'ch4G', label: 'CH4 (g)', numeric: true },
      { key: 'n2oG', label: 'N2O (g)', numeric: true },
      { key: 'co2eKg', label: 'CO2e (kg)', numeric: true },
      { key: 'co2ePerDistance', label: us ? 'CO2e (g/mi)' : 'CO2e (g/km)', numeric: true },
    ],
    rows: report.rows
      .filter((x) => names.has(x.vehicleId))
      .map((x) => ({
        vehicle: names.get(x.vehicleId)!,
        vehicleId: x.vehicleId,
        group: x.group,
        month: x.month,
        fuel: round(us ? x.litres / 3.785411784 : x.litres, 1),
        distance: round(us ? x.miles : x.miles * KM_PER_MILE, 1),
        co2Kg: round(x.co2G / 1000, 3),
        ch4G: round(x.ch4Mg / 1000, 3),
        n2oG: round(x.n2oMg / 1000, 3),
        co2eKg: round(x.co2eG / 1000, 3),
        co2ePerDistance:
          x.co2eGPerKm === null ? null : round(us ? x.co2eGPerKm * KM_PER_MILE : x.co2eGPerKm, 1),
      })),
    chart: {
      title: 'CO2e per vehicle and month (kg)',
      labelKeys: ['vehicle', 'month'],
      series: [{ key: 'co2eKg', label: 'CO2e (kg)' }],
      unit: 'kg',
    },
    notes: [
      `Emission factors: ${report.dataset.name} (${report.dataset.id}), GWP ${report.dataset.gwp}. Fuel used is what was bought.`,
    ],
  };
}

export async function runReport(db: Db, tenantId: string, r: ReportRequest): Promise<ReportTable> {
  const q = { tenantId, from: r.from, to: r.to, filters: r.filters, units: r.units };
  switch (r.kind) {
    case 'ifta': {
      const ret = await loadIftaReturn(db, tenantId, r.quarter);
      return iftaTable(ret, quarterRange(r.quarter));
    }
    case 'carbon':
      return carbonTable(db, tenantId, r);
    case 'cost':
      return costVsBudget(db, { ...q, scope: r.scope, now: r.now });
    case 'consumption':
      return weeklyConsumption(db, q);
    case 'idling':
      return idlingReport(db, q);
    case 'drivers':
      return driverPerformance(db, q);
  }
}

/** A file name for the export: kind and period, nothing a file system refuses. */
export function exportFileName(
  r: Pick<ReportRequest, 'kind' | 'from' | 'to' | 'quarter'>,
  ext: string,
): string {
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const period = r.kind === 'ifta' ? formatQuarter(r.quarter) : `${day(r.from)}_${day(r.to - 1)}`;
  return `${r.kind}-${period}.${ext}`;
}
