/**
 * Emission factor datasets (issue 17 §4): versioned JSON files in datasets/, one per published
 * edition, each with the GWP sets it may be reported under. A report names the dataset and GWP set
 * it used, so a past report can be recomputed with its own, whatever was added since.
 *
 * Factors stay decimal strings in the file and become integers here (milligrams per gallon,
 * micrograms per mile): the arithmetic is exact and rounds once, to the gram, at the end.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { CloudError, CloudErrorCode } from '../../errors.ts';
import { parseScaled } from '../decimal.ts';

const DIR = path.join(import.meta.dirname, 'datasets');

const decimal = z.string().regex(/^\d+(\.\d+)?$/);
const Dataset = z.object({
  id: z.string().regex(/^[a-z0-9-]{3,60}$/),
  name: z.string().min(1),
  source: z.string().min(1),
  scope: z.string().optional(),
  completeness: z.string().optional(),
  gwp: z.object({
    default: z.string(),
    sets: z.record(
      z.string(),
      z.object({
        co2: z.literal(1),
        ch4: z.number().positive(),
        n2o: z.number().positive(),
        source: z.string(),
      }),
    ),
  }),
  co2KgPerUsGallon: z.record(z.string(), decimal),
  ch4N2oGramsPerMile: z.array(
    z.object({
      vehicleType: z.string(),
      fuel: z.string(),
      modelYears: z.tuple([z.number().int(), z.number().int()]),
      ch4: decimal,
      n2o: decimal,
    }),
  ),
});
export type EmissionDatasetFile = z.infer<typeof Dataset>;

export interface EmissionDataset {
  id: string;
  name: string;
  source: string;
  gwpSets: Record<string, { ch4: number; n2o: number }>;
  defaultGwp: string;
  /** Fuel → milligrams of CO2 per US gallon. */
  co2MgPerGallon: Map<string, number>;
  /** Micrograms per mile of CH4 and N2O for a vehicle type, fuel and model year; null: no factor. */
  ch4N2o(
    vehicleType: string,
    fuel: string,
    modelYear: number,
  ): { ch4UgPerMile: number; n2oUgPerMile: number } | null;
}

export function parseEmissionDataset(json: unknown, where: string): EmissionDataset {
  const parsed = Dataset.safeParse(json);
  if (!parsed.success)
    throw new CloudError(
      CloudErrorCode.ReportInputInvalid,
      `${where}: ${z.prettifyError(parsed.error).replaceAll('\n', '; ')}`,
    );
  const d = parsed.data;
  if (!d.gwp.sets[d.gwp.default])
    throw new CloudError(
      CloudErrorCode.ReportInputInvalid,
      `${where}: default GWP set ${d.gwp.default} is not in gwp.sets`,
    );
  const rows = d.ch4N2oGramsPerMile.map((r) => ({
    ...r,
    ch4: parseScaled(r.ch4, 6)!, // g → µg
    n2o: parseScaled(r.n2o, 6)!,
  }));
  return {
    id: d.id,
    name: d.name,
    source: d.source,
    defaultGwp: d.gwp.default,
    gwpSets: Object.fromEntries(Object.entries(d.gwp.sets).map(([k, v]) => [k, { ch4: v.ch4, n2o: v.n2o }])),
    co2MgPerGallon: new Map(
      Object.entries(d.co2KgPerUsGallon).map(([fuel, kg]) => [fuel, parseScaled(kg, 6)!]),
    ),
    ch4N2o(vehicleType, fuel, modelYear) {
      const r = rows.find(
        (x) =>
          x.vehicleType === vehicleType &&
          x.fuel === fuel &&
          modelYear >= x.modelYears[0] &&
          modelYear <= x.modelYears[1],
      );
      return r ? { ch4UgPerMile: r.ch4, n2oUgPerMile: r.n2o } : null;
    },
  };
}

/** The datasets shipped in datasets/, by id. */
export function listEmissionDatasets(): string[] {
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .sort();
}

export const DEFAULT_EMISSION_DATASET = 'epa-ghg-hub-2025';

export function loadEmissionDataset(id: string = DEFAULT_EMISSION_DATASET): EmissionDataset {
  if (!listEmissionDatasets().includes(id))
    throw new CloudError(
      CloudErrorCode.ReportDataMissing,
      `no emission factor dataset "${id}" (have: ${listEmissionDatasets().join(', ')})`,
    );
  const file = path.join(DIR, `${id}.json`);
  return parseEmissionDataset(JSON.parse(readFileSync(file, 'utf8')), file);
}
