/**
 * Telemetry payload size: bytes per sample of JSON v1, gzip(JSON v1) and binary v2, for a
 * realistic 1 Hz drive (OBD values on their J1979 grids, NMEA positions) and for the worst case
 * (every value off-grid, so positions use 1e-10 degrees and the rest float64).
 *   node --import tsx bench/payload-size.ts
 */
import { gzipSync } from 'node:zlib';
import { encodeTelemetryBatch, type TelemetrySample } from '../shared/src/telemetry.ts';

const T0 = Date.UTC(2024, 4, 1, 8, 0, 0);

function drive(n: number, offGrid: boolean): TelemetrySample[] {
  return Array.from({ length: n }, (_, i) => ({
    seq: 1 + i,
    ts: T0 + i * 1000,
    lat: 48 + (7.038 + i * 0.00731) / 60,
    lon: 11 + (33.954 + i * 0.01127) / 60,
    speedKmh: offGrid ? 40 + Math.sin(i) * 7.3 : 40 + (i % 30),
    rpm: offGrid ? 1500 + Math.sin(i / 7) * 333.3 : (4 * 1500 + (i % 97) * 3) / 4,
    fuelLevelPct: offGrid ? 78.123 - i * 0.00137 : ((200 - Math.floor(i / 60)) * 100) / 255,
    coolantC: offGrid ? 88.5 + Math.cos(i) : 88 + (i % 5),
  }));
}

const rows: Record<string, string | number>[] = [];
for (const offGrid of [false, true]) {
  for (const n of [1, 10, 100, 500, 5000]) {
    const samples = drive(n, offGrid);
    const json = encodeTelemetryBatch({ v: 1, vehicleId: 'VAN-17', samples }).length;
    const gzip = gzipSync(JSON.stringify({ v: 1, vehicleId: 'VAN-17', samples })).length;
    const bin = encodeTelemetryBatch({
      v: 2,
      vehicleId: 'VAN-17',
      samples,
      batchSeq: 1234,
      dropped: { rawSynced: 0, rawUnsynced: 0, rollups: 0, events: 0 },
    }).length;
    rows.push({
      data: offGrid ? 'off-grid' : 'J1979 grid',
      samples: n,
      'json B/sample': +(json / n).toFixed(1),
      'gzip(json) B/sample': +(gzip / n).toFixed(1),
      'binary v2 B/sample': +(bin / n).toFixed(1),
      'json/binary': +(json / bin).toFixed(1),
    });
  }
}
console.table(rows);
