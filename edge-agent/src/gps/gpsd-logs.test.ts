/**
 * The NMEA reader against gpsd's own decoding of real receivers: every capture in gpsd's
 * regression corpus (../shared/data/gpsd-logs: `NAME.log` as the receiver sent it, `NAME.log.chk`
 * what gpsd 3.22 made of it, each input sentence echoed and followed by the JSON reports it
 * triggered) that is NMEA, compared epoch by epoch.
 *
 * How gpsd's output lines up with ours. gpsd reports a TPV right after the sentence that
 * triggers it, so the .chk cuts into epochs exactly like our reader: a new epoch starts at a
 * sentence whose UTC time of day differs from the epoch's (RMC, GGA, GLL, GNS, ZDA carry one; a
 * sentence sending its time empty stands alone). For each epoch, gpsd's last TPV with a position
 * is its final word on it, and:
 *   - gpsd has a position with a time   -> we have a fix with exactly that time (date included:
 *                                           gpsd moves dates before 2017 by 1024 weeks, so do we),
 *                                           lat/lon within 1e-6 deg, speed within 0.01 m/s where
 *                                           gpsd reports one and the epoch carried one;
 *   - gpsd has a position without time  -> (no date seen yet) we have the same position, or we
 *                                           could not date it either ("undated");
 *   - gpsd says mode 1 and nothing else -> we have no fix;
 *   - gpsd reported nothing (its cycle-end detector did not fire: epochs cut by the end of the
 *     capture, receivers whose last sentence changes between epochs) or only mode 0 -> either.
 * Speeds gpsd reports for epochs that carried none (no RMC/VTG) are its own estimate from
 * successive positions; we do not invent speeds, so those are counted, not compared.
 * Exceptions are listed below, one epoch each, with the reason.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createLogger } from '@fleet/shared/log';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EpochOutcome } from './nmea/epoch.ts';
import { NmeaReader } from './nmea-reader.ts';

const REPO_ROOT = path.resolve(import.meta.dirname, '../../..');
const LOG_DIR = path.resolve(REPO_ROOT, '..', 'shared', 'data', 'gpsd-logs');

/** Captures not compared, and why. Each is still run through the reader (no fix, no throw). */
const EXCLUDED: Record<string, string> = {
  'bu303-moving.log': 'SiRF binary protocol (BU-303, SiRF II); TPVs come from SiRF messages',
  'bu303-stillfix.log': 'SiRF binary protocol (BU-303, SiRF II); TPVs come from SiRF messages',
  'garmin18x-bin.log': 'Garmin binary protocol (18x/19x LVC)',
  'greis-def.log': 'Javad GREIS binary protocol',
  'greis-reset.log': 'Javad GREIS binary protocol',
  'greis-test2.log': 'Javad GREIS binary protocol',
  'navcom.log': 'NavCom binary protocol',
  'skytraq-bin.log': 'SkyTraq binary protocol',
  'superstar2.log': 'NovAtel SuperStar II binary protocol',
  'trimble-lassen_iq.log': 'Trimble TSIP binary protocol',
  'trimble-lassen_iq-3dfix.log': 'Trimble TSIP binary protocol',
  'trimble-smt-360.log': 'Trimble TSIP binary protocol',
  'ublox-lea-4t.log': 'u-blox UBX binary protocol (LEA-4T)',
  'ublox-neo-m8t-s.log': 'u-blox UBX binary protocol (NEO-M8T)',
  'ublox-sirf1.log': 'SiRF binary protocol (u-blox SiRF-I firmware)',
  'ublox-zed-f9t-rtcm3.log': 'u-blox UBX binary protocol + RTCM3 (ZED-F9T)',
  'ais_unpack_sixbit.log': 'not a GPS receiver: AIS (!AIVDM) radio messages; no TPV',
  'naujoks-ntrip.log': 'not a GPS receiver: RTCM2 from an NTRIP caster; no TPV',
  'ntrip_sourcetable.log': 'not a GPS receiver: NTRIP source table; no TPV',
  'passthrough.log': "not a GPS receiver: gpsd's JSON passthrough test; no TPV",
  'rtcm2.log': 'not a GPS receiver: RTCM-104 v2 corrections; no TPV',
  'rtcm3.bndm.log': 'not a GPS receiver: RTCM3 corrections; no TPV',
};

