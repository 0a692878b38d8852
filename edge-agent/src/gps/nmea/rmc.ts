import { type NmeaSentence, parseLatLon } from './sentence.ts';

export const KNOTS_TO_KMH = 1.852;

/** A position fix, whatever the source (raw NMEA or gpsd). */
export interface GpsFix {
  /** Epoch ms, UTC, from the receiver's clock. */
  ts: number;
  lat: number;
  lon: number;
  speedKmh: number | null;
  courseDeg: number | null;
}

/**
 * RMC (recommended minimum): time, status, lat, N/S, lon, E/W, speed (knots), course, date
 * (ddmmyy), ... Status `V` means the receiver has no valid fix: no position to record.
 * Two-digit years are read as 20yy (receivers in service were made after 2000).
 */
export function fixFromRmc(s: NmeaSentence): GpsFix | null {
  if (s.type !== 'RMC') return null;
  const [time = '', status, lat = '', ns = '', lon = '', ew = '', speed = '', course = '', date = ''] =
    s.fields;
  if (status !== 'A') return null;
  const la = parseLatLon(lat, ns, 2);
  const lo = parseLatLon(lon, ew, 3);
  const tm = /^(\d{2})(\d{2})(\d{2})(\.\d+)?$/.exec(time);
  const dt = /^(\d{2})(\d{2})(\d{2})$/.exec(date);
  if (la === null || lo === null || !tm || !dt) return null;
  const ms = tm[4] ? Math.round(Number.parseFloat(tm[4]) * 1000) : 0;
  const ts = Date.UTC(
    2000 + Number(dt[3]),
    Number(dt[2]) - 1,
    Number(dt[1]),
    Number(tm[1]),
    Number(tm[2]),
    Number(tm[3]),
    ms,
  );
  const knots = speed === '' ? null : Number.parseFloat(speed);
  const courseDeg = course === '' ? null : Number.parseFloat(course);
  return {
    ts,
    lat: la,
    lon: lo,
    speedKmh: knots === null || Number.isNaN(knots) ? null : knots * KNOTS_TO_KMH,
    courseDeg: courseDeg === null || Number.isNaN(courseDeg) ? null : courseDeg,
  };
}
