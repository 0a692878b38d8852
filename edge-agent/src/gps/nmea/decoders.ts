/**
 * Field decoders for the sentences the epoch reader merges. Each returns an observation, a
 * string saying which field is malformed (the sentence is then refused and counted), or null
 * for a sentence type this reader does not use (counted as ignored, not as bad).
 *
 * Field layouts follow NMEA 0183 v4.11 and gpsd's driver_nmea0183.c notes on real receivers.
 */

import { MALFORMED, type NmeaObservation, parseDecimal, parseNmeaTime, utcMidnight } from './observation.ts';
import { decodeRmc } from './rmc.ts';
import { type NmeaSentence, parseLatLon } from './sentence.ts';

type Decoded = NmeaObservation | string | null;

/** DOPs of 99.0 and more are "unknown" (BT-451 and others send 99.99). */
const MAX_DOP = 99;

function time(obs: NmeaObservation, text: string, kind: string): string | undefined {
  const t = parseNmeaTime(text);
  if (t === MALFORMED) return `${kind} time malformed`;
  if (t === null) obs.timeless = true;
  else obs.timeOfDayMs = t;
  return undefined;
}

/** A lat/lon pair at fields[i..i+3]; null when absent, MALFORMED when half there or garbled. */
function position(f: string[], i: number): { lat: number; lon: number } | null | typeof MALFORMED {
  const [lat = '', ns = '', lon = '', ew = ''] = f.slice(i, i + 4);
  if (lat === '' && lon === '') return null;
  const la = parseLatLon(lat, ns, 2);
  const lo = parseLatLon(lon, ew, 3);
  return la === null || lo === null ? MALFORMED : { lat: la, lon: lo };
}

/**
 * GGA: time, lat, N/S, lon, E/W, quality, satellites used, HDOP, altitude, M, geoid
 * separation, M, DGPS age, station. Quality 0 (invalid), empty (myguide-3100 sends a position
 * with no quality), 7 (manual input) and 8 (simulator; Garmin units in demo mode) are no fix: a
 * vehicle's record must not carry a position nobody measured. (gpsd accepts 7 and 8.)
 */
function decodeGga(f: string[]): Decoded {
  const obs: NmeaObservation = { kind: 'GGA' };
  const bad = time(obs, f[0] ?? '', 'GGA');
  if (bad) return bad;
  const quality = f[5] === '' || f[5] === undefined ? null : Number(f[5]);
  if (quality !== null && !Number.isInteger(quality)) return 'GGA quality malformed';
  const sats = parseDecimal(f[6] ?? '');
  const hdop = parseDecimal(f[7] ?? '');
  const alt = parseDecimal(f[8] ?? '');
  if (sats === MALFORMED || hdop === MALFORMED || alt === MALFORMED) return 'GGA numbers malformed';
  if (quality === null || quality === 0 || quality === 7 || quality === 8) return { ...obs, noFix: true };
  const pos = position(f, 1);
  if (pos === MALFORMED) return 'GGA position malformed';
  if (pos === null) return { ...obs, noFix: true };
  Object.assign(obs, pos, { quality });
  if (sats !== null) obs.satellitesUsed = sats;
  if (hdop !== null && hdop < MAX_DOP) obs.hdop = hdop;
  if (alt !== null) obs.altitudeM = alt;
  return obs;
}

/**
 * GLL: lat, N/S, lon, E/W, time, status, [FAA mode]. Status V or empty (Garmin 65 sends neither
 * time nor status) or mode N is no fix. Triton 400 and Garmin 48 send position updates in GLL
 * that RMC does not repeat, so it is merged like the others.
 */
function decodeGll(f: string[]): Decoded {
  const obs: NmeaObservation = { kind: 'GLL' };
  const bad = time(obs, f[4] ?? '', 'GLL');
  if (bad) return bad;
  if (f[5] !== 'A' || f[6] === 'N') return { ...obs, noFix: true };
  const pos = position(f, 0);
  if (pos === MALFORMED) return 'GLL position malformed';
  if (pos === null) return { ...obs, noFix: true };
  return Object.assign(obs, pos);
}

