/**
 * Fuel spend per vehicle, group, cost centre or the fleet, per calendar month (UTC), against its
 * monthly budget, with the variance and, for the current and later months, the month-end forecast.
 *
 *   fuel_transactions (amount) ──▶ daily spend per vehicle ──▶ per scope and month: spend
 *   fuel_budgets (or vehicles.monthly_fuel_budget) ─────────▶ budget, variance = spend - budget
 *   the last 56 days of the scope's daily spend ──▶ fuel/forecast.ts weekdayProfileForecast ──▶
 *       month-end forecast = spend so far + the model's days after today
 *
 * A scope without a budget row of its own for a month is budgeted the sum of its vehicles' budgets
 * (a vehicle: its fuel_budgets row, else the register's monthly_fuel_budget). Spend is counted in
 * the tenant's main currency (the one most purchases of the period are in); purchases in another
 * currency are left out and counted in the notes, never converted at a guessed rate.
 */
import type pg from 'pg';
import { weekdayProfileForecast } from '../../fuel/forecast.ts';
import {
  listOrNull,
  type ReportFilters,
  type ReportTable,
  round,
  vehicleFilterSql,
} from '../builder/report-table.ts';

export const BUDGET_SCOPES = ['fleet', 'group', 'cost_centre', 'vehicle'] as const;
export type BudgetScope = (typeof BUDGET_SCOPES)[number];

const DAY_MS = 86_400_000;
/** Days of history the month-end forecast is made from (the model's 8-week weekday profile). */
export const FORECAST_HISTORY_DAYS = 56;

/** First day (UTC day number) of each month overlapping [from, to). */
export function monthsOf(from: number, to: number): { key: string; firstDay: number; endDay: number }[] {
  const out: { key: string; firstDay: number; endDay: number }[] = [];
  const d = new Date(from);
  let y = d.getUTCFullYear();
  let m = d.getUTCMonth();
  for (;;) {
    const start = Date.UTC(y, m, 1);
    if (start >= to) break;
    const end = Date.UTC(y, m + 1, 1);
    out.push({
      key: new Date(start).toISOString().slice(0, 7),
      firstDay: start / DAY_MS,
      endDay: end / DAY_MS,
    });
    m++;
    if (m === 12) {
      m = 0;
      y++;
    }
  }
  return out;
}

interface VehicleRow {
  id: string;
  name: string;
  group_id: string | null;
  group_name: string | null;
  cost_centre: string | null;
  monthly_fuel_budget: string | null;
}

function scopeOf(scope: BudgetScope, v: VehicleRow): { key: string; name: string } {
  if (scope === 'vehicle') return { key: v.id, name: v.name };
  if (scope === 'group') return { key: v.group_id ?? '', name: v.group_name ?? 'No group' };
  if (scope === 'cost_centre') return { key: v.cost_centre ?? '', name: v.cost_centre ?? 'No cost centre' };
  return { key: '', name: 'Fleet' };
}

