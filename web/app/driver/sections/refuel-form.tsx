'use client';

import { type FormEvent, type InputHTMLAttributes, type Key, useEffect, useId, useState } from 'react';
import type { FuelType, RefuelDraft } from '../../../lib/offline/queue.ts';

/** The API's fuel types (refuels.log), in the order a driver most often needs them. */
const FUEL_TYPES = [
  ['diesel', 'Diesel'],
  ['petrol', 'Petrol'],
  ['lpg', 'LPG'],
  ['cng', 'CNG'],
  ['adblue', 'AdBlue'],
  ['electric', 'Electric (kWh)'],
] as const satisfies readonly (readonly [FuelType, string])[];

/** The API's window for a refuel's time (refuels.ts): up to 31 days back, 10 minutes ahead. */
const MAX_AGE_MS = 31 * 86_400_000;
const FUTURE_TOLERANCE_MS = 10 * 60_000;

type Field = 'litres' | 'amount' | 'currency' | 'odometerKm' | 'station' | 'time';
type Errors = Partial<Record<Field, string>>;

/** The value a datetime-local input shows for `ms` in the phone's time zone. */
function localInputValue(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}

function optionalNumber(raw: string): number | null | 'bad' {
  const text = raw.trim().replace(',', '.');
  if (text === '') return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : 'bad';
}

/** Checks the form the way the API will, so a refuel queued offline is not refused later. */
export function validateRefuel(form: FormData, now: number): { draft: RefuelDraft } | { errors: Errors } {
  const errors: Errors = {};
  const litres = optionalNumber(String(form.get('litres') ?? ''));
  if (litres === null) errors.litres = 'Enter the litres you filled.';
  else if (litres === 'bad' || litres <= 0 || litres > 2000)
    errors.litres = 'Litres must be a number above 0 and at most 2,000.';
  const amount = optionalNumber(String(form.get('amount') ?? ''));
  if (amount === 'bad' || (amount !== null && (amount < 0 || amount > 1_000_000)))
    errors.amount = 'The amount paid must be a number from 0 to 1,000,000.';
  const currency = String(form.get('currency') ?? '')
    .trim()
    .toUpperCase();
  if (amount !== null && !/^[A-Z]{3}$/.test(currency))
    errors.currency = 'Enter the currency as three letters, such as EUR.';
  const odometer = optionalNumber(String(form.get('odometerKm') ?? ''));
  if (odometer === 'bad' || (odometer !== null && (odometer < 0 || odometer > 10_000_000)))
    errors.odometerKm = 'The odometer reading must be a number of kilometres from 0 to 10,000,000.';
  const station = String(form.get('station') ?? '').trim();
  if (station.length > 200) errors.station = 'The station name can be at most 200 characters.';
  const timeText = String(form.get('time') ?? '');
  const ts = timeText ? new Date(timeText).getTime() : Number.NaN;
  if (!Number.isFinite(ts)) errors.time = 'Enter the date and time of the refuel.';
  else if (ts > now + FUTURE_TOLERANCE_MS) errors.time = 'The refuel time cannot be in the future.';
  else if (ts < now - MAX_AGE_MS) errors.time = 'Refuels older than 31 days cannot be logged here.';
  const fuelType = String(form.get('fuelType') ?? '') as FuelType;
  if (Object.keys(errors).length > 0) return { errors };
  return {
    draft: {
      ts,
      litres: litres as number,
      amount: amount as number | null,
      currency: amount === null ? null : currency,
      fuelType: FUEL_TYPES.some(([v]) => v === fuelType) ? fuelType : 'diesel',
      station: station || null,
      odometerKm: odometer as number | null,
    },
  };
}

const LABELS: Record<Field, string> = {
  litres: 'Litres',
  amount: 'Amount paid',
  currency: 'Currency',
  odometerKm: 'Odometer',
  station: 'Station',
  time: 'Date and time',
};

