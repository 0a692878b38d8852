/**
 * The jitter filter on real receivers: gpsd's regression corpus (../shared/data/gpsd-logs, the
 * `.chk` files are gpsd's own decoding of each capture). Parked receivers wander by metres to
 * tens of metres; none of it may count. A moving one must keep its distance.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { haversineM } from './geo.ts';
import { GpsDistanceFilter, type GpsFixForDistance } from './gps-distance.ts';

const LOG_DIR = path.resolve(import.meta.dirname, '../../..', 'shared', 'data', 'gpsd-logs');

/** gpsd's TPV reports with a 2D/3D fix, as the agent's samples (speed m/s -> km/h). */
function fixes(name: string): GpsFixForDistance[] {
  const file = path.join(LOG_DIR, `${name}.log.chk`);
  if (!existsSync(file))
    throw new Error(`${file} not found: this test needs the read-only shared data next to the repository`);
  const out: GpsFixForDistance[] = [];
  let i = 0;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.includes('"class":"TPV"')) continue;
    const t = JSON.parse(line) as { mode: number; time?: string; lat?: number; lon?: number; speed?: number };
    if (t.mode < 2 || t.lat === undefined || t.lon === undefined) continue;
    // Some captures carry no time: one epoch per second, as the receivers send them.
    const ts = t.time ? Date.parse(t.time) : 1_000_000_000_000 + 1000 * i;
    i++;
    out.push({ ts, lat: t.lat, lon: t.lon, speedKmh: t.speed === undefined ? null : t.speed * 3.6 });
  }
  return out;
}

const raw = (f: GpsFixForDistance[]) =>
  f.slice(1).reduce((s, x, i) => s + haversineM(f[i]!.lat!, f[i]!.lon!, x.lat!, x.lon!), 0);
const filtered = (f: GpsFixForDistance[], withSpeed = true) => {
  const filter = new GpsDistanceFilter();
  return f.reduce((s, x) => s + (filter.push(withSpeed ? x : { ...x, speedKmh: null })?.metres ?? 0), 0);
};

describe('GPS distance without stationary wander (real captures)', () => {
  // Parked receivers: raw step sums of 6-31 m, none of it driven.
  it.each(['rx210', 'ublox-8', 'garmin18x-bin', 'bu303-stillfix', 'trimble-lassen_iq', 'gpslim236'])(
    '%s (parked): raw steps add up, the filter adds nothing',
    (name) => {
      const f = fixes(name);
      expect(f.length).toBeGreaterThan(10);
      expect(raw(f)).toBeGreaterThan(5);
      expect(filtered(f)).toBe(0);
    },
  );

  // The speed is what stops wider wander (rx210 wanders 14 m: 22 of its 31 m would count without
  // it), which is why the agent passes the OBD speed, else the receiver's.
  it('without any speed, wander inside the 10 m step still adds nothing', () => {
    for (const name of ['bu303-stillfix', 'mt3339']) expect(filtered(fixes(name), false)).toBe(0);
  });

  it('a moving receiver keeps its distance within 1 % (bt451, ~2 km at up to 59 km/h)', () => {
    const f = fixes('bt451');
    const r = raw(f);
    expect(r).toBeGreaterThan(1500);
    expect(Math.abs(filtered(f) - r) / r).toBeLessThan(0.01);
  });

  it('a glitch far away is skipped; three fixes in a row there move the anchor without distance', () => {
    const filter = new GpsDistanceFilter();
    const at = (s: number, lat: number) => filter.push({ ts: s * 1000, lat, lon: 11, speedKmh: 50 });
    expect(at(0, 48)).toBeNull();
    expect(at(1, 48.0001)?.metres).toBeCloseTo(11.1, 1);
    expect(at(2, 49)).toBeNull(); // 111 km in a second
    expect(at(3, 48.0002)?.metres).toBeCloseTo(11.1, 1);
    expect([at(4, 49), at(5, 49.0001), at(6, 49.0002)]).toEqual([null, null, null]);
    expect(at(7, 49.0003)?.metres).toBeCloseTo(11.1, 1);
  });
});
