/**
 * gpsd's JSON protocol (gpsd_json(5), protocol 3.x): one JSON object per line, CR LF ended,
 * each with a `class`. A client sends `?WATCH={"enable":true,"json":true}` and receives VERSION
 * (on connect), DEVICES, WATCH, then per epoch a TPV (time-position-velocity) and now and then
 * a SKY (satellites and DOPs). Other classes (ATT, PPS, TOFF, GST, OSC, ERROR, ...) are read
 * and ignored here.
 */
import type { GpsFix, GpsNoFix } from '../nmea/rmc.ts';

export interface GpsdVersion {
  class: 'VERSION';
  release: string;
  proto_major: number;
  proto_minor: number;
}

export interface GpsdDevice {
  class?: 'DEVICE';
  path?: string;
  driver?: string;
  activated?: string | number;
  bps?: number;
}

export interface GpsdDevices {
  class: 'DEVICES';
  devices: GpsdDevice[];
}

export interface GpsdWatch {
  class: 'WATCH';
  enable?: boolean;
  json?: boolean;
}

/** TPV: gpsd prints lat/lon only with mode >= 2 and `time` only once it knows the date. */
export interface GpsdTpv {
  class: 'TPV';
  device?: string;
  /** 0 unknown, 1 no fix, 2 2D, 3 3D. */
  mode: 0 | 1 | 2 | 3;
  time?: string;
  lat?: number;
  lon?: number;
  /** Metres: `altMSL` since gpsd 3.20, `alt` before (and still, deprecated). */
  altMSL?: number;
  alt?: number;
  /** m/s. */
  speed?: number;
  /** Degrees true. */
  track?: number;
  /** Estimated horizontal error, metres (95 %). */
  eph?: number;
}

export interface GpsdSky {
  class: 'SKY';
  device?: string;
  hdop?: number;
  pdop?: number;
  vdop?: number;
  /** Satellites seen / used (gpsd 3.23+); older versions list them in `satellites`. */
  nSat?: number;
  uSat?: number;
  satellites?: { used?: boolean }[];
}

export interface GpsdError {
  class: 'ERROR';
  message: string;
}

export type GpsdMessage =
  | GpsdVersion
  | GpsdDevices
  | (GpsdDevice & { class: 'DEVICE' })
  | GpsdWatch
  | GpsdTpv
  | GpsdSky
  | GpsdError;

export type GpsdBadReason = 'too-long' | 'not-json' | 'no-class' | 'bad-field';

export type GpsdLineResult =
  | { ok: true; message: GpsdMessage }
  | { ok: true; message: null; class: string }
  | { ok: false; reason: GpsdBadReason; detail: string };

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const optNum = (v: unknown) => v === undefined || isNum(v);
const bad = (reason: GpsdBadReason, detail: string): GpsdLineResult => ({ ok: false, reason, detail });

/** One line of gpsd output -> a checked message; null message for a class not used here. */
export function parseGpsdLine(line: string): GpsdLineResult {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return bad('not-json', line.slice(0, 40));
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return bad('not-json', 'not an object');
  const o = value as Record<string, unknown>;
  if (typeof o.class !== 'string') return bad('no-class', 'no class');
  switch (o.class) {
    case 'TPV': {
      const mode = o.mode ?? 0;
      if (mode !== 0 && mode !== 1 && mode !== 2 && mode !== 3) return bad('bad-field', 'TPV mode');
      if (o.time !== undefined && (typeof o.time !== 'string' || Number.isNaN(Date.parse(o.time)))) {
        return bad('bad-field', 'TPV time');
      }
      if (o.lat !== undefined && !(isNum(o.lat) && Math.abs(o.lat) <= 90)) return bad('bad-field', 'TPV lat');
      if (o.lon !== undefined && !(isNum(o.lon) && Math.abs(o.lon) <= 180))
        return bad('bad-field', 'TPV lon');
      if (![o.altMSL, o.alt, o.speed, o.track, o.eph].every(optNum)) return bad('bad-field', 'TPV number');
      if (isNum(o.speed) && o.speed < 0) return bad('bad-field', 'TPV speed');
      return { ok: true, message: { ...o, mode } as GpsdTpv };
    }
    case 'SKY': {
      if (![o.hdop, o.pdop, o.vdop, o.nSat, o.uSat].every(optNum)) return bad('bad-field', 'SKY number');
      if (o.satellites !== undefined && !Array.isArray(o.satellites))
        return bad('bad-field', 'SKY satellites');
      return { ok: true, message: o as unknown as GpsdSky };
    }
    case 'VERSION':
      if (typeof o.release !== 'string' || !isNum(o.proto_major)) return bad('bad-field', 'VERSION');
      return { ok: true, message: o as unknown as GpsdVersion };
    case 'DEVICES':
      if (!Array.isArray(o.devices)) return bad('bad-field', 'DEVICES');
      return { ok: true, message: o as unknown as GpsdDevices };
    case 'DEVICE':
    case 'WATCH':
      return { ok: true, message: o as unknown as GpsdMessage };
    case 'ERROR':
      return { ok: true, message: { class: 'ERROR', message: String(o.message ?? '') } };
    default:
      return { ok: true, message: null, class: o.class };
  }
}

/** Satellites and DOPs from the last SKY, merged into the fix of the next TPV. */
export interface SkySummary {
  satellitesUsed: number | null;
  satellitesVisible: number | null;
  hdop: number | null;
  pdop: number | null;
  vdop: number | null;
}

export function summarizeSky(sky: GpsdSky): SkySummary {
  const list = Array.isArray(sky.satellites) ? sky.satellites : null;
  const used =
    sky.uSat ?? (list ? list.filter((s) => s && typeof s === 'object' && s.used === true).length : null);
  return {
    satellitesUsed: used,
    satellitesVisible: sky.nSat ?? (list ? list.length : null),
    hdop: sky.hdop ?? null,
    pdop: sky.pdop ?? null,
    vdop: sky.vdop ?? null,
  };
}

export const NO_SKY: SkySummary = {
  satellitesUsed: null,
  satellitesVisible: null,
  hdop: null,
  pdop: null,
  vdop: null,
};

export type TpvOutcome =
  | { kind: 'fix'; fix: GpsFix }
  | { kind: 'no-fix'; report: GpsNoFix }
  /** A position gpsd could not date yet (no RMC/ZDA seen): nothing to time-stamp it with. */
  | { kind: 'undated' };

/** TPV (+ the last SKY) -> the same GpsFix the NMEA reader makes. */
export function fixFromTpv(tpv: GpsdTpv, sky: SkySummary = NO_SKY): TpvOutcome {
  const ts = tpv.time === undefined ? null : Date.parse(tpv.time);
  if (tpv.mode < 2 || tpv.lat === undefined || tpv.lon === undefined) {
    return {
      kind: 'no-fix',
      report: {
        ts,
        mode: 1,
        satellitesUsed: sky.satellitesUsed,
        satellitesVisible: sky.satellitesVisible,
        source: 'gpsd',
      },
    };
  }
  if (ts === null) return { kind: 'undated' };
  return {
    kind: 'fix',
    fix: {
      ts,
      lat: tpv.lat,
      lon: tpv.lon,
      speedKmh: tpv.speed === undefined ? null : tpv.speed * 3.6,
      courseDeg: tpv.track ?? null,
      altitudeM: tpv.altMSL ?? tpv.alt ?? null,
      mode: tpv.mode === 3 ? 3 : 2,
      ...sky,
      ephM: tpv.eph ?? null,
      source: 'gpsd',
    },
  };
}
