/**
 * One vehicle's samples → what IFTA needs from them (issue 17 §2-§3): per UTC day the GPS metres
 * in each jurisdiction and the ECM odometer at the day's start and end, the trip detail records
 * (at most 5 minutes apart while driving, and at every border crossing, interpolated), and the gaps
 * an auditor would reject (over 10 minutes without a record while the engine ran).
 *
 * GPS steps go through the shared jitter filter first, so a parked vehicle's wander is neither
 * distance nor a border crossing. A step is split where it crosses a boundary; a step across a
 * gap is a straight line between the two fixes (the best there is) and the gap is flagged.
 */
import { GpsDistanceFilter, haversineM } from '@fleet/shared';
import type { JurisdictionMap } from '../jurisdictions/jurisdiction-map.ts';

export interface TrackSample {
  ts: number;
  lat: number | null;
  lon: number | null;
  speedKmh: number | null;
  rpm: number | null;
  /** PID A6, km; null where the vehicle does not report it. */
  odometerKm: number | null;
}

export interface TripRecord {
  ts: number;
  lat: number;
  lon: number;
  odometerKm: number | null;
  jurisdiction: string | null;
  /** Why the record is there: the periodic step, a border crossing, a day's first or last fix. */
  kind: 'step' | 'crossing' | 'first' | 'last';
}

export interface DistanceGap {
  from: number;
  to: number;
  fromJurisdiction: string | null;
  toJurisdiction: string | null;
  /** Straight-line metres between the two fixes (counted, split at borders, but flagged). */
  metres: number;
}

export interface VehicleDay {
  /** UTC date, YYYY-MM-DD. */
  day: string;
  gpsMetres: number;
  /** GPS metres per jurisdiction code ('' for outside every jurisdiction). */
  byJurisdiction: Map<string, number>;
  /** The last odometer reading before the day (or the day's first) and the day's last. */
  odometerStartKm: number | null;
  odometerEndKm: number | null;
}

export interface TrackSummary {
  days: VehicleDay[];
  records: TripRecord[];
  gaps: DistanceGap[];
  /** No sample of the period carried an odometer reading (PID A6 unsupported or not read). */
  noOdometer: boolean;
}

export interface TrackOptions {
  /** Longest time between trip detail records while driving (IFTA: at most 10 minutes). */
  recordEveryMs: number;
  /** Longer than this without a sample while the engine runs (or the vehicle moved) is a gap. */
  gapMs: number;
  /** A vehicle that moved this far across a silence was running, whatever the rpm said. */
  gapMovedM: number;
}

export const DEFAULT_TRACK_OPTIONS: TrackOptions = {
  recordEveryMs: 5 * 60_000,
  gapMs: 10 * 60_000,
  gapMovedM: 1000,
};

const dayOf = (ts: number) => new Date(ts).toISOString().slice(0, 10);
const engineOn = (s: TrackSample) => s.rpm !== null && s.rpm > 0;

/**
 * `samples` sorted by time; `odometerBeforeKm`: the last reading before them, if known; `before`:
 * the last sample before them (the previous day's), so a step or a gap across midnight is seen.
 * It counts for nothing itself: its own distance and records belong to its day.
 */
