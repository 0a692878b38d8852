/**
 *   observation ──▶ same time of day as the open epoch? ──yes──▶ merge into it
 *        │                     │ no (time changed)
 *        │                     ▼
 *        │          close the open epoch ──▶ GpsFix | GpsNoFix | undated
 *        │                     │
 *        ├─ no time (GSA, GSV, VTG) ──▶ merge into the open epoch
 *        └─ time field sent empty (`$GPRMC,,V,...`) ──▶ close the open epoch; report it alone
 *
 * An epoch is every sentence a receiver sends for one measurement: they share one UTC time of
 * day (RMC, GGA, GLL, GNS, ZDA carry it; GSA, GSV, VTG do not and belong to the epoch they
 * follow, as in gpsd). The reader also closes an epoch when the line falls quiet or at the
 * end of a capture (`close()`), so the last one does not wait for the next second.
 *
 * Merging, as gpsd does it: for a value two sentences both carry (position, speed, HDOP) the
 * later sentence wins. Unlike gpsd, one sentence declaring no fix (RMC V, GGA quality 0, GSA
 * mode 1, GLL V, GNS N) makes the whole epoch a no-fix: a receiver that contradicts itself
 * within one epoch is not trusted with a vehicle's record.
 */
import { DAY_MS, type NmeaObservation } from './observation.ts';
import { type GpsFix, type GpsNoFix, KNOTS_TO_KMH } from './rmc.ts';

/**
 * gpsd (3.22) moves NMEA dates before 2017-01-01 forward by 1024 weeks: no receiver in service
 * today can be before the 18 s leap second. Checked with gpsfake: 2016-12-31 is moved,
 * 2017-01-01 is not; the regression captures of 2005-2016 come out 19.6 years later.
 */
export const GPS_ROLLOVER_FLOOR_MS = Date.UTC(2017, 0, 1);
/** GPS week numbers wrap every 1024 weeks (IS-GPS-200 §20.3.3.3.1.1): 619,315,200 s. */
export const GPS_ROLLOVER_MS = 1024 * 7 * DAY_MS;

/** gpsd's user-equivalent range errors (95 %), metres: HDOP x UERE is its `eph`. */
const UERE_M = 19;
const UERE_DGPS_M = 4.75;
/** Bound on per-constellation bookkeeping (garbage talker ids must not grow memory). */
const MAX_SYSTEMS = 32;

export interface NmeaEpochOptions {
  /**
   * Dates before this are moved forward in 1024-week steps: receivers whose firmware predates a
   * GPS week rollover (1999, 2019) report dates 19.6 years in the past. null: never.
   * Default GPS_ROLLOVER_FLOOR_MS (what gpsd does).
   */
  rolloverFloorMs?: number | null;
}

/** A closed epoch; `timeOfDayMs` (UTC ms since midnight) is null for a sentence sent without time. */
export type EpochOutcome =
  | { kind: 'fix'; timeOfDayMs: number; fix: GpsFix }
  | { kind: 'no-fix'; timeOfDayMs: number | null; report: GpsNoFix }
  /** A position, but no date seen yet (GGA before the first RMC/ZDA): no time to record it at. */
  | { kind: 'undated'; timeOfDayMs: number | null };

class Epoch {
  timeOfDayMs: number | null = null;
  dateMs: number | undefined;
  noFix = false;
  lat: number | undefined;
  lon: number | undefined;
  speedKnots: number | undefined;
  courseDeg: number | undefined;
  altitudeM: number | undefined;
  quality: number | undefined;
  /** GGA/GNS satellite counts per talker (SiRFstarV: one GGA for GPS, one for GLONASS). */
  readonly usedByTalker = new Map<string, number>();
  hdop: number | undefined;
  pdop: number | undefined;
  vdop: number | undefined;
  readonly gsa = new Map<string, { mode: 2 | 3; used: number }>();
  readonly inView = new Map<string, number>();