/**
 * The refuel log form. It never waits for the network: a valid refuel goes to the phone's outbox
 * at once (the parent's `onSubmit`), and the outbox sends it when there is a connection.
 */
export function RefuelForm({ onSubmit }: { onSubmit: (draft: RefuelDraft) => Promise<void> }) {
  const [errors, setErrors] = useState<Errors>({});
  const [busy, setBusy] = useState(false);
  const [now, setNow] = useState<number | null>(null);
  const id = useId();
  useEffect(() => setNow(Date.now()), []);
  const fieldId = (f: Field) => `${id}-${f}`;
  const errorId = (f: Field) => `${id}-${f}-error`;

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const checked = validateRefuel(new FormData(form), Date.now());
    if ('errors' in checked) {
      setErrors(checked.errors);
      const first = (Object.keys(LABELS) as Field[]).find((f) => checked.errors[f]);
      if (first) document.getElementById(fieldId(first))?.focus();
      return;
    }
    setErrors({});
    setBusy(true);
    try {
      await onSubmit(checked.draft);
      form.reset();
      setNow(Date.now());
    } finally {
      setBusy(false);
    }
  }

  /**
   * One input with its label, and its error under it (tied by aria-describedby) when it has one.
   * A new `key` makes a new input, so a changed defaultValue shows.
   */
  const field = (
    f: Field,
    label: string,
    { key, ...input }: InputHTMLAttributes<HTMLInputElement> & { key?: Key },
    className = 'field',
  ) => (
    <div key={key} className={className}>
      <label htmlFor={fieldId(f)}>{label}</label>
      <input
        id={fieldId(f)}
        name={f}
        autoComplete="off"
        aria-invalid={errors[f] ? true : undefined}
        aria-describedby={errors[f] ? errorId(f) : undefined}
        {...input}
      />
      {errors[f] ? (
        <p id={errorId(f)} className="field-error">
          {errors[f]}
        </p>
      ) : null}
    </div>
  );
  const errorList = (Object.keys(LABELS) as Field[]).filter((f) => errors[f]);

  return (
    <form className="refuel-form" onSubmit={submit} noValidate aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Log a refuel</h2>
      <p className="hint">
        Works without signal: the refuel is kept on this phone and sent when you are back online.
      </p>
      {/* Always present, so screen readers announce the summary when it fills. */}
      <div role="alert" className="form-errors">
        {errorList.length > 0 ? (
          <>
            <p>
              {errorList.length === 1 ? 'One field needs' : `${errorList.length} fields need`} your attention:
            </p>
            <ul>
              {errorList.map((f) => (
                <li key={f}>
                  <a href={`#${fieldId(f)}`}>
                    {LABELS[f]}: {errors[f]}
                  </a>
                </li>
              ))}
            </ul>
          </>
        ) : null}
      </div>
      {field('litres', 'Litres (required)', { inputMode: 'decimal', required: true })}
      <div className="field">
        <label htmlFor={`${id}-fuelType`}>Fuel</label>
        <select id={`${id}-fuelType`} name="fuelType" defaultValue="diesel">
          {FUEL_TYPES.map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </div>
      <div className="field-row">
        {field('amount', 'Amount paid', { inputMode: 'decimal' })}
        {field(
          'currency',
          'Currency',
          { defaultValue: 'EUR', maxLength: 3, autoCapitalize: 'characters' },
          'field field--short',
        )}
      </div>
      {field('odometerKm', 'Odometer (km)', { inputMode: 'numeric' })}
      {field('station', 'Station', { maxLength: 200 })}
      {field('time', 'Date and time', {
        key: now ?? 'first',
        type: 'datetime-local',
        // Empty in the server's HTML (it has no idea of the phone's clock), now once mounted.
        defaultValue: now === null ? '' : localInputValue(now),
      })}
      <button type="submit" disabled={busy}>
        {busy ? 'Saving…' : 'Log refuel'}
      </button>
    </form>
  );
}
