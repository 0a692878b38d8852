/**
 * The installation's reference data for IFTA: imported boundaries (one set) and tax rates per
 * quarter. Written by `fleet-cloud reports` as the database owner; read by fleet_app.
 */
import type pg from 'pg';
import { CloudError, CloudErrorCode } from '../../errors.ts';
import { formatScaled, parseScaled } from '../decimal.ts';
import type { IftaFuelType } from '../ifta/fuel-types.ts';
import { RATE_SCALE, type TaxRate } from '../ifta/rate-matrix.ts';
import { defaultJurisdictionMap, IFTA_JURISDICTIONS } from '../jurisdictions/default-map.ts';
import { JurisdictionMap } from '../jurisdictions/jurisdiction-map.ts';

type Db = Pick<pg.PoolClient, 'query'>;

/** Replaces the quarter's rates (a corrected matrix replaces the first import whole). */
export async function storeTaxRates(
  db: pg.PoolClient,
  quarter: string,
  rates: readonly TaxRate[],
  source: string,
) {
  await db.query('BEGIN');
  try {
    await db.query('DELETE FROM ifta_tax_rates WHERE quarter = $1', [quarter]);
    await db.query(
      `INSERT INTO ifta_tax_rates (quarter, jurisdiction, fuel_type, rate, surcharge, source)
       SELECT $1, * , $6 FROM unnest($2::text[], $3::text[], $4::numeric[], $5::numeric[])`,
      [
        quarter,
        rates.map((r) => r.jurisdiction),
        rates.map((r) => r.fuelType),
        rates.map((r) => (r.rate === null ? null : formatScaled(r.rate, RATE_SCALE))),
        rates.map((r) => formatScaled(r.surcharge, RATE_SCALE)),
        source,
      ],
    );
    await db.query('COMMIT');
  } catch (err) {
    await db.query('ROLLBACK');
    throw err;
  }
}

export async function loadTaxRates(db: Db, quarter: string): Promise<TaxRate[]> {
  const { rows } = await db.query<{
    jurisdiction: string;
    fuel_type: string;
    rate: string | null;
    surcharge: string;
  }>('SELECT jurisdiction, fuel_type, rate::text, surcharge::text FROM ifta_tax_rates WHERE quarter = $1', [
    quarter,
  ]);
  return rows.map((r) => ({
    quarter,
    jurisdiction: r.jurisdiction,
    fuelType: r.fuel_type as IftaFuelType,
    rate: r.rate === null ? null : parseScaled(r.rate, RATE_SCALE),
    surcharge: parseScaled(r.surcharge, RATE_SCALE) ?? 0,
  }));
}

/** Checks the file first (every bad feature named), then keeps it as the installation's set. */
export async function storeBoundaries(db: Db, geojson: unknown, source: string, importedBy: string) {
  const map = JurisdictionMap.fromGeoJson(geojson, IFTA_JURISDICTIONS, source);
  await db.query(
    `INSERT INTO ifta_boundaries (id, source, geojson, imported_by) VALUES (1, $1, $2, $3)
     ON CONFLICT (id) DO UPDATE SET source = EXCLUDED.source, geojson = EXCLUDED.geojson,
       imported_by = EXCLUDED.imported_by, imported_at = now()`,
    [source, JSON.stringify(geojson), importedBy],
  );
  return map;
}

let cachedImport: { key: string; map: JurisdictionMap } | undefined;

/** The imported set if there is one (parsed once per import), else the shipped default. */
export async function loadJurisdictionMap(db: Db): Promise<JurisdictionMap> {
  const { rows } = await db.query<{ source: string; at: string }>(
    `SELECT source, imported_at::text AS at FROM ifta_boundaries WHERE id = 1`,
  );
  const row = rows[0];
  if (!row) return defaultJurisdictionMap();
  const key = `${row.source}@${row.at}`;
  if (cachedImport?.key === key) return cachedImport.map;
  const { rows: g } = await db.query<{ geojson: unknown }>(
    'SELECT geojson FROM ifta_boundaries WHERE id = 1',
  );
  if (!g[0])
    throw new CloudError(CloudErrorCode.ReportDataMissing, 'imported boundaries vanished while reading');
  const map = JurisdictionMap.fromGeoJson(g[0].geojson, IFTA_JURISDICTIONS, row.source);
  cachedImport = { key, map };
  return map;
}
