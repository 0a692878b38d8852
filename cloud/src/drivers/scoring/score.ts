/**
 * Fair driver scoring (issue 19 §1), pure functions: what a driver did over the window in, a
 * 0-100 score and the points each metric cost out. No database, no clock.
 *
 *   DriverWindow (distance, time moving, events, rpm and fuel when the vehicle reports them)
 *     → metricValues(): one rate per metric, per distance or per time, so a driver who drives
 *       twice as far with the same habits gets the same values; null = the vehicle cannot
 *       report it (left out, never counted as zero)
 *     → scoreDriver(): each value → a sub-score 0-100 (metricSubScore), the weighted mean over
 *       the metrics present (weights renormalised), and per metric the points it cost:
 *       pointsLost_m = w_m / Σw · (100 − sub_m), so Σ pointsLost = 100 − score.
 *
 * Below the minimum distance there is too little driving to judge: no score.
 */

export const METRICS = [
  'harsh_accel',
  'harsh_brake',
  'harsh_corner',
  'speeding',
  'idling',
  'rpm_band',
  'fuel_economy',
] as const;
export type Metric = (typeof METRICS)[number];

/** How each metric's value reads (the explanation shows it with its unit). */
export const METRIC_INFO: Record<Metric, { label: string; unit: string }> = {
  harsh_accel: { label: 'Harsh acceleration', unit: 'per 100 km' },
  harsh_brake: { label: 'Harsh braking', unit: 'per 100 km' },
  harsh_corner: { label: 'Harsh cornering', unit: 'per 100 km' },
  speeding: { label: 'Speeding', unit: 'share of driving time, graded by excess' },
  idling: { label: 'Idling', unit: 'share of engine time' },
  rpm_band: { label: 'Efficient rpm band', unit: 'share of driving time in the band' },
  fuel_economy: { label: 'Fuel economy', unit: 'ratio to the vehicle class median' },
};

export type PeerGroupBy = 'class' | 'group' | 'tenant';

export interface ScoreSettings {
  /** Relative weights (≥ 0); only their ratios matter. */
  weights: Record<Metric, number>;
  /** Kilometres in the window before a score is given. */
  minKm: number;
  /** The rolling window, in days, ending with the scored day. */
  windowDays: number;
  peerGroupBy: PeerGroupBy;
  /** Drivers see other drivers' names on the leaderboard unless this is set. */
  anonymise: boolean;
  /** The efficient band (engine rpm while moving). */
  rpmLow: number;
  rpmHigh: number;
}

export const DEFAULT_SETTINGS: ScoreSettings = {
  weights: {
    harsh_accel: 1,
    harsh_brake: 1.5,
    harsh_corner: 1,
    speeding: 2,
    idling: 1,
    rpm_band: 0.5,
    fuel_economy: 1,
  },
  minKm: 100,
  windowDays: 28,
  peerGroupBy: 'class',
  anonymise: true,
  rpmLow: 1000,
  rpmHigh: 2500,
};

/** One speeding episode: how long, and by how much over the limit (null: unknown). */
export interface SpeedingEpisode {
  durationS: number;
  excessKmh: number | null;
}

/** What one driver did over the window, summed over the vehicles they drove. */
export interface DriverWindow {
  km: number;
  /** Seconds moving (the denominator of the speeding share). */
  movingS: number;
  harsh: { accel: number; brake: number; corner: number };
  speeding: readonly SpeedingEpisode[];
  /** Seconds idling (engine on, not moving). */
  idleS: number;
  /** Seconds moving with an rpm reading, and of those in the band; null: no rpm reported. */
  rpm: { reportedS: number; inBandS: number } | null;
  /** Litres over `km` of the distance that had fuel data; null: no fuel data. */
  fuel: { litres: number; km: number } | null;
}

/**
 * Speeding time counts more the further over the limit: up to 10 km/h over once, up to 20 twice,
 * beyond that three times (an unknown excess counts once).
 */
export function speedingGrade(excessKmh: number | null): number {
  if (excessKmh === null || excessKmh <= 10) return 1;
  return excessKmh <= 20 ? 2 : 3;
}

/**
 * Each metric's value over the window; null = left out (the vehicle does not report it). The
 * fuel value is litres per 100 km, made relative to the class median by scoreDriver.
 */
