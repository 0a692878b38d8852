/**
 * Consumption per vehicle and ISO week (Monday, UTC) against the median of its vehicle class.
 *
 *   distance per day: vehicle_day_distance (odometer delta, else filtered GPS) where the day was
 *                     rolled up, else the minute rollups (each minute's mean speed for a minute)
 *   litres per week:  fuel bought (fuel_transactions); a week without a purchase: the refuels the
 *                     vehicle detected (vehicle_events), so a fleet without fuel cards has a figure
 *   L/100 km = litres / km x 100 (weeks under 1 km have none); mpg (US) in US units
 *   class: the register's vehicle_class, else the name of its group when that group is a class,
 *          else "Unclassified"; the median is over the class's vehicles with a figure that week
 *
 * Litres bought in a week is fill-to-fill consumption: right over weeks, lumpy for one vehicle in
 * one week (a refuel on Sunday evening counts in that week). That is the figure finance checks
 * against the receipts, so it is the one shown.
 */
import type pg from 'pg';
import {
  KM_PER_MILE,
  LITRES_PER_US_GALLON,
  listOrNull,
  median,
  type ReportFilters,
  type ReportTable,
  round,
  type Units,
  vehicleFilterSql,
} from '../builder/report-table.ts';

/** L/100 km → miles per US gallon. */
export const mpgOf = (l100: number) => 100 / KM_PER_MILE / (l100 / LITRES_PER_US_GALLON);

