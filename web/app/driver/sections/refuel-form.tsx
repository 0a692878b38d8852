'use client';

import {
  type ChangeEvent,
  type FormEvent,
  type InputHTMLAttributes,
  type Key,
  startTransition,
  useEffect,
  useId,
  useState,
} from 'react';
import type { FuelType, RefuelDraft } from '../../../lib/offline/queue.ts';
import { prepareReceipt, type QueuedReceipt } from '../../../lib/offline/receipt.ts';
import { fromKm, fromLitres, METRIC, toKm, toLitres } from '../../../lib/units.ts';
import { useDriverText } from '../i18n/driver-text-context.tsx';
import { type DriverText, driverText } from '../i18n/i18n.ts';

/** The API's fuel types (refuels.log), in the order a driver most often needs them. */
const FUEL_TYPES = [
  'diesel',
  'petrol',
  'lpg',
  'cng',
  'adblue',
  'electric',
] as const satisfies readonly FuelType[];
/** The API's limits (refuels.ts), in litres and kilometres. */
const MAX_LITRES = 2000;
const MAX_ODOMETER_KM = 10_000_000;

/** The API's window for a refuel's time (refuels.ts): up to 31 days back, 10 minutes ahead. */
const MAX_AGE_MS = 31 * 86_400_000;
const FUTURE_TOLERANCE_MS = 10 * 60_000;

type Field = 'litres' | 'amount' | 'currency' | 'odometerKm' | 'station' | 'time' | 'receipt';
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

/**
 * Checks the form the way the API will, so a refuel queued offline is not refused later. The
 * volume and odometer are typed in the user's units and sent in litres and kilometres (an
 * electric charge is kWh whatever the units).
 */
export function validateRefuel(
  form: FormData,
  now: number,
  text: DriverText = driverText('en', METRIC),
): { draft: RefuelDraft } | { errors: Errors } {
  const { t, num, units } = text;
  const errors: Errors = {};
  const fuelType = String(form.get('fuelType') ?? '') as FuelType;
  const volumeUnit = fuelType === 'electric' ? 'l' : units.volume;
  const typed = optionalNumber(String(form.get('litres') ?? ''));
  const litres = typeof typed === 'number' ? Math.round(toLitres(typed, volumeUnit) * 1000) / 1000 : typed;
  if (litres === null) errors.litres = t('refuel.err.volumeMissing');
  else if (litres === 'bad' || litres <= 0 || litres > MAX_LITRES)
    errors.litres = t('refuel.err.volumeRange', {
      label: t(`refuel.volume.${units.volume}`),
      max: num(fromLitres(MAX_LITRES, volumeUnit), volumeUnit === 'l' ? 0 : 1),
    });
  const amount = optionalNumber(String(form.get('amount') ?? ''));
  if (amount === 'bad' || (amount !== null && (amount < 0 || amount > 1_000_000)))
    errors.amount = t('refuel.err.amount');
  const currency = String(form.get('currency') ?? '')
    .trim()
    .toUpperCase();
  if (amount !== null && !/^[A-Z]{3}$/.test(currency)) errors.currency = t('refuel.err.currency');
  const typedOdometer = optionalNumber(String(form.get('odometerKm') ?? ''));
  const odometer =
    typeof typedOdometer === 'number'
      ? Math.round(toKm(typedOdometer, units.distance) * 10) / 10
      : typedOdometer;
  if (odometer === 'bad' || (odometer !== null && (odometer < 0 || odometer > MAX_ODOMETER_KM)))
    errors.odometerKm = t('refuel.err.odometer', { max: num(fromKm(MAX_ODOMETER_KM, units.distance)) });
  const station = String(form.get('station') ?? '').trim();
  if (station.length > 200) errors.station = t('refuel.err.station');
  const timeText = String(form.get('time') ?? '');
  const ts = timeText ? new Date(timeText).getTime() : Number.NaN;
  if (!Number.isFinite(ts)) errors.time = t('refuel.err.timeMissing');
  else if (ts > now + FUTURE_TOLERANCE_MS) errors.time = t('refuel.err.timeFuture');
  else if (ts < now - MAX_AGE_MS) errors.time = t('refuel.err.timeOld');
  if (Object.keys(errors).length > 0) return { errors };
  return {
    draft: {
      ts,
      litres: litres as number,
      amount: amount as number | null,
      currency: amount === null ? null : currency,
      fuelType: FUEL_TYPES.some((v) => v === fuelType) ? fuelType : 'diesel',
      station: station || null,
      odometerKm: odometer as number | null,
    },
  };
}

/** The fields in the order of the form (the error summary lists them so). */
const FIELDS: readonly Field[] = ['litres', 'amount', 'currency', 'odometerKm', 'station', 'time', 'receipt'];

/** A file size the way a phone user reads one: "3.4 MB", "212 kB" (in the page's locale). */
export function byteSize(bytes: number, num: DriverText['num']): string {
  return bytes >= 1024 * 1024
    ? `${num(bytes / (1024 * 1024), 1)} MB`
    : `${num(Math.max(1, bytes / 1024))} kB`;
}

/** The photo field's state: none chosen, being compressed, ready to queue, or unreadable. */
type Photo =
  | { state: 'none' }
  | { state: 'working' }
  | { state: 'ready'; receipt: QueuedReceipt }
  | { state: 'bad' };

/**
 * The refuel log form. It never waits for the network: a valid refuel goes to the phone's outbox
 * at once (the parent's `onSubmit`), and the outbox sends it when there is a connection. A
 * receipt photo is compressed as soon as it is chosen (lib/offline/receipt.ts) and queued with it.
 */
