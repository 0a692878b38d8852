'use client';

import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { driverApi, isNetworkFailure } from '../driver-api.ts';
import { useDriverText } from '../i18n/driver-text-context.tsx';

type Allowed = Awaited<ReturnType<typeof driverApi.assignments.allowed.query>>;

const label = (v: Allowed[number]) =>
  [v.plate ?? v.id, [v.make, v.model].filter(Boolean).join(' '), v.groupName && `(${v.groupName})`]
    .filter(Boolean)
    .join(' ');

/**
 * "Which vehicle are you driving?": the vehicles of the driver's groups (assignments.allowed);
 * checking in ends whoever had the vehicle before, from now on, and everything the vehicle records
 * from then on is credited to this driver. Needs a connection: who drives what is decided by the
 * cloud, never queued on the phone.
 */
export function CheckInCard({
  currentVehicleId,
  online,
  onChanged,
}: {
  currentVehicleId: string | null;
  online: boolean;
  onChanged: (message: string) => Promise<void>;
}) {
  const { t } = useDriverText();
  const [vehicles, setVehicles] = useState<Allowed | null>(null);
  const [choice, setChoice] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    try {
      const list = await driverApi.assignments.allowed.query();
      setVehicles(list);
      setError(null);
    } catch (e) {
      setError(
        isNetworkFailure(e)
          ? t('checkIn.needsConnectionToChoose')
          : t('checkIn.loadFailed', { reason: e instanceof Error ? e.message : t('common.unknownError') }),
      );
    }
  }, [t]);
  useEffect(() => {
    if (online) void load();
  }, [online, load]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!choice) {
      setError(t('checkIn.choose'));
      return;
    }
    setBusy(true);
    try {
      await driverApi.assignments.checkIn.mutate({ vehicleId: choice });
      const v = vehicles?.find((x) => x.id === choice);
      setChoice('');
      setError(null);
      await load();
      await onChanged(t('checkIn.done', { vehicle: v ? label(v) : choice }));
    } catch (err) {
      setError(
        isNetworkFailure(err)
          ? t('checkIn.needsConnection')
          : t('checkIn.failed', { reason: err instanceof Error ? err.message : t('common.unknownError') }),
      );
    } finally {
      setBusy(false);
    }
  };

  const others = vehicles?.filter((v) => v.id !== currentVehicleId) ?? [];
  const current = vehicles?.find((v) => v.id === currentVehicleId);
  return (
    <section aria-labelledby="check-in-title" className="card" data-testid="check-in">
      <h2 id="check-in-title">{t('checkIn.title')}</h2>
      <p data-testid="current-vehicle">
        {currentVehicleId
          ? t('checkIn.current', { vehicle: current ? label(current) : currentVehicleId })
          : t('checkIn.none')}
      </p>
      {vehicles && others.length === 0 ? <p>{t('checkIn.noOther')}</p> : null}
      {others.length > 0 ? (
        <form onSubmit={submit} aria-label={t('checkIn.formLabel')} noValidate>
          <fieldset>
            <legend>{currentVehicleId ? t('checkIn.change') : t('checkIn.formLabel')}</legend>
            {others.map((v) => (
              <label key={v.id} className="choice">
                <input
                  type="radio"
                  name="check-in-vehicle"
                  value={v.id}
                  checked={choice === v.id}
                  onChange={() => setChoice(v.id)}
                  aria-describedby={error ? 'check-in-error' : undefined}
                />{' '}
                {label(v)}
                {v.takenBy ? t('checkIn.drivenBy', { name: v.takenBy }) : ''}
              </label>
            ))}
          </fieldset>
          <button type="submit" aria-busy={busy} disabled={!online}>
            {t('checkIn.button')}
          </button>
        </form>
      ) : null}
      {error ? (
        <p id="check-in-error" className="error-text" role="alert">
          {error}
        </p>
      ) : null}
    </section>
  );
}
