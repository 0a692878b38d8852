/**
 * NMEA 0183 sentences: `$TTSSS,f1,f2,...*HH` where HH is the XOR of every character between
 * `$` and `*` (NMEA 0183 v4.11 §5.3). Talker ids vary by constellation (GP, GN, GL, GA, BD, GB,
 * QZ, ...); proprietary sentences start with `P` and a maker code (`$PGRME`, `$PMTK001`).
 */
export interface NmeaSentence {
  /** Two letters (GP, GN, ...) or `P` for proprietary sentences. */
  talker: string;
  /** Sentence formatter: RMC, GGA, ... (the maker code + type for proprietary ones). */
  type: string;
  fields: string[];
}

/** Why a line was refused; the reader counts each reason separately. */
export type NmeaSentenceFault =
  | 'no-start'
  | 'no-checksum'
  | 'bad-checksum-digits'
  | 'checksum-mismatch'
  | 'non-printable'
  | 'bad-address';

export type NmeaParseResult =
  | { ok: true; sentence: NmeaSentence }
  | { ok: false; fault: NmeaSentenceFault; reason: string };

export function nmeaChecksum(body: string): number {
  let sum = 0;
  for (let i = 0; i < body.length; i++) sum ^= body.charCodeAt(i);
  return sum;
}

const fail = (fault: NmeaSentenceFault, reason: string): NmeaParseResult => ({ ok: false, fault, reason });

/**
 * Checks and splits one line. The checksum is mandatory here: every receiver in the gpsd
 * regression corpus sends it, and without it a line garbled on the wire cannot be told from a
 * good one (§5.3 makes it mandatory for RMC/GGA since v2.3 anyway).
 */
export function parseNmeaSentence(line: string): NmeaParseResult {
  const text = line.trim();
  if (!text.startsWith('$')) return fail('no-start', 'no leading $');
  const star = text.lastIndexOf('*');
  if (star < 0 || star !== text.length - 3) return fail('no-checksum', 'no *HH checksum');
  const hex = text.slice(star + 1);
  // Exactly two hex digits: Number.parseInt('4G', 16) would read "4" and let a corrupted
  // second digit pass the check.
  if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return fail('bad-checksum-digits', 'checksum is not hex');
  const body = text.slice(1, star);
  // §6.1: sentences are printable ASCII (0x20-0x7E); binary frames (UBX, SiRF) that happen to
  // contain a '$' and a newline land here, and a 1-in-256 checksum match must not let them in.
  if (!/^[\x20-\x7e]*$/.test(body)) return fail('non-printable', 'non-printable characters');
  if (nmeaChecksum(body) !== Number.parseInt(hex, 16)) return fail('checksum-mismatch', 'checksum mismatch');
  const [address = '', ...fields] = body.split(',');
  // §5.3.3: proprietary sentences, `P` + a three-letter maker code (+ the maker's own type); no
  // approved talker id starts with P.
  if (/^P[A-Z0-9]{3,}$/.test(address)) {
    return { ok: true, sentence: { talker: 'P', type: address.slice(1), fields } };
  }
  if (/^[A-Z]{5}$/.test(address)) {
    return { ok: true, sentence: { talker: address.slice(0, 2), type: address.slice(2), fields } };
  }
  return fail('bad-address', `bad address field "${address.slice(0, 16)}"`);
}

/**
 * `ddmm.mmmm` + hemisphere -> signed decimal degrees; null when empty or malformed.
 * Degrees are the integer part divided by 100 (as gpsd reads them), so a receiver that does not
 * zero-pad (`131.5` for 1 deg 31.5 min) still decodes. Computed as degrees + minutes / 60, like
 * the simulator's truth file.
 */
export function parseLatLon(value: string, hemisphere: string, degreeDigits: 2 | 3): number | null {
  const m = /^(\d+)(\.\d+)?$/.exec(value);
  if (!m) return null;
  const whole = m[1]!;
  // The last two integer digits and the fraction are the minutes, parsed as one number so the
  // result is bit-identical to what the simulator's truth file computes from the same text.
  const degrees = whole.length > 2 ? Number.parseInt(whole.slice(0, -2), 10) : 0;
  const minutes = Number.parseFloat(`${whole.slice(-2)}${m[2] ?? ''}`);
  if (minutes >= 60) return null;
  const abs = degrees + minutes / 60;
  if (abs > (degreeDigits === 2 ? 90 : 180)) return null;
  if (hemisphere === 'S' || hemisphere === 'W') return -abs;
  if (hemisphere === 'N' || hemisphere === 'E') return abs;
  return null;
}