/** Single epochs where we knowingly differ from gpsd (log, UTC time of day of the epoch). */
const DEVIATIONS: { log: string; at: string; reason: string }[] = [
  {
    log: 'GPSmap-76S.log',
    at: '12:51:06.000',
    reason:
      'Garmin in simulator mode (GGA quality 8, RMC status V): gpsd reports the simulated position ' +
      '(without a time); we record no position nobody measured',
  },
  {
    log: 'garmin-geko201.log',
    at: '21:43:50.000',
    reason: 'Garmin in simulator mode (GGA quality 8, RMC status V), as GPSmap-76S.log',
  },
  {
    log: 'april6_2019.log',
    at: '00:02:31.099',
    reason:
      'RMC with a malformed date ("2208-1"): gpsd keeps the position without a time, we refuse the ' +
      'sentence (counted as bad-fields); neither can date it',
  },
  {
    log: 'bt451.log',
    at: '14:33:06.000',
    reason:
      'the capture splices two recordings (15:25:08 -> 14:33:06); gpsd reads an hour going down as ' +
      "midnight and dates the epoch a day late, although the epoch's own ZDA says 09-12-2009: we " +
      'follow the ZDA',
  },
  {
    log: 'haicom-305N.log',
    at: '09:53:04.802',
    reason:
      "first fix: GGA says quality 1 with 00 satellites, then GSA 2D and RMC A; gpsd's report fires " +
      'at GGA (its learned cycle end), mode 1 by its "< 3 satellites" rule, before the RMC arrives; ' +
      'we merge the whole epoch and keep the fix',
  },
];

interface Tpv {
  mode: number;
  time?: string;
  lat?: number;
  lon?: number;
  speed?: number;
  altMSL?: number;
}

/** One epoch as the .chk shows it: its UTC time of day (null: a sentence sent without time). */
interface Segment {
  timeOfDayMs: number | null;
  /** Started by a sentence whose time field was empty. */
  timeless: boolean;
  tpvs: Tpv[];
  line: number;
}

const hhmmss = (ms: number) => new Date(ms).toISOString().slice(11, 23);

/** Time of day of an echoed sentence; 'none' for an empty time field; undefined if it has none. */
function sentenceTime(line: string): number | 'none' | undefined {
  const m = /^\$[A-Z]{2}(RMC|GGA|GLL|GNS|ZDA),([^*]*)\*[0-9A-Fa-f]{2}\s*$/.exec(line);
  if (!m) return undefined;
  const fields = m[2]!.split(',');
  const text = m[1] === 'GLL' ? fields[4] : fields[0];
  if (text === undefined || text === '') return 'none';
  const t = /^(\d\d)(\d\d)(\d\d)(\.\d+)?$/.exec(text);
  if (!t) return undefined;
  const frac = t[4] && t[4].length > 1 ? Math.round(Number(`0${t[4]}`) * 1000) : 0;
  return ((Number(t[1]) * 60 + Number(t[2])) * 60 + Number(t[3])) * 1000 + frac;
}

function chkSegments(chk: string): Segment[] {
  const segments: Segment[] = [];
  let current: Segment = { timeOfDayMs: null, timeless: false, tpvs: [], line: 1 };
  segments.push(current);
  chk.split('\n').forEach((text, i) => {
    if (text.startsWith('{"class":"TPV"')) {
      current.tpvs.push(JSON.parse(text) as Tpv);
      return;
    }
    const t = text.startsWith('$') ? sentenceTime(text) : undefined;
    if (t === undefined) return;
    const line = i + 1;
    if (t === 'none') {
      segments.push({ timeOfDayMs: null, timeless: true, tpvs: [], line });
      current = { timeOfDayMs: null, timeless: false, tpvs: [], line };
      segments.push(current);
    } else if (current.timeOfDayMs === null && !current.timeless) {
      current.timeOfDayMs = t;
      current.line = line;
    } else if (current.timeOfDayMs !== t) {
      current = { timeOfDayMs: t, timeless: false, tpvs: [], line };
      segments.push(current);
    }
  });
  return segments.filter((s) => s.timeOfDayMs !== null || s.timeless);
}