/**
 * GNS (NMEA 4.0): time, lat, N/S, lon, E/W, mode (one character per constellation: GPS,
 * GLONASS, Galileo, BDS, QZSS, NavIC), satellites, HDOP, altitude MSL, geoid separation, DGPS
 * age, station, [navigational status (4.1)]. No fix when every mode character is N or the
 * navigational status says unsafe (U) or not valid (V).
 */
function decodeGns(f: string[]): Decoded {
  const obs: NmeaObservation = { kind: 'GNS' };
  const bad = time(obs, f[0] ?? '', 'GNS');
  if (bad) return bad;
  const mode = f[5] ?? '';
  const sats = parseDecimal(f[6] ?? '');
  const hdop = parseDecimal(f[7] ?? '');
  const alt = parseDecimal(f[8] ?? '');
  if (sats === MALFORMED || hdop === MALFORMED || alt === MALFORMED) return 'GNS numbers malformed';
  if (!/[^N]/.test(mode) || f[12] === 'U' || f[12] === 'V') return { ...obs, noFix: true };
  const pos = position(f, 1);
  if (pos === MALFORMED) return 'GNS position malformed';
  if (pos === null) return { ...obs, noFix: true };
  Object.assign(obs, pos);
  if (sats !== null) obs.satellitesUsed = sats;
  if (hdop !== null && hdop < MAX_DOP) obs.hdop = hdop;
  if (alt !== null) obs.altitudeM = alt;
  return obs;
}

/**
 * VTG: course true, T, course magnetic, M, speed knots, N, speed km/h, K, [FAA mode]. NMEA 1.x
 * receivers omit the unit letters (`$GPVTG,054.7,034.4,005.5,010.2`). Mode N (not valid) or E
 * (estimated) carries nothing to use.
 */
function decodeVtg(f: string[]): Decoded {
  const obs: NmeaObservation = { kind: 'VTG' };
  const legacy = f.length <= 4 || (f[1] !== 'T' && f[1] !== '' && f[3] !== 'M');
  const course = parseDecimal(f[0] ?? '');
  const knots = parseDecimal((legacy ? f[2] : f[4]) ?? '');
  const kmh = parseDecimal((legacy ? f[3] : f[6]) ?? '');
  if (course === MALFORMED || knots === MALFORMED || kmh === MALFORMED) return 'VTG numbers malformed';
  const mode = legacy ? '' : (f[8] ?? '');
  if (mode === 'N' || mode === 'E') return obs;
  if (course !== null) obs.courseDeg = course;
  if (knots !== null && knots >= 0) obs.speedKnots = knots;
  else if (kmh !== null && kmh >= 0) obs.speedKnots = kmh / 1.852;
  return obs;
}

/**
 * GSA: selection mode (M/A), fix mode (1 none, 2 2D, 3 3D), 12 PRN fields, PDOP, HDOP, VDOP,
 * [system id (4.1)]. Multi-constellation receivers send one GSA per system, all with the talker
 * GN: the system id (or, before 4.1, the talker) tells them apart.
 */
function decodeGsa(s: NmeaSentence): Decoded {
  const f = s.fields;
  const obs: NmeaObservation = { kind: 'GSA' };
  const mode = f[1] ?? '';
  if (mode === '1') return { ...obs, noFix: true };
  if (mode !== '2' && mode !== '3') return mode === '' ? obs : 'GSA mode malformed';
  const prns = f.slice(2, 14).filter((p) => p !== '');
  const pdop = parseDecimal(f[14] ?? '');
  const hdop = parseDecimal(f[15] ?? '');
  const vdop = parseDecimal(f[16] ?? '');
  if (pdop === MALFORMED || hdop === MALFORMED || vdop === MALFORMED) return 'GSA DOPs malformed';
  obs.gsa = { mode: mode === '3' ? 3 : 2, system: f[17] ? `${s.talker}${f[17]}` : s.talker, prns };
  if (pdop !== null && pdop < MAX_DOP) obs.pdop = pdop;
  if (hdop !== null && hdop < MAX_DOP) obs.hdop = hdop;
  if (vdop !== null && vdop < MAX_DOP) obs.vdop = vdop;
  return obs;
}

