/**
 * Distances and courses on the Earth, for positions as the GPS gives them (WGS84 degrees).
 *
 * A sphere of the IUGG mean radius: within 0.5 % of the ellipsoid's geodesic anywhere, far below
 * what a GPS fix, a geocoded fuel station or a tank reading is off by, and a few trigonometric
 * calls per pair where an ellipsoidal (Vincenty) solution iterates.
 */

/** IUGG mean Earth radius R1, metres. */
export const EARTH_RADIUS_M = 6_371_008.8;

const RAD = Math.PI / 180;

/** Great-circle distance between two positions, metres (the haversine formula). */
export function haversineM(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const dLat = (lat2 - lat1) * RAD;
  const dLon = (lon2 - lon1) * RAD;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * RAD) * Math.cos(lat2 * RAD) * Math.sin(dLon / 2) ** 2;
  // Rounding can push h a hair above 1 for nearly antipodal points: asin would be NaN.
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Initial great-circle bearing from position 1 to position 2, degrees clockwise from north [0...360). */
export function bearingDeg(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const y = Math.sin((lon2 - lon1) * RAD) * Math.cos(lat2 * RAD);
  const x =
    Math.cos(lat1 * RAD) * Math.sin(lat2 * RAD) -
    Math.sin(lat1 * RAD) * Math.cos(lat2 * RAD) * Math.cos((lon2 - lon1) * RAD);
  return (Math.atan2(y, x) / RAD + 360) % 360;
}