/** The capture in seeded pseudo-random chunks of 1..256 bytes, as reads from a serial port come. */
function replay(bytes: Buffer, seed: number): { reader: NmeaReader; outcomes: EpochOutcome[] } {
  const outcomes: EpochOutcome[] = [];
  const reader = new NmeaReader(
    async () => {
      throw new Error('replay only');
    },
    () => {},
    createLogger('gpsd-logs-test'),
    { epochIdleMs: 0, onEpoch: (o) => outcomes.push(o) },
  );
  let state = seed >>> 0;
  for (let at = 0; at < bytes.length; ) {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    const size = 1 + (state % 256);
    reader.push(bytes.subarray(at, at + size));
    at += size;
  }
  reader.flush();
  return { reader, outcomes };
}

interface LogResult {
  fixes: number;
  compared: number;
  timelessMatched: number;
  undatedBoth: number;
  unreportedByGpsd: number;
  derivedSpeeds: number;
  deviations: string[];
}

function compareLog(name: string): LogResult {
  const bytes = readFileSync(path.join(LOG_DIR, name));
  const segments = chkSegments(readFileSync(path.join(LOG_DIR, `${name}.chk`), 'latin1'));
  const { reader, outcomes } = replay(bytes, name.length * 7919);
  // In a text-only capture every '$' starts a frame and so does text before a line's first '$'
  // (triton400 has "$GPGGA,030130$GPGLL,...", tomtom-mkII "r$GPRMC,..."): each frame is a good
  // sentence or counted bad, exactly once.
  const text = bytes.toString('latin1');
  if (/^[\x20-\x7e\r\n\t]*$/.test(text)) {
    const lines = text.split(/\r?\n|\r/).filter((l) => l.trim() !== '');
    const frames = lines.reduce((n, l) => {
      const dollars = l.split('$').length - 1;
      return n + dollars + (l.split('$')[0]!.trim() !== '' ? 1 : 0);
    }, 0);
    expect(reader.stats.sentences + reader.stats.badSentences, `${name}: frames accounted for`).toBe(frames);
    expect(reader.stats.bad.junk, `${name}: '#' header lines`).toBeGreaterThanOrEqual(
      lines.filter((l) => l.startsWith('#')).length,
    );
  }
  const result: LogResult = {
    fixes: outcomes.filter((o) => o.kind === 'fix').length,
    compared: 0,
    timelessMatched: 0,
    undatedBoth: 0,
    unreportedByGpsd: 0,
    derivedSpeeds: 0,
    deviations: [],
  };
  let next = 0;
  for (const seg of segments) {
    const candidate = outcomes[next];
    const ours = candidate && candidate.timeOfDayMs === seg.timeOfDayMs ? outcomes[next++]! : undefined;
    const at = seg.timeOfDayMs === null ? '(no time)' : hhmmss(seg.timeOfDayMs);
    const where = `${name} epoch ${at} (.chk line ${seg.line})`;
    const deviation = DEVIATIONS.find((d) => d.log === name && d.at === at);
    if (deviation) {
      result.deviations.push(`${at}: ${deviation.reason}`);
      continue;
    }
    const positions = seg.tpvs.filter((t) => t.lat !== undefined && t.lon !== undefined);
    const gpsd = positions[positions.length - 1];
    const fix = ours?.kind === 'fix' ? ours.fix : undefined;
    if (gpsd && fix) {
      result.compared++;
      if (gpsd.time === undefined) result.timelessMatched++;
      else expect(new Date(fix.ts).toISOString(), `${where}: time`).toBe(new Date(gpsd.time).toISOString());
      expect(Math.abs(fix.lat - gpsd.lat!), `${where}: lat ${fix.lat} vs ${gpsd.lat}`).toBeLessThanOrEqual(
        1e-6,
      );
      expect(Math.abs(fix.lon - gpsd.lon!), `${where}: lon ${fix.lon} vs ${gpsd.lon}`).toBeLessThanOrEqual(
        1e-6,
      );
      if (gpsd.speed !== undefined) {
        if (fix.speedKmh === null) result.derivedSpeeds++;
        else
          expect(Math.abs(fix.speedKmh / 3.6 - gpsd.speed), `${where}: speed m/s`).toBeLessThanOrEqual(0.01);
      }
      if (gpsd.altMSL !== undefined && fix.altitudeM !== null && !name.startsWith('foretrex')) {
        // (foretrex-201: gpsd takes the altitude from Garmin's proprietary $PGRMZ, in feet.)
        expect(Math.abs(fix.altitudeM - gpsd.altMSL), `${where}: altitude`).toBeLessThanOrEqual(0.001);
      }
    } else if (gpsd) {
      // gpsd has a position for this epoch and we do not: only if neither of us could date it.
      expect(gpsd.time, `${where}: gpsd has a dated fix, we have ${ours?.kind ?? 'nothing'}`).toBeUndefined();
      expect(ours?.kind, `${where}: gpsd has an undated position`).toBe('undated');
      result.undatedBoth++;
    } else if (fix) {
      const saysNoFix = seg.tpvs.some((t) => t.mode === 1);
      expect(saysNoFix, `${where}: we have a fix where gpsd says mode 1`).toBe(false);
      result.unreportedByGpsd++;
    }
  }
  expect(next, `${name}: every epoch we closed lines up with one in the .chk`).toBe(outcomes.length);
  const listed = DEVIATIONS.filter((d) => d.log === name).length;
  expect(result.deviations.length, `${name}: every listed deviation is still met`).toBe(listed);
  return result;
}

