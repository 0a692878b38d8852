import { describe, expect, it } from 'vitest';
import { validateRefuel } from './refuel-form.tsx';

const NOW = Date.UTC(2026, 10, 26, 12, 0);

function form(fields: Record<string, string>): FormData {
  const f = new FormData();
  const base = {
    litres: '40',
    fuelType: 'diesel',
    amount: '',
    currency: 'EUR',
    odometerKm: '',
    station: '',
    time: '',
  };
  for (const [k, v] of Object.entries({ ...base, ...fields })) f.set(k, v);
  return f;
}

/** A datetime-local value (no zone: the runtime's), `ms` from NOW. */
const local = (ms: number) => {
  const d = new Date(NOW + ms);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
};

describe('refuel form validation (what the API will accept, checked before queueing offline)', () => {
  it('turns a valid form into a draft, decimal comma included, empty optionals as null', () => {
    const r = validateRefuel(
      form({ litres: '42,5', amount: '71.23', currency: 'eur', time: local(-60_000) }),
      NOW,
    );
    expect(r).toEqual({
      draft: {
        ts: NOW - 60_000,
        litres: 42.5,
        amount: 71.23,
        currency: 'EUR',
        fuelType: 'diesel',
        station: null,
        odometerKm: null,
      },
    });
  });

  it('names every wrong field with a message', () => {
    const r = validateRefuel(
      form({
        litres: '0',
        amount: 'abc',
        odometerKm: '-1',
        station: 'x'.repeat(201),
        time: local(3_600_000),
      }),
      NOW,
    );
    expect('errors' in r && Object.keys(r.errors).sort()).toEqual([
      'amount',
      'litres',
      'odometerKm',
      'station',
      'time',
    ]);
  });

  it('refuses a missing litres value, a currency that is not three letters, and a refuel over 31 days old', () => {
    const r = validateRefuel(
      form({ litres: '', amount: '10', currency: 'EU', time: local(-32 * 86_400_000) }),
      NOW,
    );
    expect('errors' in r && Object.keys(r.errors).sort()).toEqual(['currency', 'litres', 'time']);
  });

  it('drops the currency when no amount was entered', () => {
    const r = validateRefuel(form({ time: local(0) }), NOW);
    expect('draft' in r && r.draft.currency).toBeNull();
  });
});
