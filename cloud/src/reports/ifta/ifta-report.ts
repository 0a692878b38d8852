/**
 * The stored records → the return (ifta-return.ts) and the trip detail rows for the exports.
 * Runs as the tenant (ctx.tenant / inTenant): tenant tables under row-level security; the rates
 * and boundaries are the installation's reference data.
 */
import type pg from 'pg';
import type { TripRecordRow } from '../exports/ifta-exports.ts';
import { IFTA_JURISDICTIONS } from '../jurisdictions/default-map.ts';
import { formatQuarter, type IftaQuarter, quarterRange } from '../quarter.ts';
import { loadJurisdictionMap, loadTaxRates } from '../store/reference-store.ts';
import { iftaFuelType } from './fuel-types.ts';
import { computeIftaReturn, type IftaReturn, type IftaVehicle } from './ifta-return.ts';

type Db = Pick<pg.PoolClient, 'query'>;

export async function loadIftaReturn(db: Db, tenantId: string, quarter: IftaQuarter): Promise<IftaReturn> {
  const { from, to } = quarterRange(quarter);
  const map = await loadJurisdictionMap(db);
  const known = new Set(IFTA_JURISDICTIONS.map((j) => j.code));
  const { rows: vehicles } = await db.query<{ id: string; fuel_type: string | null }>(
    `SELECT id, fuel_type FROM vehicles WHERE tenant_id = $1 AND (retired_at IS NULL OR retired_at >= $2) ORDER BY id`,
    [tenantId, new Date(from)],
  );
  const { rows: days } = await db.query<{
    vehicle_id: string;
    day: string;
    odometer_start_km: number | null;
    odometer_end_km: number | null;
    by_jurisdiction: Record<string, number>;
  }>(
    `SELECT vehicle_id, day::text, odometer_start_km, odometer_end_km, by_jurisdiction
       FROM vehicle_day_distance WHERE tenant_id = $1 AND day >= $2::date AND day < $3::date ORDER BY vehicle_id, day`,
    [tenantId, new Date(from).toISOString().slice(0, 10), new Date(to).toISOString().slice(0, 10)],
  );
  const byVehicle = new Map<string, IftaVehicle>(
    vehicles.map((v) => [v.id, { vehicleId: v.id, fuelType: iftaFuelType(v.fuel_type), days: [] }]),
  );
  for (const d of days) {
    const v = byVehicle.get(d.vehicle_id);
    if (!v) continue;
    const s = d.odometer_start_km;
    const e = d.odometer_end_km;
    v.days.push({
      day: d.day,
      // A reading that went backwards (an ECU swap, a rollover) is no distance: GPS takes over.
      odometerMetres: s !== null && e !== null && e >= s ? Math.round((e - s) * 1000) : null,
      gpsMetres: new Map(Object.entries(d.by_jurisdiction)),
    });
  }
  const { rows: purchases } = await db.query<{
    id: string;
    vehicle_id: string | null;
    ts: number;
    litres: number;
    fuel_type: string | null;
    station: string | null;
    lat: number | null;
    lon: number | null;
    jurisdiction: string | null;
  }>(
    `SELECT id::text, vehicle_id, (extract(epoch FROM ts) * 1000)::float8 AS ts, litres, fuel_type, station, lat, lon,
            upper(raw->>'jurisdiction') AS jurisdiction
       FROM fuel_transactions WHERE tenant_id = $1 AND ts >= $2 AND ts < $3 ORDER BY ts, id`,
    [tenantId, new Date(from), new Date(to)],
  );
  const { rows: gaps } = await db.query<{
    vehicle_id: string;
    from_ms: number;
    to_ms: number;
    from_jurisdiction: string | null;
    to_jurisdiction: string | null;
    metres: number;
  }>(
    `SELECT vehicle_id, (extract(epoch FROM from_ts) * 1000)::float8 AS from_ms, (extract(epoch FROM to_ts) * 1000)::float8 AS to_ms,
            from_jurisdiction, to_jurisdiction, metres
       FROM ifta_distance_gaps WHERE tenant_id = $1 AND from_ts >= $2 AND from_ts < $3 ORDER BY vehicle_id, from_ts`,
    [tenantId, new Date(from), new Date(to)],
  );
  return computeIftaReturn({
    quarter,
    jurisdictions: IFTA_JURISDICTIONS,
    vehicles: [...byVehicle.values()],
    purchases: purchases.map((p) => ({
      id: p.id,
      vehicleId: p.vehicle_id,
      ts: p.ts,
      litres: p.litres,
      fuelType:
        iftaFuelType(p.fuel_type) ?? (p.vehicle_id ? (byVehicle.get(p.vehicle_id)?.fuelType ?? null) : null),
      // The station's position decides; a card export's own jurisdiction column is the fallback.
      jurisdiction:
        p.lat !== null && p.lon !== null
          ? map.locate(p.lat, p.lon)
          : p.jurisdiction && known.has(p.jurisdiction)
            ? p.jurisdiction
            : null,
      station: p.station,
    })),
    rates: await loadTaxRates(db, formatQuarter(quarter)),
    gaps: gaps.map((g) => ({
      vehicleId: g.vehicle_id,
      from: g.from_ms,
      to: g.to_ms,
      fromJurisdiction: g.from_jurisdiction,
      toJurisdiction: g.to_jurisdiction,
      metres: g.metres,
    })),
    boundariesSource: map.source,
  });
}

/** The quarter's trip detail records, a page at a time (keyset on vehicle, time, kind). */
export async function* tripRecordRows(
  db: Db,
  tenantId: string,
  quarter: IftaQuarter,
  pageSize = 5000,
): AsyncGenerator<TripRecordRow> {
  const { from, to } = quarterRange(quarter);
  let after: [string, Date, string] = ['', new Date(0), ''];
  for (;;) {
    const { rows } = await db.query<{
      vehicle_id: string;
      unit: string;
      ts: Date;
      ts_ms: number;
      kind: string;
      lat: number;
      lon: number;
      odometer_km: number | null;
      jurisdiction: string | null;
    }>(
      `SELECT r.vehicle_id, coalesce(v.plate, v.vin, r.vehicle_id) AS unit, r.ts, (extract(epoch FROM r.ts) * 1000)::float8 AS ts_ms,
              r.kind, r.lat, r.lon, r.odometer_km, r.jurisdiction
         FROM ifta_trip_records r LEFT JOIN vehicles v ON v.id = r.vehicle_id
        WHERE r.tenant_id = $1 AND r.ts >= $2 AND r.ts < $3 AND (r.vehicle_id, r.ts, r.kind) > ($4, $5, $6)
        ORDER BY r.vehicle_id, r.ts, r.kind LIMIT $7`,
      [tenantId, new Date(from), new Date(to), after[0], after[1], after[2], pageSize],
    );
    for (const r of rows)
      yield {
        vehicleId: r.vehicle_id,
        unit: r.unit,
        ts: r.ts_ms,
        lat: r.lat,
        lon: r.lon,
        odometerKm: r.odometer_km,
        jurisdiction: r.jurisdiction,
      };
    if (rows.length < pageSize) return;
    const last = rows.at(-1)!;
    after = [last.vehicle_id, last.ts, last.kind];
  }
}