  merge(o: NmeaObservation): void {
    if (this.timeOfDayMs === null && o.timeOfDayMs !== undefined) this.timeOfDayMs = o.timeOfDayMs;
    if (o.dateMs !== undefined) this.dateMs = o.dateMs;
    if (o.noFix) this.noFix = true;
    if (o.lat !== undefined && o.lon !== undefined) {
      this.lat = o.lat;
      this.lon = o.lon;
    }
    if (o.speedKnots !== undefined) this.speedKnots = o.speedKnots;
    if (o.courseDeg !== undefined) this.courseDeg = o.courseDeg;
    if (o.altitudeM !== undefined) this.altitudeM = o.altitudeM;
    if (o.quality !== undefined) this.quality = o.quality;
    const talker = o.talker ?? o.kind;
    if (
      o.satellitesUsed !== undefined &&
      (this.usedByTalker.has(talker) || this.usedByTalker.size < MAX_SYSTEMS)
    ) {
      this.usedByTalker.set(talker, o.satellitesUsed);
    }
    if (o.hdop !== undefined) this.hdop = o.hdop;
    if (o.pdop !== undefined) this.pdop = o.pdop;
    if (o.vdop !== undefined) this.vdop = o.vdop;
    if (o.gsa && (this.gsa.has(o.gsa.system) || this.gsa.size < MAX_SYSTEMS)) {
      this.gsa.set(o.gsa.system, { mode: o.gsa.mode, used: new Set(o.gsa.prns).size });
    }
    if (o.gsv) {
      // The talker alone: u-blox sends one GSV series per signal (L1, L2) over the same sats.
      const talker = o.gsv.system.slice(0, 2);
      if (this.inView.has(talker) || this.inView.size < MAX_SYSTEMS) {
        this.inView.set(talker, Math.max(this.inView.get(talker) ?? 0, o.gsv.inView));
      }
    }
  }

  satellitesVisible(): number | null {
    if (this.inView.size === 0) return null;
    let n = 0;
    for (const v of this.inView.values()) n += v;
    return n;
  }

  /**
   * Satellites used: the GGA counts (per talker, summed) or the GSA lists, whichever says more:
   * GGA's field is capped at 12 before NMEA 4.11, and receivers without GSA only have GGA.
   */
  satellitesUsedCount(): number | null {
    if (this.gsa.size === 0 && this.usedByTalker.size === 0) return null;
    let fromGsa = 0;
    for (const g of this.gsa.values()) fromGsa += g.used;
    let fromGga = 0;
    for (const n of this.usedByTalker.values()) fromGga += n;
    return Math.max(fromGsa, fromGga);
  }

  mode(): 2 | 3 {
    if (this.gsa.size > 0) return [...this.gsa.values()].some((g) => g.mode === 3) ? 3 : 2;
    // No GSA: GGA's altitude means the receiver solved in 3D (SiRF <= 2.2 leaves it empty in 2D).
    return this.altitudeM !== undefined ? 3 : 2;
  }
}

export class NmeaEpochAssembler {
  private open: Epoch | null = null;
  /** Last known UTC date (midnight) and time of day: GGA-only epochs take their date from it. */
  private lastDateMs: number | null = null;
  private lastTimeOfDayMs: number | null = null;
  /** Time of day of the epoch closed last, so a straggler cannot reopen it. */
  private closedTimeOfDayMs: number | null = null;
  private readonly rolloverFloorMs: number | null;
  /** Sentences that arrived for an epoch already closed (the idle timer fired mid-epoch). */
  lateObservations = 0;

  constructor(options: NmeaEpochOptions = {}) {
    this.rolloverFloorMs =
      options.rolloverFloorMs === undefined ? GPS_ROLLOVER_FLOOR_MS : options.rolloverFloorMs;
  }

  /** Adds one observation; returns the epochs it closed (usually none, at most two). */
  add(o: NmeaObservation): EpochOutcome[] {
    const out: EpochOutcome[] = [];
    if (o.timeless) {
      // Ends the epoch in progress; GSA/GSV waiting for a time belonged to this no-fix cycle.
      const closed = this.close();
      if (closed) out.push(closed);
      this.open = null;
      this.closedTimeOfDayMs = null;
      out.push(this.standalone(o));
      return out;
    }
    const t = o.timeOfDayMs;
    if (t !== undefined) {
      const open = this.open;
      if (open && open.timeOfDayMs !== null && open.timeOfDayMs !== t) {
        const closed = this.close();
        if (closed) out.push(closed);
      } else if ((!open || open.timeOfDayMs === null) && this.closedTimeOfDayMs === t) {
        this.lateObservations++;
        return out;
      }
    }
    this.open ??= new Epoch();
    this.open.merge(o);
    return out;
  }

