import type pg from 'pg';

/**
 * A polygon as two arrays (vertex i = (lats[i], lons[i]), closed implicitly) with its bounding
 * box. Never edited once stored (the API creates and deletes; fleet_app has no UPDATE on it), so
 * its id names one polygon for good. Polygons across the antimeridian are refused by the API.
 */
export interface Geofence {
  id: number;
  tenantId: string;
  name: string;
  lats: readonly number[];
  lons: readonly number[];
  minLat: number;
  maxLat: number;
  minLon: number;
  maxLon: number;
  alertOnEnter: boolean;
  alertOnExit: boolean;
}

interface Row {
  id: number;
  tenant_id: string;
  name: string;
  lats: number[];
  lons: number[];
  min_lat: number;
  max_lat: number;
  min_lon: number;
  max_lon: number;
  alert_on_enter: boolean;
  alert_on_exit: boolean;
}

/** The geofences with these ids (the ones that still exist). */
export async function findGeofences(db: pg.ClientBase, ids: readonly number[]): Promise<Geofence[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query<Row>(
    `SELECT id, tenant_id, name, lats, lons, min_lat, max_lat, min_lon, max_lon, alert_on_enter, alert_on_exit
       FROM geofences WHERE id = ANY($1::bigint[])`,
    [ids],
  );
  return rows.map((r) => ({
    id: r.id,
    tenantId: r.tenant_id,
    name: r.name,
    lats: r.lats,
    lons: r.lons,
    minLat: r.min_lat,
    maxLat: r.max_lat,
    minLon: r.min_lon,
    maxLon: r.max_lon,
    alertOnEnter: r.alert_on_enter,
    alertOnExit: r.alert_on_exit,
  }));
}
