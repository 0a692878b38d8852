/**
 * The ceiling every ingest figure is compared with, measured in the same run as the figure (the
 * machine's speed varies by 2-3x with the other work on it): raw COPY (pg-copy-streams, text
 * format, one stream) of `rows` telemetry-shaped rows into a plain table with the same primary
 * key, as bench/ingest.ts step 1 does.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { sampleAt } from '../../cloud/test/support/publisher.ts';

/** rows/s of one COPY of `rows` rows (`vehicles` vehicles, 1 Hz) into a new table `table`. */
export async function measureRawCopy(
  pool: pg.Pool,
  opts: { table: string; rows: number; vehicles: number },
): Promise<number> {
  await pool.query(`CREATE TABLE ${opts.table} (vehicle_id text, seq bigint, ts timestamptz, lat float8, lon float8,
    speed_kmh real, rpm real, fuel_level_pct real, coolant_c real, PRIMARY KEY (vehicle_id, seq))`);
  const t0 = Date.now() - 3600_000;
  const lines = function* () {
    for (let off = 0; off < opts.rows; off += 5000) {
      let chunk = '';
      for (let i = off; i < Math.min(off + 5000, opts.rows); i++) {
        const seq = Math.floor(i / opts.vehicles);
        const s = sampleAt(seq, t0 + seq * 1000);
        chunk += `veh-${i % opts.vehicles}\t${s.seq}\t${new Date(s.ts).toISOString()}\t${s.lat}\t${s.lon}\t${s.speedKmh}\t${s.rpm}\t${s.fuelLevelPct}\t${s.coolantC}\n`;
      }
      yield chunk;
    }
  };
  const c = await pool.connect();
  try {
    const t = performance.now();
    await pipeline(Readable.from(lines()), c.query(copyFrom(`COPY ${opts.table} FROM STDIN`)));
    return opts.rows / ((performance.now() - t) / 1000);
  } finally {
    c.release();
  }
}
