import { describe, expect, it } from 'vitest';
import { mulberry32 } from './testing/seeded-random.ts';
import {
  DEFAULT_BASE_TOPIC,
  fleetFilter,
  ID_PATTERN,
  parseVehicleTopic,
  TOPIC_KINDS,
  TOPICS,
  TopicError,
  type TopicKind,
  vehicleTopic,
  vehicleTopics,
} from './topics.ts';

const KINDS: TopicKind[] = [...TOPIC_KINDS];

/** Ids that must never reach a topic: wildcards, level separators, empty, too long, odd bytes. */
const BAD_IDS = [
  '',
  '+',
  '#',
  'van+1',
  'van#',
  'van/1',
  '/',
  'a'.repeat(65),
  'van 1',
  'van\u00001',
  'vän',
  'van\n',
];

describe('vehicleTopic', () => {
  it('builds {base}/v1/{tenant}/{vehicle}/{kind}', () => {
    expect(vehicleTopic('telemetry', 'acme', 'van-1')).toBe('fleet/v1/acme/van-1/telemetry');
    expect(vehicleTopic('status', 'acme', 'van_2')).toBe('fleet/v1/acme/van_2/status');
    expect(vehicleTopic('telemetry', 'T1', 'V1', 'test/run-42')).toBe('test/run-42/v1/T1/V1/telemetry');
    expect(DEFAULT_BASE_TOPIC).toBe('fleet');
  });

  it('accepts ids of 1 and 64 characters (the bounds of ID_PATTERN)', () => {
    const longest = 'x'.repeat(64);
    expect(vehicleTopic('telemetry', 'a', longest)).toBe(`fleet/v1/a/${longest}/telemetry`);
    expect(vehicleTopic('status', longest, 'b')).toBe(`fleet/v1/${longest}/b/status`);
  });

  it.each(BAD_IDS)('refuses vehicle id %j', (id) => {
    expect(() => vehicleTopic('telemetry', 'acme', id)).toThrow(TopicError);
    expect(() => vehicleTopic('telemetry', 'acme', id)).toThrow(/vehicle id/);
  });

  it.each(BAD_IDS)('refuses tenant id %j', (id) => {
    expect(() => vehicleTopic('status', id, 'van-1')).toThrow(TopicError);
    expect(() => vehicleTopic('status', id, 'van-1')).toThrow(/tenant id/);
  });

  it.each(['', '+', '#', 'fleet/#', 'a/+/b', '/fleet', 'fleet/', 'fl\u0000eet'])(
    'refuses base topic %j',
    (base) => {
      expect(() => vehicleTopic('telemetry', 'acme', 'van-1', base)).toThrow(TopicError);
      expect(() => fleetFilter('telemetry', base)).toThrow(TopicError);
    },
  );

  it('never produces a topic with a wildcard, whatever the ids (1000 random ids)', () => {
    const rand = mulberry32(0xf1ee7);
    const alphabet = 'ab-_Z09+#/ \u0000\u00e9';
    for (let i = 0; i < 1000; i++) {
      const len = Math.floor(rand() * 70);
      let id = '';
      for (let j = 0; j < len; j++) id += alphabet[Math.floor(rand() * alphabet.length)];
      let topic: string | null = null;
      try {
        topic = vehicleTopic('telemetry', 'acme', id);
      } catch (err) {
        expect(err).toBeInstanceOf(TopicError);
      }
      const valid = len >= 1 && len <= 64 && /^[A-Za-z0-9_-]+$/.test(id);
      expect(topic !== null, `id ${JSON.stringify(id)}`).toBe(valid);
      if (topic) {
        expect(topic).not.toMatch(/[+#]/);
        expect(topic.includes('\u0000')).toBe(false);
      }
    }
  });
});

describe('TOPICS (the typed map)', () => {
  it('says who sends each kind: acks, models and commands come from the cloud, the rest from the agent', () => {
    const fromCloud = KINDS.filter((k) => TOPICS[k].from === 'cloud').sort();
    expect(fromCloud).toEqual(['ack', 'commands', 'events-ack', 'model']);
    expect(KINDS.filter((k) => TOPICS[k].retained).sort()).toEqual(['model', 'status']);
  });

  it('vehicleTopics builds every kind of one vehicle, each as vehicleTopic does', () => {
    const all = vehicleTopics('acme', 'van-1', 'test/b');
    expect(Object.keys(all).sort()).toEqual([...KINDS].sort());
    for (const k of KINDS) expect(all[k]).toBe(vehicleTopic(k, 'acme', 'van-1', 'test/b'));
    expect(all.commands).toBe('test/b/v1/acme/van-1/commands');
    expect(() => vehicleTopics('acme', 'van/1')).toThrow(TopicError);
  });
});

describe('fleetFilter', () => {
  it('matches every tenant and vehicle of one kind with single-level wildcards', () => {
    expect(fleetFilter('telemetry')).toBe('fleet/v1/+/+/telemetry');
    expect(fleetFilter('status', 'test/abc')).toBe('test/abc/v1/+/+/status');
  });
});

describe('parseVehicleTopic', () => {
  it('is the inverse of vehicleTopic', () => {
    const cases: [string, string, string][] = [
      ['acme', 'van-1', DEFAULT_BASE_TOPIC],
      ['T_1', 'V-2', 'test/abc123'],
      ['a', 'b', 'x'],
      ['t'.repeat(64), 'v'.repeat(64), 'deep/nested/base'],
    ];
    for (const [tenantId, vehicleId, base] of cases) {
      for (const kind of KINDS) {
        const topic = vehicleTopic(kind, tenantId, vehicleId, base);
        expect(parseVehicleTopic(topic, base)).toEqual({ tenantId, vehicleId, kind });
      }
    }
  });

  it('uses the default base when none is given', () => {
    expect(parseVehicleTopic('fleet/v1/acme/van-1/status')).toEqual({
      tenantId: 'acme',
      vehicleId: 'van-1',
      kind: 'status',
    });
  });

  it.each([
    ['another base', 'other/v1/acme/van-1/telemetry'],
    ['a base that only starts like ours', 'fleetx/v1/acme/van-1/telemetry'],
    ['another version', 'fleet/v2/acme/van-1/telemetry'],
    ['no version', 'fleet/acme/van-1/telemetry'],
    ['an unknown kind', 'fleet/v1/acme/van-1/diagnostics'],
    ['a missing level', 'fleet/v1/acme/telemetry'],
    ['an extra level', 'fleet/v1/acme/van-1/telemetry/extra'],
    ['a trailing slash', 'fleet/v1/acme/van-1/telemetry/'],
    ['an empty tenant', 'fleet/v1//van-1/telemetry'],
    ['an empty vehicle', 'fleet/v1/acme//telemetry'],
    ['a wildcard tenant', 'fleet/v1/+/van-1/telemetry'],
    ['a wildcard vehicle', 'fleet/v1/acme/#/telemetry'],
    ['a vehicle id that is too long', `fleet/v1/acme/${'v'.repeat(65)}/telemetry`],
    ['an empty topic', ''],
  ])('returns null for %s', (_what, topic) => {
    expect(parseVehicleTopic(topic)).toBeNull();
  });

  it('returns null for a topic of the default base when parsing for another base', () => {
    expect(parseVehicleTopic('fleet/v1/acme/van-1/telemetry', 'test/base')).toBeNull();
  });

  it('accepts exactly the ids ID_PATTERN accepts', () => {
    for (const id of ['a', 'A-Z_0-9', 'x'.repeat(64)]) {
      expect(ID_PATTERN.test(id)).toBe(true);
      expect(parseVehicleTopic(`fleet/v1/${id}/${id}/telemetry`)).not.toBeNull();
    }
  });
});

/** Small seeded PRNG (mulberry32), so a failing random case can be reproduced. */
