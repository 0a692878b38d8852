/**
 * The boundaries used until an operator imports better ones (`fleet-cloud reports boundaries
 * import`): the US states and DC from us-atlas (Census cartographic boundaries generalised to
 * 1:10,000,000, TopoJSON) and the 10 provinces from Natural Earth's 1:10m Admin-1 layer, shipped
 * in boundaries/ because no npm package of a sensible size carries Canadian provinces. At 1:10M borders
 * move by up to a few kilometres: good for a default, not for a return an auditor checks closely.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { feature } from 'topojson-client';
import { type Jurisdiction, JurisdictionMap } from './jurisdiction-map.ts';

const DATA = path.join(import.meta.dirname, 'boundaries');
const require = createRequire(import.meta.url);

interface UsStateRow {
  fips: string;
  code: string;
  name: string;
}

const usStates = (
  JSON.parse(readFileSync(path.join(DATA, 'us-states.fips.json'), 'utf8')) as { states: UsStateRow[] }
).states;
const CANADA_FILE = path.join(DATA, 'canada-provinces.ne10m.geojson');

/** The 59 IFTA jurisdictions (48 contiguous states, DC, 10 provinces). */
export const IFTA_JURISDICTIONS: readonly Jurisdiction[] = [
  ...usStates.map((s) => ({ code: s.code, name: s.name, country: 'US' as const })),
  ...(
    JSON.parse(readFileSync(CANADA_FILE, 'utf8')) as {
      features: { properties: { code: string; name: string } }[];
    }
  ).features.map((f) => ({ code: f.properties.code, name: f.properties.name, country: 'CA' as const })),
].sort((a, b) => a.code.localeCompare(b.code));

export const DEFAULT_BOUNDARIES_SOURCE =
  'us-atlas 3.0.1 states-10m (US Census, 1:10M) + Natural Earth 1:10m Admin-1 (Canadian provinces)';

let cached: JurisdictionMap | undefined;

export function defaultJurisdictionMap(): JurisdictionMap {
  if (cached) return cached;
  type TopologyArg = Parameters<typeof feature>[0];
  const topology = require('us-atlas/states-10m.json') as TopologyArg;
  const byFips = new Map(usStates.map((s) => [s.fips, s.code]));
  const states = feature(topology, topology.objects.states!) as unknown as {
    features: { id?: string | number; type: 'Feature'; geometry: unknown }[];
  };
  const usFeatures = states.features
    .filter((f) => byFips.has(String(f.id)))
    .map((f) => ({ ...f, properties: { code: byFips.get(String(f.id)) } }));
  const canada = JSON.parse(readFileSync(CANADA_FILE, 'utf8')) as { features: unknown[] };
  cached = JurisdictionMap.fromGeoJson(
    { type: 'FeatureCollection', features: [...usFeatures, ...canada.features] },
    IFTA_JURISDICTIONS,
    DEFAULT_BOUNDARIES_SOURCE,
  );
  return cached;
}