export function RefuelForm({
  onSubmit,
}: {
  onSubmit: (draft: RefuelDraft, receipt: QueuedReceipt | null) => Promise<void>;
}) {
  const text = useDriverText();
  const { t, units } = text;
  const labels: Record<Field, string> = {
    litres: t(`refuel.volume.${units.volume}`),
    amount: t('refuel.amount'),
    currency: t('refuel.currency'),
    odometerKm: t('refuel.odometer'),
    station: t('refuel.station'),
    time: t('refuel.time'),
    receipt: t('refuel.photo'),
  };
  const [errors, setErrors] = useState<Errors>({});
  const [photo, setPhoto] = useState<Photo>({ state: 'none' });
  const [busy, setBusy] = useState(false);
  const [now, setNow] = useState<number | null>(null);
  const id = useId();
  // In a transition: the form renders again in slices, not in one long task after hydration.
  useEffect(() => startTransition(() => setNow(Date.now())), []);
  const fieldId = (f: Field) => `${id}-${f}`;
  const errorId = (f: Field) => `${id}-${f}-error`;

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const checked = validateRefuel(new FormData(form), Date.now(), text);
    const found: Errors = 'errors' in checked ? { ...checked.errors } : {};
    if (photo.state === 'bad') found.receipt = t('refuel.err.photo');
    if ('errors' in checked || found.receipt) {
      setErrors(found);
      const first = FIELDS.find((f) => found[f]);
      if (first) document.getElementById(fieldId(first))?.focus();
      return;
    }
    setErrors({});
    setBusy(true);
    try {
      await onSubmit(checked.draft, photo.state === 'ready' ? photo.receipt : null);
      form.reset();
      setPhoto({ state: 'none' });
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
  const errorList = FIELDS.filter((f) => errors[f]);

  async function photoChosen(event: ChangeEvent<HTMLInputElement>) {
    const file = event.currentTarget.files?.[0];
    setErrors(({ receipt: _, ...rest }) => rest);
    if (!file) return setPhoto({ state: 'none' });
    setPhoto({ state: 'working' });
    try {
      setPhoto({ state: 'ready', receipt: await prepareReceipt(file) });
    } catch {
      setPhoto({ state: 'bad' });
      setErrors((e) => ({ ...e, receipt: t('refuel.err.photo') }));
    }
  }
  const photoStatusId = `${id}-receipt-status`;

  return (
    <form className="refuel-form" onSubmit={submit} noValidate aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{t('refuel.title')}</h2>
      <p className="hint">{t('refuel.hint')}</p>
      {/* Always present, so screen readers announce the summary when it fills. */}
      <div role="alert" className="form-errors">
        {errorList.length > 0 ? (
          <>
            <p>{t('refuel.attention', { n: errorList.length })}</p>
            <ul>
              {errorList.map((f) => (
                <li key={f}>
                  <a href={`#${fieldId(f)}`}>
                    {labels[f]}: {errors[f]}
                  </a>
                </li>
              ))}
            </ul>
          </>
        ) : null}
      </div>
      {field('litres', t(`refuel.volumeRequired.${units.volume}`), { inputMode: 'decimal', required: true })}
      <div className="field">
        <label htmlFor={`${id}-fuelType`}>{t('refuel.fuel')}</label>
        <select id={`${id}-fuelType`} name="fuelType" defaultValue="diesel">
          {FUEL_TYPES.map((value) => (
            <option key={value} value={value}>
              {t(`fuelOption.${value}`)}
            </option>
          ))}
        </select>
      </div>
      <div className="field-row">
        {field('amount', t('refuel.amount'), { inputMode: 'decimal' })}
        {field(
          'currency',
          t('refuel.currency'),
          { defaultValue: 'EUR', maxLength: 3, autoCapitalize: 'characters' },
          'field field--short',
        )}
      </div>
      {field('odometerKm', t(`refuel.odometer.${units.distance}`), { inputMode: 'numeric' })}
      {field('station', t('refuel.station'), { maxLength: 200 })}
      {field('time', t('refuel.time'), {
        key: now ?? 'first',
        type: 'datetime-local',
        // Empty in the server's HTML (it has no idea of the phone's clock), now once mounted.
        defaultValue: now === null ? '' : localInputValue(now),
      })}
      <div className="field">
        <label htmlFor={fieldId('receipt')}>{t('refuel.photo')}</label>
        <input
          id={fieldId('receipt')}
          name="receipt"
          type="file"
          accept="image/*"
          capture="environment"
          onChange={(e) => void photoChosen(e)}
          aria-invalid={errors.receipt ? true : undefined}
          aria-describedby={[photoStatusId, errors.receipt ? errorId('receipt') : null]
            .filter(Boolean)
            .join(' ')}
        />
        {/* Polite: the driver hears when the photo is ready and how much smaller it became. */}
        <p id={photoStatusId} className="hint" aria-live="polite" data-testid="receipt-status">
          {photo.state === 'working'
            ? t('refuel.photoWorking')
            : photo.state === 'ready'
              ? t('refuel.photoSize', {
                  original: byteSize(photo.receipt.originalBytes, text.num),
                  compressed: byteSize(photo.receipt.blob.size, text.num),
                })
              : t('refuel.photoHint')}
        </p>
        {errors.receipt ? (
          <p id={errorId('receipt')} className="field-error">
            {errors.receipt}
          </p>
        ) : null}
      </div>
      <button type="submit" disabled={busy || photo.state === 'working'}>
        {busy ? t('refuel.saving') : t('refuel.submit')}
      </button>
    </form>
  );
}
