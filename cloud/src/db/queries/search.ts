import type pg from 'pg';

/**
 * Full-text and faceted search across vehicles, drivers, alerts and fuel logs (card purchases and
 * the drivers' refuel log), in PostgreSQL only (works the same on PGlite):
 *
 *   docs   one row per searchable thing: kind, id, title, time, vehicle, driver, status, fuel type,
 *          and the text to match
 *   match  to_tsvector('simple', text) @@ websearch_to_tsquery('simple', q)  (words, "phrases", -not)
 *          OR text ILIKE %q%                                                  (parts of ids: "van-1")
 *   facets disjunctive: each facet's counts apply every filter except its own, so choosing one
 *          vehicle still shows how many hits the other vehicles have
 */
export const SEARCH_KINDS = ['vehicle', 'driver', 'alert', 'fuel'] as const;
export type SearchKind = (typeof SEARCH_KINDS)[number];
export const FACETS = ['kind', 'vehicle', 'driver', 'fuelType', 'status'] as const;
export type Facet = (typeof FACETS)[number];
export const FACET_VALUES_SHOWN = 20;

export interface SearchFilter {
  tenantId: string;
  q: string | null;
  kinds: string[] | null;
  vehicleIds: string[] | null;
  driverIds: string[] | null;
  fuelTypes: string[] | null;
  statuses: string[] | null;
  from: number | null;
  to: number | null;
}

export interface SearchHit {
  kind: SearchKind;
  id: string;
  title: string;
  subtitle: string | null;
  ts: number;
  vehicleId: string | null;
  driverId: string | null;
  status: string | null;
  fuelType: string | null;
}

export interface FacetValue {
  value: string;
  label: string;
  count: number;
}

const DOCS = `docs AS (
  SELECT 'vehicle'::text AS kind, v.id AS id, v.id AS title, NULL::text AS subtitle,
         coalesce(l.ts, v.created_at) AS ts, v.id AS vehicle_id, NULL::text AS driver_id,
         CASE WHEN v.online IS FALSE THEN 'offline' WHEN v.online THEN 'online' ELSE 'unknown' END AS status,
         NULL::text AS fuel_type, v.id AS body
    FROM vehicles v LEFT JOIN vehicle_latest l ON l.vehicle_id = v.id WHERE v.tenant_id = $1
  UNION ALL
  SELECT 'driver', u.id, u.name, u.email, u.created_at, a.vehicle_id, u.id, NULL, NULL,
         concat_ws(' ', u.name, u.email, a.vehicle_id)
    FROM users u
    LEFT JOIN vehicle_assignments a ON a.user_id = u.id AND a.ends_at IS NULL AND a.starts_at <= now()
   WHERE u.tenant_id = $1 AND u.role = 'driver'
  UNION ALL
  SELECT 'alert', a.id::text, a.title, a.type, a.ts, a.vehicle_id, assigned_driver(a.vehicle_id, a.ts), a.status, NULL,
         concat_ws(' ', a.title, replace(a.type, '_', ' '), a.vehicle_id)
    FROM alerts a WHERE a.tenant_id = $1
  UNION ALL
  SELECT 'fuel', 'tx-' || t.id, coalesce(t.station, 'Fuel purchase'), round(t.litres::numeric, 1) || ' L',
         t.ts, t.vehicle_id, coalesce(assigned_driver(t.vehicle_id, t.ts), t.driver_id), coalesce(r.status, 'pending'), t.fuel_type,
         concat_ws(' ', t.station, t.fuel_type, t.vehicle_id, t.card_id, t.external_id)
    FROM fuel_transactions t LEFT JOIN fuel_reconciliations r ON r.transaction_id = t.id
   WHERE t.tenant_id = $1
  UNION ALL
  SELECT 'fuel', 'log-' || f.id, coalesce(f.station, 'Refuel log'), round(f.litres::numeric, 1) || ' L',
         f.ts, f.vehicle_id, f.user_id, 'logged', f.fuel_type,
         concat_ws(' ', f.station, f.fuel_type, f.vehicle_id, f.note)
    FROM refuel_logs f WHERE f.tenant_id = $1),
base AS (
  SELECT kind, id, title, subtitle, date_trunc('milliseconds', ts) AS ts, vehicle_id, driver_id, status, fuel_type,
         ($4::text[] IS NULL OR kind = ANY ($4)) AS ok_kind,
         ($5::text[] IS NULL OR vehicle_id = ANY ($5)) AS ok_vehicle,
         ($6::text[] IS NULL OR driver_id = ANY ($6)) AS ok_driver,
         ($7::text[] IS NULL OR fuel_type = ANY ($7)) AS ok_fuel,
         ($8::text[] IS NULL OR status = ANY ($8)) AS ok_status
    FROM docs
   WHERE ($2::text IS NULL OR to_tsvector('simple', body) @@ websearch_to_tsquery('simple', $2)
          OR body ILIKE '%' || $3 || '%')
     AND ($9::float8 IS NULL OR ts >= to_timestamp($9 / 1000.0))
     AND ($10::float8 IS NULL OR ts < to_timestamp($10 / 1000.0)))`;