  /** A sentence without its time: nothing to merge it with and nothing to date it by. */
  private standalone(o: NmeaObservation): EpochOutcome {
    if (o.noFix || o.lat === undefined) {
      const e = new Epoch();
      e.merge(o);
      return {
        kind: 'no-fix',
        timeOfDayMs: null,
        report: {
          ts: null,
          mode: 1,
          satellitesUsed: e.satellitesUsedCount(),
          satellitesVisible: e.satellitesVisible(),
          source: 'nmea',
        },
      };
    }
    return { kind: 'undated', timeOfDayMs: null };
  }

  /** Whether an epoch with a time of day is waiting to be closed. */
  get pending(): boolean {
    return this.open !== null && this.open.timeOfDayMs !== null;
  }

  /**
   * Closes the open epoch (quiet line, end of capture). An epoch of untimed sentences only
   * (GSA/GSV before the burst's first RMC) stays open for the time that follows.
   */
  close(): EpochOutcome | null {
    const e = this.open;
    if (!e || e.timeOfDayMs === null) return null;
    this.open = null;
    this.closedTimeOfDayMs = e.timeOfDayMs;
    const ts = this.timestamp(e, e.timeOfDayMs);
    const hasPosition = e.lat !== undefined && e.lon !== undefined;
    if (e.noFix || !hasPosition) {
      return {
        kind: 'no-fix',
        timeOfDayMs: e.timeOfDayMs,
        report: {
          ts,
          mode: 1,
          satellitesUsed: e.satellitesUsedCount(),
          satellitesVisible: e.satellitesVisible(),
          source: 'nmea',
        },
      };
    }
    if (ts === null) return { kind: 'undated', timeOfDayMs: e.timeOfDayMs };
    const hdop = e.hdop ?? null;
    const corrected = e.quality === 2 || e.quality === 4 || e.quality === 5;
    return {
      kind: 'fix',
      timeOfDayMs: e.timeOfDayMs,
      fix: {
        ts,
        lat: e.lat!,
        lon: e.lon!,
        speedKmh: e.speedKnots === undefined ? null : e.speedKnots * KNOTS_TO_KMH,
        courseDeg: e.courseDeg ?? null,
        altitudeM: e.altitudeM ?? null,
        mode: e.mode(),
        satellitesUsed: e.satellitesUsedCount(),
        satellitesVisible: e.satellitesVisible(),
        hdop,
        pdop: e.pdop ?? null,
        vdop: e.vdop ?? null,
        ephM: hdop === null ? null : hdop * (corrected ? UERE_DGPS_M : UERE_M),
        source: 'nmea',
      },
    };
  }

  /** Forgets everything (the port was reopened: the next receiver may be another one). */
  reset(): void {
    this.open = null;
    this.lastDateMs = null;
    this.lastTimeOfDayMs = null;
    this.closedTimeOfDayMs = null;
  }

  /**
   * UTC epoch ms of an epoch: its own date when one of its sentences carried one, else the last
   * date seen, moved to the next day when the time of day wrapped past midnight.
   */
  private timestamp(e: Epoch, timeOfDayMs: number): number | null {
    let date: number | null;
    if (e.dateMs !== undefined) {
      date = e.dateMs;
    } else if (this.lastDateMs !== null) {
      date = this.lastDateMs;
      if (this.lastTimeOfDayMs !== null && timeOfDayMs < this.lastTimeOfDayMs - DAY_MS / 2) date += DAY_MS;
    } else {
      date = null;
    }
    this.lastDateMs = date;
    this.lastTimeOfDayMs = timeOfDayMs;
    if (date === null) return null;
    let ts = date + timeOfDayMs;
    const floor = this.rolloverFloorMs;
    // Bounded: at most a handful of 19.6-year steps separate any two-digit-year date from 2017.
    for (let i = 0; floor !== null && ts < floor && i < 8; i++) ts += GPS_ROLLOVER_MS;
    return ts;
  }
}