/**
 * GSV: number of messages, message number, satellites in view, then up to four blocks of
 * (PRN, elevation, azimuth, SNR), [signal id (4.1)]. u-blox F9 sends one GSV series per signal
 * (L1, L2) over the same satellites, so a constellation's count is the largest of its series.
 */
function decodeGsv(s: NmeaSentence): Decoded {
  const f = s.fields;
  const [count = '', num = '', inView = ''] = f;
  if (!/^\d+$/.test(count) || !/^\d+$/.test(num) || !/^\d+$/.test(inView)) return 'GSV counts malformed';
  const signal = (f.length - 3) % 4 === 1 ? (f[f.length - 1] ?? '') : '';
  return { kind: 'GSV', gsv: { system: `${s.talker}${signal}`, inView: Number(inView) } };
}

/** ZDA: time, day, month, four-digit year, local zone hours, minutes. */
function decodeZda(f: string[]): Decoded {
  const obs: NmeaObservation = { kind: 'ZDA' };
  const bad = time(obs, f[0] ?? '', 'ZDA');
  if (bad) return bad;
  const [, dd = '', mm = '', yyyy = ''] = f;
  if (dd === '' && mm === '' && yyyy === '') return obs;
  if (!/^\d{2}$/.test(dd) || !/^\d{2}$/.test(mm) || !/^\d{4}$/.test(yyyy)) return 'ZDA date malformed';
  const date = utcMidnight(Number(yyyy), Number(mm), Number(dd));
  if (date === MALFORMED) return 'ZDA date malformed';
  if (obs.timeOfDayMs !== undefined) obs.dateMs = date;
  return obs;
}

/** GST: time, RMS, semi-major, semi-minor, orientation, 1-sigma lat, lon, alt errors (m). */
function decodeGst(f: string[]): Decoded {
  const obs: NmeaObservation = { kind: 'GST' };
  const latErr = parseDecimal(f[5] ?? '');
  const lonErr = parseDecimal(f[6] ?? '');
  if (latErr === MALFORMED || lonErr === MALFORMED) return 'GST numbers malformed';
  // GST's time is the time of the GGA it describes, not a new epoch (gpsd does not latch it).
  if (latErr !== null && lonErr !== null) Object.assign(obs, { latErrM: latErr, lonErrM: lonErr });
  return obs;
}

/** Decodes the sentence types that feed a fix; null for every other type (TXT, GBS, PGRME, ...). */
export function decodeSentence(s: NmeaSentence): Decoded {
  const decoded = decodeByType(s);
  if (decoded !== null && typeof decoded !== 'string' && decoded.satellitesUsed !== undefined) {
    decoded.talker = s.talker;
  }
  return decoded;
}

function decodeByType(s: NmeaSentence): Decoded {
  if (s.talker === 'P') return null;
  switch (s.type) {
    case 'RMC':
      return decodeRmc(s);
    case 'GGA':
      return decodeGga(s.fields);
    case 'GLL':
      return decodeGll(s.fields);
    case 'GNS':
      return decodeGns(s.fields);
    case 'VTG':
      return decodeVtg(s.fields);
    case 'GSA':
      return decodeGsa(s);
    case 'GSV':
      return decodeGsv(s);
    case 'ZDA':
      return decodeZda(s.fields);
    case 'GST':
      return decodeGst(s.fields);
    default:
      return null;
  }
}