export async function costVsBudget(
  db: Pick<pg.PoolClient, 'query'>,
  q: { tenantId: string; from: number; to: number; scope: BudgetScope; filters: ReportFilters; now: number },
): Promise<ReportTable> {
  const months = monthsOf(q.from, q.to);
  const today = Math.floor(q.now / DAY_MS);
  const firstDay = Math.min(months[0]?.firstDay ?? today, today - FORECAST_HISTORY_DAYS);
  const lastDay = Math.max(months.at(-1)?.endDay ?? today, today + 1);
  const { rows: vehicles } = await db.query<VehicleRow>(
    `SELECT v.id, coalesce(v.plate, v.id) AS name, v.group_id::text AS group_id, g.name AS group_name,
            v.cost_centre, v.monthly_fuel_budget::text AS monthly_fuel_budget
       FROM vehicles v LEFT JOIN vehicle_groups g ON g.id = v.group_id
      WHERE v.tenant_id = $1 AND ${vehicleFilterSql(2, 3)}
      ORDER BY 2, 1`,
    [q.tenantId, listOrNull(q.filters.groupIds), listOrNull(q.filters.vehicleIds)],
  );
  const ids = vehicles.map((v) => v.id);
  const { rows: currencies } = await db.query<{ currency: string; n: number }>(
    `SELECT currency, count(*)::int AS n FROM fuel_transactions
      WHERE tenant_id = $1 AND vehicle_id = ANY($2::text[]) AND currency IS NOT NULL AND amount IS NOT NULL
        AND ts >= to_timestamp($3 * 86400.0) AND ts < to_timestamp($4 * 86400.0)
      GROUP BY 1 ORDER BY 2 DESC, 1`,
    [q.tenantId, ids, firstDay, lastDay],
  );
  const currency = currencies[0]?.currency ?? null;
  const { rows: spend } = await db.query<{ vehicle_id: string; day: number; amount: string }>(
    `SELECT vehicle_id, floor(extract(epoch FROM ts) / 86400)::int AS day, sum(amount)::text AS amount
       FROM fuel_transactions
      WHERE tenant_id = $1 AND vehicle_id = ANY($2::text[]) AND currency = $3 AND amount IS NOT NULL
        AND ts >= to_timestamp($4 * 86400.0) AND ts < to_timestamp($5 * 86400.0)
      GROUP BY 1, 2`,
    [q.tenantId, ids, currency, firstDay, lastDay],
  );
  const { rows: budgets } = await db.query<{
    scope: BudgetScope;
    scope_key: string;
    month: string;
    amount: string;
  }>(
    `SELECT scope, scope_key, to_char(month, 'YYYY-MM') AS month, amount::text AS amount FROM fuel_budgets
      WHERE tenant_id = $1 AND month >= to_timestamp($2 * 86400.0)::date AND month < to_timestamp($3 * 86400.0)::date
        AND scope IN ($4, 'vehicle')`,
    [q.tenantId, months[0]?.firstDay ?? today, months.at(-1)?.endDay ?? today, q.scope],
  );
  const budgetOf = new Map(
    budgets.map((b) => [`${b.scope}\u0000${b.scope_key}\u0000${b.month}`, Number(b.amount)]),
  );

  // Cents as integers while summing: the spend is money, added to the cent.
  const scopes = new Map<string, { name: string; vehicles: VehicleRow[]; daily: Map<number, number> }>();
  const scopeOfVehicle = new Map<string, string>();
  for (const v of vehicles) {
    const s = scopeOf(q.scope, v);
    let e = scopes.get(s.key);
    if (!e) {
      e = { name: s.name, vehicles: [], daily: new Map() };
      scopes.set(s.key, e);
    }
    e.vehicles.push(v);
    scopeOfVehicle.set(v.id, s.key);
  }
  for (const r of spend) {
    const daily = scopes.get(scopeOfVehicle.get(r.vehicle_id)!)!.daily;
    daily.set(r.day, (daily.get(r.day) ?? 0) + Math.round(Number(r.amount) * 100));
  }
  const centsBetween = (daily: Map<number, number>, a: number, b: number) => {
    let c = 0;
    for (const [day, cents] of daily) if (day >= a && day < b) c += cents;
    return c;
  };

  const rows: ReportTable['rows'] = [];
  for (const [key, s] of [...scopes].sort((a, b) => a[1].name.localeCompare(b[1].name))) {
    const history = Array.from(
      { length: FORECAST_HISTORY_DAYS },
      (_, i) => (s.daily.get(today - FORECAST_HISTORY_DAYS + i) ?? 0) / 100,
    );
    for (const m of months) {
      const spentCents = centsBetween(s.daily, m.firstDay, m.endDay);
      const own = budgetOf.get(`${q.scope}\u0000${key}\u0000${m.key}`);
      let budget: number | null = own ?? null;
      if (budget === null && q.scope !== 'vehicle') {
        const parts = s.vehicles.map(
          (v) =>
            budgetOf.get(`vehicle\u0000${v.id}\u0000${m.key}`) ??
            (v.monthly_fuel_budget === null ? null : Number(v.monthly_fuel_budget)),
        );
        if (parts.some((p) => p !== null))
          budget = round(
            parts.reduce<number>((a, p) => a + (p ?? 0), 0),
            2,
          );
      } else if (budget === null) {
        const v = s.vehicles[0]!;
        budget = v.monthly_fuel_budget === null ? null : Number(v.monthly_fuel_budget);
      }
      // Month-end forecast: closed months have none (their spend is final); the current month is
      // its spend so far plus the model's days after today; a later month is the model's alone.
      let forecast: number | null = null;
      if (m.endDay > today) {
        const horizon = m.endDay - today;
        const model = weekdayProfileForecast(history, today - FORECAST_HISTORY_DAYS, horizon);
        const fromDay = Math.max(m.firstDay, today + 1);
        const ahead = model.slice(fromDay - today).reduce((a, b) => a + b, 0);
        const soFar = m.firstDay <= today ? spentCents / 100 : 0;
        forecast = round(soFar + ahead, 2);
      }
      const spent = spentCents / 100;
      rows.push({
        scope: s.name,
        scopeKey: key,
        month: m.key,
        spend: spent,
        budget,
        variance: budget === null ? null : round(spent - budget, 2),
        variancePct: budget === null || budget === 0 ? null : round(((spent - budget) / budget) * 100, 1),
        forecast,
        forecastVariance: forecast === null || budget === null ? null : round(forecast - budget, 2),
      });
    }
  }
  const { rows: other } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM fuel_transactions
      WHERE tenant_id = $1 AND vehicle_id = ANY($2::text[]) AND amount IS NOT NULL AND currency IS DISTINCT FROM $3
        AND ts >= to_timestamp($4 * 86400.0) AND ts < to_timestamp($5 * 86400.0)`,
    [q.tenantId, ids, currency, months[0]?.firstDay ?? today, months.at(-1)?.endDay ?? today],
  );
  const cur = currency ?? '';
  return {
    kind: 'cost',
    title: `Fuel spend against budget per ${q.scope.replace('_', ' ')} and month${currency ? ` (${currency})` : ''}`,
    from: q.from,
    to: q.to,
    columns: [
      {
        key: 'scope',
        label:
          q.scope === 'cost_centre'
            ? 'Cost centre'
            : q.scope === 'fleet'
              ? 'Scope'
              : q.scope === 'group'
                ? 'Group'
                : 'Vehicle',
        numeric: false,
      },
      { key: 'month', label: 'Month', numeric: false },
      { key: 'spend', label: `Spend ${cur}`.trim(), numeric: true },
      { key: 'budget', label: `Budget ${cur}`.trim(), numeric: true },
      { key: 'variance', label: `Variance ${cur}`.trim(), numeric: true },
      { key: 'variancePct', label: 'Variance %', numeric: true },
      { key: 'forecast', label: `Month-end forecast ${cur}`.trim(), numeric: true },
      { key: 'forecastVariance', label: `Forecast variance ${cur}`.trim(), numeric: true },
    ],
    rows,
    chart: {
      title: 'Spend, budget and month-end forecast',
      labelKeys: ['scope', 'month'],
      series: [
        { key: 'spend', label: 'Spend' },
        { key: 'budget', label: 'Budget' },
        { key: 'forecast', label: 'Forecast' },
      ],
      unit: cur,
    },
    notes: [
      'Spend: fuel-card purchases and manual purchases of the vehicles, by UTC calendar month.',
      'Month-end forecast: spend so far plus the weekday-profile model over the last 56 days (fuel/forecast.ts) for the days after today; none for closed months.',
      ...(other[0]!.n > 0 ? [`${other[0]!.n} purchase(s) in another currency than ${cur} left out.`] : []),
    ],
  };
}