export async function weeklyConsumption(
  db: Pick<pg.PoolClient, 'query'>,
  q: { tenantId: string; from: number; to: number; filters: ReportFilters; units: Units },
): Promise<ReportTable> {
  const { rows } = await db.query<{
    vehicle_id: string;
    name: string;
    class: string;
    week: string;
    km: number;
    bought_l: number;
    refuel_l: number;
  }>(
    `WITH v AS (
       SELECT v.id, coalesce(v.plate, v.id) AS name,
              coalesce(v.vehicle_class, CASE WHEN g.kind = 'class' THEN g.name END, 'Unclassified') AS class
         FROM vehicles v LEFT JOIN vehicle_groups g ON g.id = v.group_id
        WHERE v.tenant_id = $1 AND ${vehicleFilterSql(4, 5)}),
     roll AS (
       SELECT m.vehicle_id, (m.minute AT TIME ZONE 'UTC')::date AS day, sum(m.speed_avg) / 60.0 AS km
         FROM telemetry_minute m JOIN v ON v.id = m.vehicle_id
        WHERE m.tenant_id = $1 AND m.minute >= to_timestamp($2 / 1000.0) AND m.minute < to_timestamp($3 / 1000.0)
        GROUP BY 1, 2),
     dd AS (
       SELECT d.vehicle_id, d.day,
              CASE WHEN d.odometer_end_km >= d.odometer_start_km THEN d.odometer_end_km - d.odometer_start_km
                   ELSE d.gps_m / 1000.0 END AS km
         FROM vehicle_day_distance d JOIN v ON v.id = d.vehicle_id
        WHERE d.tenant_id = $1 AND d.day >= (to_timestamp($2 / 1000.0) AT TIME ZONE 'UTC')::date
          AND d.day < (to_timestamp($3 / 1000.0) AT TIME ZONE 'UTC')::date),
     dist AS (
       SELECT vehicle_id, date_trunc('week', day)::date AS week, sum(coalesce(dd.km, roll.km)) AS km
         FROM dd FULL JOIN roll USING (vehicle_id, day) GROUP BY 1, 2),
     bought AS (
       SELECT t.vehicle_id, date_trunc('week', t.ts AT TIME ZONE 'UTC')::date AS week, sum(t.litres) AS litres
         FROM fuel_transactions t JOIN v ON v.id = t.vehicle_id
        WHERE t.tenant_id = $1 AND t.ts >= to_timestamp($2 / 1000.0) AND t.ts < to_timestamp($3 / 1000.0)
        GROUP BY 1, 2),
     refuels AS (
       SELECT e.vehicle_id, date_trunc('week', e.start_ts AT TIME ZONE 'UTC')::date AS week, sum(e.volume_l) AS litres
         FROM vehicle_events e JOIN v ON v.id = e.vehicle_id
        WHERE e.tenant_id = $1 AND e.type = 'refuel' AND e.volume_l IS NOT NULL
          AND e.start_ts >= to_timestamp($2 / 1000.0) AND e.start_ts < to_timestamp($3 / 1000.0)
        GROUP BY 1, 2),
     keys AS (SELECT vehicle_id, week FROM dist UNION SELECT vehicle_id, week FROM bought
              UNION SELECT vehicle_id, week FROM refuels)
     SELECT k.vehicle_id, v.name, v.class, to_char(k.week, 'YYYY-MM-DD') AS week,
            coalesce(dist.km, 0)::float8 AS km, coalesce(bought.litres, 0)::float8 AS bought_l,
            coalesce(refuels.litres, 0)::float8 AS refuel_l
       FROM keys k JOIN v ON v.id = k.vehicle_id
       LEFT JOIN dist USING (vehicle_id, week) LEFT JOIN bought USING (vehicle_id, week)
       LEFT JOIN refuels USING (vehicle_id, week)
      ORDER BY v.class, v.name, k.week`,
    [q.tenantId, q.from, q.to, listOrNull(q.filters.groupIds), listOrNull(q.filters.vehicleIds)],
  );
  const us = q.units === 'us';
  const figures = rows.map((r) => {
    const litres = r.bought_l > 0 ? r.bought_l : r.refuel_l;
    const l100 = r.km >= 1 && litres > 0 ? (litres / r.km) * 100 : null;
    const value = l100 === null ? null : us ? mpgOf(l100) : l100;
    return {
      r,
      litres,
      value: value === null ? null : round(value, 2),
      source: r.bought_l > 0 ? 'purchases' : r.refuel_l > 0 ? 'detected refuels' : 'none',
    };
  });
  const byClassWeek = new Map<string, number[]>();
  for (const f of figures) {
    if (f.value === null) continue;
    const key = `${f.r.class}\u0000${f.r.week}`;
    byClassWeek.set(key, [...(byClassWeek.get(key) ?? []), f.value]);
  }
  const unit = us ? 'mpg' : 'L/100 km';
  return {
    kind: 'consumption',
    title: `Consumption per vehicle and week (${unit}) against its class median`,
    from: q.from,
    to: q.to,
    columns: [
      { key: 'vehicle', label: 'Vehicle', numeric: false },
      { key: 'class', label: 'Class', numeric: false },
      { key: 'week', label: 'Week of (Monday)', numeric: false },
      { key: 'distance', label: us ? 'Distance (mi)' : 'Distance (km)', numeric: true },
      { key: 'fuel', label: us ? 'Fuel (US gal)' : 'Fuel (L)', numeric: true },
      { key: 'consumption', label: unit, numeric: true },
      { key: 'classMedian', label: `Class median ${unit}`, numeric: true },
      { key: 'vsMedianPct', label: 'Against median %', numeric: true },
      { key: 'fuelSource', label: 'Fuel from', numeric: false },
    ],
    rows: figures.map(({ r, litres, value, source }) => {
      const m = median(byClassWeek.get(`${r.class}\u0000${r.week}`) ?? []);
      const classMedian = m === null ? null : round(m, 2);
      return {
        vehicle: r.name,
        vehicleId: r.vehicle_id,
        class: r.class,
        week: r.week,
        distance: round(us ? r.km / KM_PER_MILE : r.km, 1),
        fuel: round(us ? litres / LITRES_PER_US_GALLON : litres, 1),
        consumption: value,
        classMedian,
        vsMedianPct:
          value === null || classMedian === null || classMedian === 0
            ? null
            : round(((value - classMedian) / classMedian) * 100, 1),
        fuelSource: source,
      };
    }),
    chart: {
      title: `${unit} per vehicle and week against its class median`,
      labelKeys: ['vehicle', 'week'],
      series: [
        { key: 'consumption', label: unit },
        { key: 'classMedian', label: 'Class median' },
      ],
      unit,
    },
    notes: [
      'Distance: the kept daily distance (odometer, else filtered GPS) where rolled up, else the minute rollups.',
      'Fuel: litres bought in the week; a week without a purchase uses the refuels the vehicle detected.',
    ],
  };
}
