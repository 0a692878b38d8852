import {
  decodeTelemetryBatch,
  decodeVehicleEventBatch,
  encodeTelemetryBatch,
  MAX_PAYLOAD_BYTES,
  vehicleTopic,
} from '@fleet/shared';
import type { Logger } from '@fleet/shared/log';
import type { MetricValueWithName } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { classify } from '../ingest/classify.ts';
import { planGroup } from '../ingest/group.ts';
import { countReject, recordTelemetryGroup, rejectReason } from './ingest-metrics.ts';
import { registry } from './registry.ts';
import { startMetricsServer } from './server.ts';

const sample = (seq: number, ts = Date.UTC(2026, 11, 6) + seq * 1000) => ({
  seq,
  ts,
  lat: 48.1,
  lon: 11.5,
  speedKmh: 50,
  rpm: 1500,
  fuelLevelPct: 60,
  coolantC: 90,
});
const reasonOf = (r: { ok: boolean; reason?: string }) => (r.ok ? 'accepted' : r.reason!);

describe("rejectReason: the decoders' and the ingest's own wording, in a few classes", () => {
  it('classes each refusal, and no class carries the vehicle or tenant the reason names', () => {
    const topic = vehicleTopic('telemetry', 'acme', 'van-1', 'fleet');
    const dead = (t: string, payload: string | Buffer) => {
      const c = classify(null, t, Buffer.from(payload), 'fleet');
      if (c.kind !== 'dead') throw new Error(`not refused: ${c.kind}`);
      return c.reason;
    };
    const batch = encodeTelemetryBatch({ v: 1, vehicleId: 'van-9', samples: [sample(1)] });
    const good = encodeTelemetryBatch({ v: 1, vehicleId: 'van-1', samples: [sample(1)] });
    const planned = (owner: string | undefined) =>
      planGroup(
        [classify({ topic, payload: good }, topic, good, 'fleet')],
        new Map(owner ? [['van-1', owner]] : []),
        () => undefined,
      ).letters[0]!.reason;
    const cases: [string, string][] = [
      [dead('elsewhere/x', '{}'), 'topic'],
      [dead(vehicleTopic('ack', 'acme', 'van-1', 'fleet'), '{}'), 'topic'],
      [reasonOf(decodeTelemetryBatch(Buffer.alloc(MAX_PAYLOAD_BYTES + 1))), 'oversized'],
      [dead(topic, '{not json'), 'malformed'],
      [dead(topic, '{"v":9}'), 'version'],
      [dead(topic, '{"v":1,"vehicleId":"van-1","samples":[{"seq":-1}]}'), 'schema'],
      [dead(vehicleTopic('status', 'acme', 'van-1', 'fleet'), '{"v":1,"state":"asleep"}'), 'schema'],
      [dead(topic, batch), 'vehicle_mismatch'],
      [planned(undefined), 'unregistered'],
      [planned('globex'), 'wrong_tenant'],
      [reasonOf(decodeVehicleEventBatch(Buffer.from('{"v":1}'))), 'schema'],
      ['item 3: vehicle "van-1" is not a vehicle of tenant "acme"', 'unregistered'],
      ['database refused it: value too long', 'database'],
    ];
    for (const [reason, expected] of cases)
      expect([reason, rejectReason(reason)]).toEqual([reason, expected]);
    expect(rejectReason('something new')).toBe('other');
    expect(rejectReason('✖ Invalid input', 'schema')).toBe('schema');
  });
});

describe('the metrics endpoint', () => {
  const quiet = () => {
    const lines: { level: string; obj: Record<string, unknown> }[] = [];
    const at = (level: string) => (obj: Record<string, unknown>) => lines.push({ level, obj });
    return { log: { info: at('info'), warn: at('warn'), error: at('error') } as unknown as Logger, lines };
  };

  it('serves the registry on its path only, GET and HEAD; a taken port is logged (E950), not thrown', async () => {
    const { log, lines } = quiet();
    const server = await startMetricsServer({ host: '127.0.0.1', port: 0, path: '/metrics', log });
    try {
      expect(server!.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      countReject('events', 'malformed: Unexpected token');
      const res = await fetch(server!.url);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      expect(text).toMatch(/^fleet_ingest_rejects_total\{source="events",reason="malformed"\} [1-9]/m);
      expect(text).toMatch(/^fleet_ingest_rejects_total\{source="fuel_cards",reason="schema"\} 0$/m);
      expect(text).toContain('# TYPE process_cpu_seconds_total counter');
      expect((await fetch(server!.url.replace('/metrics', '/other'))).status).toBe(404);
      expect((await fetch(server!.url, { method: 'POST' })).status).toBe(405);

      const port = Number(new URL(server!.url).port);
      const clash = await startMetricsServer({ host: '127.0.0.1', port, path: '/metrics', log });
      expect(clash).toBeNull();
      expect(lines.find((l) => l.level === 'error')?.obj).toMatchObject({ code: 950 });
    } finally {
      await server?.close();
    }
  });

  it('observes the lag of live batches only, once per batch, from its newest sample', async () => {
    const lag = registry.getSingleMetric('fleet_ingest_lag_seconds')!;
    // A histogram's values name their series (metricName), which MetricValue's type leaves out.
    const series = async (name: string) =>
      ((await lag.get()).values as MetricValueWithName<string>[]).find((v) => v.metricName === name)!.value;
    const count = () => series('fleet_ingest_lag_seconds_count');
    const sum = () => series('fleet_ingest_lag_seconds_sum');
    const [count0, sum0] = [await count(), await sum()];
    const now = Date.now();
    recordTelemetryGroup({
      lane: 'live',
      messages: 3,
      samples: 4,
      commitSeconds: 0.01,
      committedAt: now,
      batches: [
        { samples: [sample(1, now - 9000), sample(2, now - 2000)] },
        { samples: [sample(3, now - 1000)] },
        { historical: true, samples: [sample(4, now - 3_600_000)] },
      ],
    });
    recordTelemetryGroup({
      lane: 'backfill',
      messages: 1,
      samples: 1,
      commitSeconds: 0.01,
      committedAt: now,
      batches: [{ samples: [sample(5, now - 86_400_000)] }],
    });
    expect((await count()) - count0).toBe(2);
    expect((await sum()) - sum0).toBeCloseTo(3, 6);
  });
});