const logs = existsSync(LOG_DIR)
  ? readdirSync(LOG_DIR)
      .filter((f) => f.endsWith('.log'))
      .sort()
  : [];
const covered = logs.filter((l) => !(l in EXCLUDED));
const results = new Map<string, LogResult>();

describe('NMEA reader vs gpsd on every NMEA capture of gpsd’s regression corpus', () => {
  beforeAll(() => {
    if (!existsSync(LOG_DIR)) {
      throw new Error(
        `gpsd regression captures not found at ${LOG_DIR}: this test needs the read-only shared data ` +
          'next to the repository (../shared/data/gpsd-logs from the repository root).',
      );
    }
  });

  it('finds the corpus, and every capture is compared or excluded with a reason', () => {
    expect(logs.length, `captures in ${LOG_DIR}`).toBeGreaterThan(50);
    for (const name of Object.keys(EXCLUDED)) expect(logs, `excluded ${name} exists`).toContain(name);
    for (const name of logs) expect(existsSync(path.join(LOG_DIR, `${name}.chk`)), `${name}.chk`).toBe(true);
    expect(covered.length).toBe(logs.length - Object.keys(EXCLUDED).length);
  });

  it.each(covered)('%s: same epochs, times, positions and speeds as gpsd', (name) => {
    results.set(name, compareLog(name));
  });

  it.each(Object.entries(EXCLUDED))('%s (excluded: %s): no fix made up from it', (name) => {
    const { reader, outcomes } = replay(readFileSync(path.join(LOG_DIR, name)), 1);
    expect(outcomes.filter((o) => o.kind === 'fix')).toEqual([]);
    // Binary captures carry no NMEA position sentence at all: gpsd's TPVs come from elsewhere.
    expect(reader.stats.sentences).toBeLessThan(5);
  });

  afterAll(() => {
    if (results.size === 0) return;
    const sum = (k: keyof Omit<LogResult, 'deviations'>) =>
      [...results.values()].reduce((n, r) => n + r[k], 0);
    const lines = [
      `gpsd corpus: ${logs.length} captures, ${covered.length} compared, ${Object.keys(EXCLUDED).length} excluded`,
      `  fixes ${sum('fixes')}, compared with gpsd ${sum('compared')} (${sum('timelessMatched')} against undated TPVs), ` +
        `undated by both ${sum('undatedBoth')}, epochs gpsd did not report ${sum('unreportedByGpsd')}, ` +
        `gpsd-estimated speeds not compared ${sum('derivedSpeeds')}`,
      '  excluded:',
      ...Object.entries(EXCLUDED).map(([n, why]) => `    ${n}: ${why}`),
      '  listed deviations:',
      ...[...results].flatMap(([n, r]) => r.deviations.map((d) => `    ${n} ${d}`)),
    ];
    console.log(lines.join('\n'));
  });
});