/** A user's words as a LIKE pattern part: %, _ and \ match themselves. */
const likeEscape = (q: string) => q.replace(/[\\%_]/g, (c) => `\\${c}`);

const params = (f: SearchFilter) => [
  f.tenantId,
  f.q,
  f.q === null ? null : likeEscape(f.q),
  f.kinds,
  f.vehicleIds,
  f.driverIds,
  f.fuelTypes,
  f.statuses,
  f.from,
  f.to,
];

/** Hits newest first by (ts, kind, id), after the cursor. */
export async function searchHits(
  db: pg.PoolClient,
  f: SearchFilter,
  limit: number,
  after: { ts: number; kind: string; id: string } | null,
): Promise<SearchHit[]> {
  const { rows } = await db.query<{
    kind: SearchKind;
    id: string;
    title: string;
    subtitle: string | null;
    ts: Date;
    vehicle_id: string | null;
    driver_id: string | null;
    status: string | null;
    fuel_type: string | null;
  }>(
    `WITH ${DOCS}
     SELECT kind, id, title, subtitle, ts, vehicle_id, driver_id, status, fuel_type FROM base
      WHERE ok_kind AND ok_vehicle AND ok_driver AND ok_fuel AND ok_status
        AND ($11::float8 IS NULL OR ts < to_timestamp($11 / 1000.0)
             OR (ts = to_timestamp($11 / 1000.0) AND (kind, id) > ($12::text, $13::text)))
      ORDER BY ts DESC, kind, id LIMIT $14`,
    [...params(f), after?.ts ?? null, after?.kind ?? null, after?.id ?? null, limit],
  );
  return rows.map((r) => ({
    kind: r.kind,
    id: r.id,
    title: r.title,
    subtitle: r.subtitle,
    ts: r.ts.getTime(),
    vehicleId: r.vehicle_id,
    driverId: r.driver_id,
    status: r.status,
    fuelType: r.fuel_type,
  }));
}

/** The total and, per facet, its most frequent values with their counts (drivers labelled by name). */
export async function searchFacets(
  db: pg.PoolClient,
  f: SearchFilter,
): Promise<{ total: number; facets: Record<Facet, FacetValue[]> }> {
  const facet = (name: Facet, column: string, others: string) =>
    `(SELECT '${name}' AS facet, ${column} AS value, count(*)::int AS n FROM base
       WHERE ${column} IS NOT NULL AND ${others} GROUP BY ${column} ORDER BY n DESC, value LIMIT ${FACET_VALUES_SHOWN})`;
  const { rows } = await db.query<{
    facet: Facet | 'total';
    value: string | null;
    n: number;
    label: string | null;
  }>(
    `WITH ${DOCS},
     counts AS (
       SELECT 'total' AS facet, NULL::text AS value, count(*)::int AS n FROM base
        WHERE ok_kind AND ok_vehicle AND ok_driver AND ok_fuel AND ok_status
       UNION ALL ${facet('kind', 'kind', 'ok_vehicle AND ok_driver AND ok_fuel AND ok_status')}
       UNION ALL ${facet('vehicle', 'vehicle_id', 'ok_kind AND ok_driver AND ok_fuel AND ok_status')}
       UNION ALL ${facet('driver', 'driver_id', 'ok_kind AND ok_vehicle AND ok_fuel AND ok_status')}
       UNION ALL ${facet('fuelType', 'fuel_type', 'ok_kind AND ok_vehicle AND ok_driver AND ok_status')}
       UNION ALL ${facet('status', 'status', 'ok_kind AND ok_vehicle AND ok_driver AND ok_fuel')})
     SELECT c.facet, c.value, c.n, CASE WHEN c.facet = 'driver' THEN u.name END AS label
       FROM counts c LEFT JOIN users u ON c.facet = 'driver' AND u.id = c.value AND u.tenant_id = $1`,
    params(f),
  );
  const facets = Object.fromEntries(FACETS.map((k) => [k, [] as FacetValue[]])) as Record<
    Facet,
    FacetValue[]
  >;
  let total = 0;
  for (const r of rows) {
    if (r.facet === 'total') total = r.n;
    else facets[r.facet].push({ value: r.value!, label: r.label ?? r.value!, count: r.n });
  }
  for (const k of FACETS) facets[k].sort((a, b) => b.count - a.count || a.value.localeCompare(b.value));
  return { total, facets };
}
