/**
 * NMEA 0183 sentences: `$TTSSS,f1,f2,...*HH` where HH is the XOR of every character between
 * `$` and `*` (NMEA 0183 v4.11 §5.3). Talker ids vary by constellation (GP, GN, GL, GA, BD).
 */
export interface NmeaSentence {
  talker: string;
  type: string;
  fields: string[];
}

export type NmeaParseResult = { ok: true; sentence: NmeaSentence } | { ok: false; reason: string };

export function nmeaChecksum(body: string): number {
  let sum = 0;
  for (let i = 0; i < body.length; i++) sum ^= body.charCodeAt(i);
  return sum;
}

export function parseNmeaSentence(line: string): NmeaParseResult {
  const text = line.trim();
  if (!text.startsWith('$')) return { ok: false, reason: 'no leading $' };
  const star = text.lastIndexOf('*');
  if (star < 0 || star !== text.length - 3) return { ok: false, reason: 'no *HH checksum' };
  const body = text.slice(1, star);
  const given = Number.parseInt(text.slice(star + 1), 16);
  if (Number.isNaN(given)) return { ok: false, reason: 'checksum is not hex' };
  if (nmeaChecksum(body) !== given) return { ok: false, reason: 'checksum mismatch' };
  const [address = '', ...fields] = body.split(',');
  if (!/^[A-Z]{5}$/.test(address)) return { ok: false, reason: `bad address field "${address}"` };
  return { ok: true, sentence: { talker: address.slice(0, 2), type: address.slice(2), fields } };
}

/** `ddmm.mmmm` + hemisphere -> signed decimal degrees; null when empty or malformed. */
export function parseLatLon(value: string, hemisphere: string, degreeDigits: 2 | 3): number | null {
  if (!value || !/^\d+(\.\d+)?$/.test(value)) return null;
  const degrees = Number.parseInt(value.slice(0, degreeDigits), 10);
  const minutes = Number.parseFloat(value.slice(degreeDigits));
  if (minutes >= 60) return null;
  const abs = degrees + minutes / 60;
  if (hemisphere === 'S' || hemisphere === 'W') return -abs;
  if (hemisphere === 'N' || hemisphere === 'E') return abs;
  return null;
}