export function summariseTrack(
  samples: readonly TrackSample[],
  map: JurisdictionMap,
  options: Partial<TrackOptions> = {},
  odometerBeforeKm: number | null = null,
  before: TrackSample | null = null,
): TrackSummary {
  const o = { ...DEFAULT_TRACK_OPTIONS, ...options };
  const filter = new GpsDistanceFilter();
  const days = new Map<string, VehicleDay>();
  const records: TripRecord[] = [];
  const gaps: DistanceGap[] = [];
  let lastOdometer = odometerBeforeKm;
  let sawOdometer = false;
  let prevFix: (TrackSample & { lat: number; lon: number }) | null = null;
  let jurisdiction: string | null | undefined;
  let lastRecordTs = -Infinity;
  let primed = false;
  // Where the filter's anchor is: a step runs from it, and so does the odometer interpolation.
  let anchor: { ts: number; odometerKm: number | null } | null = null;
  if (before && before.lat !== null && before.lon !== null) {
    prevFix = { ...before, lat: before.lat, lon: before.lon };
    filter.push(prevFix);
    anchor = { ts: prevFix.ts, odometerKm: prevFix.odometerKm };
    jurisdiction = map.locate(prevFix.lat, prevFix.lon);
    primed = true;
  }

  const dayEntry = (ts: number): VehicleDay => {
    const day = dayOf(ts);
    let d = days.get(day);
    if (!d) {
      d = {
        day,
        gpsMetres: 0,
        byJurisdiction: new Map(),
        odometerStartKm: lastOdometer,
        odometerEndKm: null,
      };
      days.set(day, d);
    }
    return d;
  };
  const record = (r: TripRecord) => {
    records.push(r);
    lastRecordTs = r.ts;
  };

  for (const s of samples) {
    const d = dayEntry(s.ts);
    if (s.odometerKm !== null) {
      sawOdometer = true;
      if (d.odometerStartKm === null) d.odometerStartKm = s.odometerKm;
      d.odometerEndKm = s.odometerKm;
      lastOdometer = s.odometerKm;
    }
    if (s.lat === null || s.lon === null) continue;
    const fix = { ...s, lat: s.lat, lon: s.lon };
    if (jurisdiction === undefined) jurisdiction = map.locate(fix.lat, fix.lon);
    if (prevFix && dayOf(prevFix.ts) !== d.day && !primed) {
      // The previous day's last fix closes its records; this one opens the new day's.
      record({ ...pick(prevFix), jurisdiction: jurisdiction ?? null, kind: 'last' });
    }
    if (!prevFix || dayOf(prevFix.ts) !== d.day)
      record({ ...pick(fix), jurisdiction: jurisdiction ?? null, kind: 'first' });

    if (prevFix && fix.ts - prevFix.ts > o.gapMs) {
      const moved = haversineM(prevFix.lat, prevFix.lon, fix.lat, fix.lon);
      if ((engineOn(prevFix) && engineOn(fix)) || moved >= o.gapMovedM)
        gaps.push({
          from: prevFix.ts,
          to: fix.ts,
          fromJurisdiction: jurisdiction ?? null,
          toJurisdiction: map.locate(fix.lat, fix.lon),
          metres: moved,
        });
    }

    if (!anchor) anchor = { ts: fix.ts, odometerKm: fix.odometerKm };
    const step = filter.push(fix);
    if (step) {
      // The filter re-anchors silently after a run of glitches: then look the start up again.
      const known = step.from.ts === anchor.ts ? jurisdiction : undefined;
      const from = anchor;
      const pieces = map.splitSegment(step.from, step.to, known);
      for (const p of pieces) {
        const key = p.jurisdiction ?? '';
        d.byJurisdiction.set(key, (d.byJurisdiction.get(key) ?? 0) + p.metres);
        d.gpsMetres += p.metres;
        if (p.jurisdiction !== jurisdiction) {
          jurisdiction = p.jurisdiction;
          // The border: time and odometer interpolated at the crossing's share of the step.
          const ts = Math.round(step.from.ts + (step.to.ts - step.from.ts) * p.t0);
          const odometerKm =
            from.odometerKm !== null && fix.odometerKm !== null && step.from.ts === from.ts
              ? from.odometerKm + (fix.odometerKm - from.odometerKm) * p.t0
              : null;
          record({
            ts,
            lat: p.from.lat,
            lon: p.from.lon,
            odometerKm,
            jurisdiction: p.jurisdiction,
            kind: 'crossing',
          });
        }
      }
      anchor = { ts: fix.ts, odometerKm: fix.odometerKm };
      if (fix.ts - lastRecordTs >= o.recordEveryMs)
        record({ ...pick(fix), jurisdiction: jurisdiction ?? null, kind: 'step' });
    }
    prevFix = fix;
    primed = false;
  }
  if (prevFix && records.at(-1)?.ts !== prevFix.ts)
    record({ ...pick(prevFix), jurisdiction: jurisdiction ?? null, kind: 'last' });
  return { days: [...days.values()], records, gaps, noOdometer: !sawOdometer };
}

function pick(s: TrackSample & { lat: number; lon: number }) {
  return { ts: s.ts, lat: s.lat, lon: s.lon, odometerKm: s.odometerKm };
}
