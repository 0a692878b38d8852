import { afterEach, describe, expect, it } from 'vitest';
import { CloudError } from '../errors.ts';
import type { Session } from './session.ts';
import { cachedSession, cacheSession, configureSessionCache, forgetCachedSessions } from './session-cache.ts';

const session: Session = {
  userId: 'u1',
  tenantId: 'acme',
  email: 'a@acme.test',
  name: 'A',
  role: 'admin',
  vehicleId: null,
};

afterEach(() => configureSessionCache({ ttlMs: 5000 }));

describe('session cache', () => {
  it('believes a confirmed session for its time to live, not a millisecond longer', () => {
    configureSessionCache({ ttlMs: 1000 });
    cacheSession('t', session, 10_000);
    expect(cachedSession('t', 10_999)).toBe(session);
    expect(cachedSession('t', 11_000)).toBeUndefined();
  });

  it('0 turns it off; forgetting clears every entry', () => {
    configureSessionCache({ ttlMs: 0 });
    cacheSession('t', session, 0);
    expect(cachedSession('t', 0)).toBeUndefined();
    configureSessionCache({ ttlMs: 1000 });
    cacheSession('t', session, 0);
    forgetCachedSessions();
    expect(cachedSession('t', 1)).toBeUndefined();
  });

  it('refuses a time to live that would never expire (NaN) or is negative', () => {
    for (const ttlMs of [Number.NaN, -1, Number.POSITIVE_INFINITY]) {
      expect(() => configureSessionCache({ ttlMs }), String(ttlMs)).toThrow(CloudError);
      expect(() => configureSessionCache({ ttlMs }), String(ttlMs)).toThrow(/number of ms >= 0/);
    }
  });
});