export function metricValues(w: DriverWindow): Record<Metric, number | null> {
  const per100 = (n: number) => (w.km > 0 ? (n * 100) / w.km : null);
  const gradedS = w.speeding.reduce((s, e) => s + e.durationS * speedingGrade(e.excessKmh), 0);
  const engineS = w.movingS + w.idleS;
  return {
    harsh_accel: per100(w.harsh.accel),
    harsh_brake: per100(w.harsh.brake),
    harsh_corner: per100(w.harsh.corner),
    speeding: w.movingS > 0 ? gradedS / w.movingS : null,
    idling: engineS > 0 ? w.idleS / engineS : null,
    rpm_band: w.rpm && w.rpm.reportedS > 0 ? w.rpm.inBandS / w.rpm.reportedS : null,
    fuel_economy: w.fuel && w.fuel.km > 0 && w.fuel.litres > 0 ? (w.fuel.litres * 100) / w.fuel.km : null,
  };
}

const clamp = (x: number) => Math.min(100, Math.max(0, x));

/**
 * A metric's value → 0-100 (100 = nothing to improve):
 *   harsh: 10 points per event per 100 km;  speeding: 5 points per % of graded driving time;
 *   idling: 2 points per % of engine time;  rpm band: the share of driving time in the band;
 *   fuel: 100 at or under the class median, 2 points per % over it.
 */
export function metricSubScore(metric: Metric, value: number): number {
  switch (metric) {
    case 'harsh_accel':
    case 'harsh_brake':
    case 'harsh_corner':
      return clamp(100 - 10 * value);
    case 'speeding':
      return clamp(100 - 500 * value);
    case 'idling':
      return clamp(100 - 200 * value);
    case 'rpm_band':
      return clamp(100 * value);
    case 'fuel_economy':
      return clamp(100 - 200 * (value - 1));
  }
}

export interface MetricResult {
  /** The metric's value (fuel: the ratio to the class median). */
  value: number;
  subScore: number;
  /** The weight after renormalising over the metrics present (sums to 1). */
  share: number;
  pointsLost: number;
}

export interface DriverScore {
  km: number;
  /** 0-100 unrounded (null: below the minimum distance, or no metric to judge). */
  score: number | null;
  /** Per metric; null = left out (not reported, or weight 0). */
  metrics: Record<Metric, MetricResult | null>;
}

/**
 * The score of one driver. `classMedianLPer100`: the median litres per 100 km of the peers in the
 * same vehicle class (null: unknown, the fuel metric is left out).
 */
export function scoreDriver(
  w: DriverWindow,
  settings: Pick<ScoreSettings, 'weights' | 'minKm'>,
  classMedianLPer100: number | null,
): DriverScore {
  const metrics = Object.fromEntries(METRICS.map((m) => [m, null])) as Record<Metric, MetricResult | null>;
  if (!(w.km >= settings.minKm) || w.km <= 0) return { km: w.km, score: null, metrics };
  const values = metricValues(w);
  if (values.fuel_economy !== null)
    values.fuel_economy =
      classMedianLPer100 !== null && classMedianLPer100 > 0 ? values.fuel_economy / classMedianLPer100 : null;
  const present = METRICS.filter((m) => values[m] !== null && settings.weights[m] > 0);
  const total = present.reduce((s, m) => s + settings.weights[m], 0);
  if (present.length === 0 || !(total > 0)) return { km: w.km, score: null, metrics };
  let lost = 0;
  for (const m of present) {
    const value = values[m]!;
    const subScore = metricSubScore(m, value);
    const share = settings.weights[m] / total;
    const pointsLost = share * (100 - subScore);
    lost += pointsLost;
    metrics[m] = { value, subScore, share, pointsLost };
  }
  return { km: w.km, score: clamp(100 - lost), metrics };
}

/** Median of the numbers (null when empty). */
export function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * The percentile of each score within its peer group: the share of the other scored peers it is
 * above, ties counting half (0-100; alone in the group: 100). Unscored drivers get none.
 */
export function peerPercentiles(
  drivers: readonly { id: string; group: string; score: number | null }[],
): Map<string, number> {
  const byGroup = new Map<string, number[]>();
  for (const d of drivers)
    if (d.score !== null) byGroup.set(d.group, [...(byGroup.get(d.group) ?? []), d.score]);
  const out = new Map<string, number>();
  for (const d of drivers) {
    if (d.score === null) continue;
    const peers = byGroup.get(d.group)!;
    if (peers.length === 1) {
      out.set(d.id, 100);
      continue;
    }
    let below = 0;
    let equal = -1; // itself
    for (const p of peers) {
      if (p < d.score) below++;
      else if (p === d.score) equal++;
    }
    out.set(d.id, (100 * (below + equal / 2)) / (peers.length - 1));
  }
  return out;
}
