/**
 * The gpsd client against gpsd replaying real receiver captures (gpsfake), compared with what
 * gpsd's regression suite recorded for the same captures (`.chk`):
 *
 *   gpsfake -1 -q -n -W 2 -c 0.01 -P PORT NAME.log ──▶ gpsd ──TCP──▶ GpsdClient ──▶ fixes
 *                                                                          vs NAME.log.chk TPVs
 *
 * gpsfake starts feeding the capture as soon as its gpsd is up (-n: gpsd reads the device at
 * once, so its output is the .chk's); the client connects a moment later and may miss the first
 * epochs, never later ones. Each fix must be the .chk's last TPV of that time: same time,
 * lat/lon within 1e-6 degrees, speed within 0.01 m/s.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createLogger } from '@fleet/shared/log';
import { describe, expect, it } from 'vitest';
import { GpsdClient } from '../src/gps/gpsd-client.ts';
import type { GpsFix } from '../src/gps/nmea/rmc.ts';
import { freePort, GPSD_LOGS, startGpsfake, waitFor } from './support/gps-tools.ts';

interface Tpv {
  time?: string;
  lat?: number;
  lon?: number;
  speed?: number;
}

/** The last TPV with a position for each time, in order (what the client keeps per epoch). */
function chkFixes(name: string): Map<number, Tpv> {
  const file = path.join(GPSD_LOGS, `${name}.chk`);
  if (!existsSync(file)) {
    throw new Error(`${file} missing: the shared gpsd captures must sit next to the repository`);
  }
  const byTime = new Map<number, Tpv>();
  for (const line of readFileSync(file, 'latin1').split('\n')) {
    if (!line.startsWith('{"class":"TPV"')) continue;
    const tpv = JSON.parse(line) as Tpv;
    if (tpv.time !== undefined && tpv.lat !== undefined) byTime.set(Date.parse(tpv.time), tpv);
  }
  return byTime;
}

describe('GpsdClient with gpsfake replaying gpsd’s regression captures', () => {
  it.each([
    // SiRFstarV, GPS + GLONASS, 2019: 59 epochs.
    ['sirfstarv-nmea.log', 0.01],
    // MediaTek MT3339, 2015: gpsd moves the dates by 1024 weeks (2034); 30 epochs.
    ['mt3339.log', 0.03],
  ])('%s: every fix equals the TPV gpsd recorded for that time', async (name, cycle) => {
    const expected = chkFixes(name);
    const port = await freePort();
    const fake = startGpsfake(path.join(GPSD_LOGS, name), port, cycle);
    const fixes: GpsFix[] = [];
    const client = new GpsdClient(
      { host: '127.0.0.1', port, minBackoffMs: 10, maxBackoffMs: 50 },
      (f) => fixes.push(f),
      createLogger('gpsfake-test').child({}, { level: 'silent' }),
    );
    const running = client.run();
    try {
      // Until the last epoch is in (or gpsfake gave up: it exits 2 s, -W 2, after the capture).
      const last = [...expected.keys()].at(-1);
      await waitFor(
        `gpsfake to replay ${name} (${fake.stderr().slice(-300)})`,
        () => fixes.at(-1)?.ts === last || fake.child.exitCode !== null || fake.child.signalCode !== null,
        Boolean,
        30_000,
      );
      // The client holds each TPV until its epoch is over (150 ms of silence at the end).
      await waitFor('the last fix', () => fixes.at(-1)?.ts === last, Boolean, 3000).catch(() => {});
    } finally {
      await client.stop();
      await running;
      await fake.stop();
    }
    const times = [...expected.keys()];
    console.log(
      `${name}: ${fixes.length} of ${times.length} epochs received through gpsfake -> gpsd -> GpsdClient`,
    );
    expect(fixes.length, `fixes out of ${times.length} epochs`).toBeGreaterThanOrEqual(times.length * 0.6);
    // A suffix of gpsd's epochs, in order, ending with the last one.
    expect(fixes.map((f) => f.ts)).toEqual(times.slice(times.length - fixes.length));
    for (const fix of fixes) {
      const tpv = expected.get(fix.ts)!;
      const when = new Date(fix.ts).toISOString();
      expect(Math.abs(fix.lat - tpv.lat!), `lat ${when}`).toBeLessThanOrEqual(1e-6);
      expect(Math.abs(fix.lon - tpv.lon!), `lon ${when}`).toBeLessThanOrEqual(1e-6);
      if (tpv.speed !== undefined) {
        expect(Math.abs(fix.speedKmh! / 3.6 - tpv.speed), `speed ${when}`).toBeLessThanOrEqual(0.01);
      }
    }
    expect(client.stats.badLines).toBe(0);
  });
});
