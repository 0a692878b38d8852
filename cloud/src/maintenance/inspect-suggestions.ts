import type pg from 'pg';

/**
 * Predictive maintenance (issue 18 §2): the engine model's scores per vehicle and day, and the
 * days worth a look as "inspect" suggestions a technician turns into a work order.
 *
 *   agent: engine_scores segments (vehicle_events) --> engineScoreDays(): one row per UTC day
 *     --> inspectSuggestions(): days high for THIS vehicle's own history --> diagnostics page
 *     --> "Open work order": source { kind: 'anomaly', ref: '<vehicle>/<day>' } (one per day)
 */

export interface FeatureShare {
  feature: string;
  share: number;
}

export interface EngineScoreDay {
  day: string;
  windows: number;
  anomalousWindows: number;
  mean: number;
  /** The largest segment p95 of the day: an upper bound on the day's p95 (segments cannot be merged exactly). */
  p95: number;
  max: number;
  threshold: number;
  /** Each input's share of the day's reconstruction error (segments weighted by windows), largest first. */
  features: FeatureShare[];
  modelVersions: string[];
}

export interface InspectSuggestion {
  vehicleId: string;
  day: string;
  /** `<vehicle>/<day>`: the work order's source ref, so a day opens one order. */
  ref: string;
  mean: number;
  /** What the day was compared with: the history's median, or the model's threshold when too short. */
  baseline: number;
  limit: number;
  rule: 'history' | 'threshold';
  /** The inputs that drove the score (the top 3 shares). */
  features: FeatureShare[];
}

/** A day needs this many scored 10 s windows (5 min of engine running) to be judged or used. */
export const MIN_WINDOWS = 30;
/** Days of the vehicle's own history a day is compared with (the ones before it). */
export const HISTORY_DAYS = 28;
/** Fewer judged days than this before it: the history rule cannot speak yet. */
export const MIN_HISTORY = 5;
/** How far over the history's median (in robust standard deviations) a day must be. */
export const SIGMAS = 3;

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** The vehicle's days in [from, to) (epoch ms of segment starts), oldest first. */
export async function engineScoreDays(
  db: pg.ClientBase,
  tenantId: string,
  vehicleId: string,
  from: number,
  to: number,
): Promise<EngineScoreDay[]> {
  const { rows } = await db.query<{ details: Record<string, unknown>; model_version: string | null }>(
    `SELECT details, model_version FROM vehicle_events
      WHERE tenant_id = $1 AND vehicle_id = $2 AND type = 'engine_scores'
        AND start_ts >= to_timestamp($3 / 1000.0) AND start_ts < to_timestamp($4 / 1000.0)
      ORDER BY start_ts, event_id`,
    [tenantId, vehicleId, from, to],
  );
  const days = new Map<string, EngineScoreDay & { sum: number; shares: Map<string, number> }>();
  for (const { details: d, model_version } of rows) {
    const day = typeof d.day === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(d.day) ? d.day : null;
    const n = Math.round(num(d.windows));
    if (day === null || n <= 0) continue;
    let acc = days.get(day);
    if (!acc) {
      acc = {
        day,
        windows: 0,
        anomalousWindows: 0,
        mean: 0,
        p95: 0,
        max: 0,
        threshold: num(d.threshold),
        features: [],
        modelVersions: [],
        sum: 0,
        shares: new Map(),
      };
      days.set(day, acc);
    }
    acc.windows += n;
    acc.anomalousWindows += Math.round(num(d.anomalousWindows));
    acc.sum += num(d.mean) * n;
    acc.p95 = Math.max(acc.p95, num(d.p95));
    acc.max = Math.max(acc.max, num(d.max));
    // A later model's threshold is the one the day is read against.
    if (num(d.threshold) > 0) acc.threshold = num(d.threshold);
    if (model_version && !acc.modelVersions.includes(model_version)) acc.modelVersions.push(model_version);
    if (Array.isArray(d.features)) {
      for (const f of d.features as { feature?: unknown; share?: unknown }[]) {
        if (typeof f?.feature !== 'string') continue;
        acc.shares.set(f.feature, (acc.shares.get(f.feature) ?? 0) + num(f.share) * n);
      }
    }
  }
  return [...days.values()]
    .sort((a, b) => (a.day < b.day ? -1 : 1))
    .map(({ sum, shares, ...day }) => ({
      ...day,
      mean: round(sum / day.windows),
      features: [...shares]
        .map(([feature, s]) => ({ feature, share: Math.round((s / day.windows) * 1000) / 1000 }))
        .sort((a, b) => b.share - a.share),
    }));
}

/**
 * Which days to inspect. The model is trained on this vehicle's normal driving, but what "normal"
 * scores is not the same for every vehicle (a model that fits one van a little worse scores all
 * its days higher) and drifts slowly (sensors age, seasons): a fixed limit would flag some vehicles
 * every day and others never. So a day is compared with the same vehicle's own earlier days:
 *
 * - history rule: with at least MIN_HISTORY judged days in the HISTORY_DAYS before it, a day is
 *   high when its mean score exceeds the median of those days' means by more than SIGMAS robust
 *   standard deviations (1.4826 x the median absolute deviation; at least 10 % of the median so a
 *   perfectly flat history does not flag noise). Median and MAD, not mean and SD: one earlier bad
 *   day must not hide the next one.
 * - threshold rule (a new vehicle or model, too little history): high when the day's p95 is over
 *   the model's own threshold, i.e. more than 5 % of its windows were anomalous.
 *
 * Days with fewer than MIN_WINDOWS scored windows are neither judged nor used as history.
 */
export function inspectSuggestions(vehicleId: string, days: readonly EngineScoreDay[]): InspectSuggestion[] {
  const out: InspectSuggestion[] = [];
  const judged = days.filter((d) => d.windows >= MIN_WINDOWS);
  judged.forEach((d, i) => {
    const dayMs = Date.parse(`${d.day}T00:00:00Z`);
    const history = judged
      .slice(0, i)
      .filter((h) => Date.parse(`${h.day}T00:00:00Z`) >= dayMs - HISTORY_DAYS * 86_400_000)
      .map((h) => h.mean);
    let high: Omit<InspectSuggestion, 'vehicleId' | 'day' | 'ref' | 'mean' | 'features'> | null = null;
    if (history.length >= MIN_HISTORY) {
      const med = median(history);
      const sigma = Math.max(1.4826 * median(history.map((m) => Math.abs(m - med))), 0.1 * med);
      const limit = med + SIGMAS * sigma;
      if (d.mean > limit) high = { baseline: round(med), limit: round(limit), rule: 'history' };
    } else if (d.threshold > 0 && d.p95 > d.threshold) {
      high = { baseline: d.threshold, limit: d.threshold, rule: 'threshold' };
    }
    if (high)
      out.push({
        vehicleId,
        day: d.day,
        ref: `${vehicleId}/${d.day}`,
        mean: d.mean,
        ...high,
        features: d.features.slice(0, 3),
      });
  });
  return out;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

const round = (x: number): number => Math.round(x * 1e5) / 1e5;
