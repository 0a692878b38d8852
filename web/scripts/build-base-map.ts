/**
 * Builds the dashboard's offline base map (web/public/basemap/*.geojson) from data that ships in
 * npm packages, so the map needs no tile server:
 *   - countries.geojson: Natural Earth 1:110m country polygons (world-atlas, public domain),
 *     coordinates rounded to 3 decimals (~100 m, below the 1:110m source's own accuracy);
 *   - streets.geojson: the simulator's named city routes (firmware-sim ROUTES), the streets the
 *     demo fleet drives, as lines — a city-scale outline where country borders show nothing.
 * Run: pnpm -C web exec tsx scripts/build-base-map.ts (the output is committed; rerun on change).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { feature } from 'topojson-client';
import { EXTRA_ROUTES, ROUTES } from '../../firmware-sim/src/vehicle/route.ts';

const webRoot = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(webRoot, 'public', 'basemap');
const round = (v: number) => Math.round(v * 1000) / 1000;

function roundCoords(value: unknown): unknown {
  if (typeof value === 'number') return round(value);
  if (Array.isArray(value)) return value.map(roundCoords);
  return value;
}

const topoPath = path.join(webRoot, 'node_modules', 'world-atlas', 'countries-110m.json');
type Topology = Parameters<typeof feature>[0];
const topology = JSON.parse(readFileSync(topoPath, 'utf8')) as Topology;
const countries = feature(topology, topology.objects.countries!) as unknown as GeoJSON.FeatureCollection<
  GeoJSON.Geometry,
  { name?: string }
>;
const countryFeatures = countries.features.map((f) => ({
  type: 'Feature',
  properties: { name: f.properties?.name ?? '' },
  geometry: {
    type: f.geometry.type,
    coordinates: roundCoords((f.geometry as { coordinates: unknown }).coordinates),
  },
}));
writeFileSync(
  path.join(outDir, 'countries.geojson'),
  JSON.stringify({ type: 'FeatureCollection', features: countryFeatures }),
);

const streets = [...ROUTES, ...EXTRA_ROUTES].map((route) => ({
  type: 'Feature',
  properties: { name: route.name, description: route.description },
  geometry: {
    type: 'LineString',
    // A closed loop: repeat the first waypoint at the end.
    coordinates: [...route.waypoints, route.waypoints[0]!].map((w) => [w.lon, w.lat]),
  },
}));
writeFileSync(
  path.join(outDir, 'streets.geojson'),
  JSON.stringify({ type: 'FeatureCollection', features: streets }),
);
process.stdout.write(`${countryFeatures.length} countries, ${streets.length} routes -> ${outDir}\n`);
