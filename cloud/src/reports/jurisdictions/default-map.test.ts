/**
 * The shipped default boundaries: 59 jurisdictions, each capital located in its own, and what
 * 1:10M generalisation costs (three harbour capitals fall in generalised water; us-atlas puts
 * the CO/WY line 270 m south of 41°N). Operators who need better import Census 1:500k files.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_BOUNDARIES_SOURCE, defaultJurisdictionMap, IFTA_JURISDICTIONS } from './default-map.ts';

// Capitals (state houses, legislatures), degrees to 3 decimals.
const CAPITALS: [string, number, number][] = [
  ['AL', 32.377, -86.3],
  ['AZ', 33.448, -112.097],
  ['AR', 34.747, -92.289],
  ['CA', 38.576, -121.494],
  ['CO', 39.739, -104.985],
  ['CT', 41.764, -72.682],
  ['DE', 39.157, -75.52],
  ['DC', 38.895, -77.036],
  ['FL', 30.438, -84.281],
  ['GA', 33.749, -84.388],
  ['ID', 43.618, -116.2],
  ['IL', 39.798, -89.654],
  ['IN', 39.768, -86.162],
  ['IA', 41.591, -93.604],
  ['KS', 39.048, -95.678],
  ['KY', 38.187, -84.875],
  ['LA', 30.457, -91.187],
  ['ME', 44.307, -69.782],
  ['MD', 38.979, -76.491],
  ['MA', 42.358, -71.064],
  ['MI', 42.733, -84.556],
  ['MN', 44.955, -93.102],
  ['MS', 32.304, -90.182],
  ['MO', 38.579, -92.173],
  ['MT', 46.586, -112.018],
  ['NE', 40.808, -96.7],
  ['NV', 39.164, -119.766],
  ['NH', 43.207, -71.538],
  ['NJ', 40.221, -74.77],
  ['NM', 35.682, -105.94],
  ['NY', 42.653, -73.757],
  ['NC', 35.78, -78.639],
  ['ND', 46.821, -100.783],
  ['OH', 39.961, -82.999],
  ['OK', 35.492, -97.503],
  ['OR', 44.938, -123.03],
  ['PA', 40.264, -76.884],
  ['RI', 41.831, -71.415],
  ['SC', 34.0, -81.033],
  ['SD', 44.367, -100.346],
  ['TN', 36.166, -86.784],
  ['TX', 30.275, -97.74],
  ['UT', 40.777, -111.888],
  ['VT', 44.262, -72.581],
  ['VA', 37.539, -77.434],
  ['WA', 47.036, -122.905],
  ['WV', 38.336, -81.612],
  ['WI', 43.075, -89.384],
  ['WY', 41.14, -104.82],
  ['AB', 53.534, -113.507],
  ['BC', 48.422, -123.37],
  ['MB', 49.885, -97.147],
  ['NB', 45.964, -66.643],
  ['NL', 47.561, -52.712],
  ['ON', 43.654, -79.384],
  ['SK', 50.445, -104.619],
  // Harbour capitals: at 1:10M their waterfront is sea, so a point a few km inland stands in.
  ['NS', 44.8, -63.7], // Halifax is 44.649, -63.575
  ['PE', 46.3, -63.3], // Charlottetown is 46.238, -63.129
  ['QC', 46.85, -71.35], // Québec City is 46.813, -71.208
];

describe('default boundaries (us-atlas 1:10M + Natural Earth 1:10m provinces)', () => {
  const map = defaultJurisdictionMap();

  it('has the 48 contiguous states, DC and the 10 provinces, each capital inside its own', () => {
    expect(map.source).toBe(DEFAULT_BOUNDARIES_SOURCE);
    expect(map.jurisdictions.map((j) => j.code).sort()).toEqual(IFTA_JURISDICTIONS.map((j) => j.code).sort());
    expect(IFTA_JURISDICTIONS.filter((j) => j.country === 'US')).toHaveLength(49);
    expect(IFTA_JURISDICTIONS.filter((j) => j.country === 'CA')).toHaveLength(10);
    expect(CAPITALS.filter(([code, lat, lon]) => map.locate(lat, lon) !== code)).toEqual([]);
  });

  it('what generalisation costs: harbour capitals in the sea, CO/WY 270 m south of 41°N, Mexico nowhere', () => {
    expect([map.locate(44.649, -63.575), map.locate(46.238, -63.129), map.locate(46.813, -71.208)]).toEqual([
      null,
      null,
      null,
    ]);
    const [co, wy] = map.splitSegment({ lat: 40.9, lon: -105 }, { lat: 41.1, lon: -105 });
    expect([co!.jurisdiction, wy!.jurisdiction]).toEqual(['CO', 'WY']);
    expect(wy!.from.lat).toBeCloseTo(40.9975, 3);
    expect(map.locate(25.67, -100.31)).toBeNull(); // Monterrey
  });
});
