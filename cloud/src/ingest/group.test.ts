import type { DropCounters, TelemetryBatch } from '@fleet/shared';
import { describe, expect, it } from 'vitest';
import type { Classified } from './classify.ts';
import { planGroup } from './group.ts';

interface Msg {
  topic: string;
  payload: Buffer;
}
const item = (topic: string): Msg => ({ topic, payload: Buffer.from(topic) });
const sample = (seq: number) => ({
  seq,
  ts: 1_700_000_000_000 + seq,
  lat: 1,
  lon: 2,
  speedKmh: 3,
  rpm: null,
  fuelLevelPct: 50,
  coolantC: null,
});
const telemetry = (
  tenantId: string,
  vehicleId: string,
  extra: Partial<TelemetryBatch> = {},
): Classified<Msg> => {
  const batch: TelemetryBatch = { v: 1, vehicleId, samples: [sample(1), sample(2)], batchSeq: 1, ...extra };
  return { kind: 'telemetry', item: item(`t/${vehicleId}`), tenantId, vehicleId, batch };
};
const drops = (rawUnsynced: number, events = 0): DropCounters => ({
  rawSynced: 0,
  rawUnsynced,
  rollups: 0,
  events,
});
const owners = new Map([
  ['van-1', 'acme'],
  ['van-2', 'acme'],
  ['truck', 'globex'],
]);
const nothingKnown = () => undefined;

describe('planGroup', () => {
  it("flattens the stored batches' samples into columns, each tenant listed once", () => {
    const plan = planGroup(
      [telemetry('acme', 'van-1'), telemetry('acme', 'van-2'), telemetry('globex', 'truck')],
      owners,
      nothingKnown,
    );
    expect(plan.rows.vehicleId).toEqual(['van-1', 'van-1', 'van-2', 'van-2', 'truck', 'truck']);
    expect(plan.rows.seq).toEqual([1, 2, 1, 2, 1, 2]);
    expect(plan.rows.rpm).toEqual([null, null, null, null, null, null]);
    expect(plan.tenantIds).toEqual(['acme', 'globex']);
    expect(plan.batches).toHaveLength(3);
    expect(plan.answers.map((a) => [a.to.vehicleId, a.reason])).toEqual([
      ['van-1', undefined],
      ['van-2', undefined],
      ['truck', undefined],
    ]);
    expect(plan.letters).toEqual([]);
  });

  it('refuses unregistered vehicles and vehicles claimed by another tenant: dead letter and refused answer', () => {
    const plan = planGroup([telemetry('acme', 'ghost'), telemetry('acme', 'truck')], owners, nothingKnown);
    expect(plan.rows.seq).toEqual([]);
    expect(plan.letters.map((l) => [l.topic, l.reason])).toEqual([
      ['t/ghost', 'vehicle "ghost" is not registered'],
      ['t/truck', 'vehicle "truck" does not belong to tenant "acme"'],
    ]);
    expect(plan.answers.map((a) => a.reason)).toEqual([
      'vehicle "ghost" is not registered',
      'vehicle "truck" does not belong to tenant "acme"',
    ]);
  });

  it('dead messages are dead-lettered; answered only when they carry a batch', () => {
    const refused = telemetry('acme', 'van-1');
    const plan = planGroup(
      [
        { kind: 'dead', item: item('junk'), reason: 'topic outside the namespace' },
        {
          kind: 'dead',
          item: item('t/van-1'),
          reason: 'mismatch',
          refusedBatch: refused.kind === 'telemetry' ? refused : undefined,
        },
      ],
      owners,
      nothingKnown,
    );
    expect(plan.letters.map((l) => l.reason)).toEqual(['topic outside the namespace', 'mismatch']);
    expect(plan.answers.map((a) => [a.item.topic, a.reason])).toEqual([['t/van-1', 'mismatch']]);
  });

  it('statuses of owned vehicles are applied, not stored as samples', () => {
    const plan = planGroup(
      [
        {
          kind: 'status',
          item: item('s'),
          tenantId: 'acme',
          vehicleId: 'van-1',
          status: { v: 1, state: 'online', ts: 5 },
        },
      ],
      owners,
      nothingKnown,
    );
    expect(plan.statuses).toEqual([{ vehicleId: 'van-1', online: true, ts: 5 }]);
    expect(plan.answers).toEqual([]);
  });

  it('counts historical samples', () => {
    const plan = planGroup(
      [telemetry('acme', 'van-1', { historical: true }), telemetry('acme', 'van-2')],
      owners,
      nothingKnown,
    );
    expect(plan.historical).toBe(2);
  });

  it('agent eviction counters: written only when one grew past the highest known, highest of each kept', () => {
    const known = new Map([['van-1', drops(10, 5)]]);
    const plan = planGroup(
      [
        telemetry('acme', 'van-1', { dropped: drops(8, 5) }), // older figures: nothing new
        telemetry('acme', 'van-1', { dropped: drops(12, 4) }), // rawUnsynced grew
        telemetry('acme', 'van-2', { dropped: drops(0) }), // nothing ever dropped
      ],
      owners,
      (v) => known.get(v),
    );
    expect([...plan.drops.values()]).toEqual([
      { tenantId: 'acme', vehicleId: 'van-1', rawSynced: 0, rawUnsynced: 12, rollups: 0, events: 5 },
    ]);
  });
});
