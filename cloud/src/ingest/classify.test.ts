import { encodeTelemetryBatch, type TelemetryBatch, vehicleTopic } from '@fleet/shared';
import { describe, expect, it } from 'vitest';
import { classify } from './classify.ts';

const BASE = 'fleet';
const sample = (seq: number) => ({
  seq,
  ts: Date.UTC(2026, 11, 6) + seq * 1000,
  lat: 48.1,
  lon: 11.5,
  speedKmh: 50,
  rpm: 1500,
  fuelLevelPct: 60,
  coolantC: 90,
});
const batch = (vehicleId: string, extra: Partial<TelemetryBatch> = {}): TelemetryBatch => ({
  v: 1,
  vehicleId,
  samples: [sample(1), sample(2)],
  ...extra,
});
const topic = (kind: 'telemetry' | 'status' | 'ack', vehicle = 'van-1') =>
  vehicleTopic(kind, 'acme', vehicle, BASE);
const run = (t: string, payload: Buffer | string) =>
  classify('handle', t, typeof payload === 'string' ? Buffer.from(payload) : payload, BASE);

describe('classify', () => {
  it('a batch on its vehicle topic is telemetry of that tenant and vehicle; the handle travels along', () => {
    const c = run(topic('telemetry'), encodeTelemetryBatch(batch('van-1', { batchSeq: 3 })));
    expect(c).toMatchObject({ kind: 'telemetry', item: 'handle', tenantId: 'acme', vehicleId: 'van-1' });
    expect(c.kind === 'telemetry' && c.batch.samples.map((s) => s.seq)).toEqual([1, 2]);
  });

  it('a status is parsed; a bad one is refused with the reason', () => {
    const ts = Date.UTC(2026, 11, 6);
    expect(run(topic('status'), JSON.stringify({ v: 1, state: 'offline', ts }))).toMatchObject({
      kind: 'status',
      status: { state: 'offline', ts },
    });
    const bad = run(topic('status'), '{"v":1,"state":"sleeping"}');
    expect(bad.kind).toBe('dead');
    expect(bad.kind === 'dead' && bad.reason).toMatch(/^bad status payload: /);
  });

  it('refuses topics outside the namespace and the cloud-to-vehicle ack topic', () => {
    expect(run('other/v1/acme/van-1/telemetry', '{}')).toMatchObject({
      kind: 'dead',
      reason: 'topic outside the namespace',
    });
    expect(run(topic('ack'), '{}')).toMatchObject({
      kind: 'dead',
      reason: 'ack topics are cloud-to-vehicle',
    });
  });

  it('an undecodable payload is refused with the decoder reason, with no batch to answer', () => {
    const c = run(topic('telemetry'), 'not a batch');
    expect(c.kind).toBe('dead');
    expect(c.kind === 'dead' && c.refusedBatch).toBeUndefined();
  });

  it("a batch naming another vehicle than its topic is refused, and answered on the topic's vehicle", () => {
    const c = run(topic('telemetry', 'van-1'), encodeTelemetryBatch(batch('van-2', { batchSeq: 9 })));
    expect(c).toMatchObject({
      kind: 'dead',
      reason: 'payload vehicle "van-2" does not match topic vehicle "van-1"',
      refusedBatch: { tenantId: 'acme', vehicleId: 'van-1', batch: { batchSeq: 9 } },
    });
  });
});
